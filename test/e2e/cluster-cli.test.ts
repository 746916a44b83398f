import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, listClusters } from "../../src/provision/index.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { nodectl, type NodectlRun } from "./support/node-nodectl.js";

/**
 * `nodectl cluster create` as a user runs it: it mints cluster secrets,
 * boots the node with its config on QEMU fw_cfg (opt/dev.cairn/config), and
 * writes a context. The node must come up already configured — no
 * apply-config — which proves the first-boot config source end to end.
 */
const BOOT_BUDGET_MS = 120_000;

describe("nodectl cluster create with a first-boot config over fw_cfg", () => {
  const tmp = mkdtempSync("/tmp/cairn-e2e-cli-");
  const config = join(tmp, "nodectlconfig");
  const stateRoot = join(tmp, "clusters");
  const env = (args: string[]) => nodectl(args, { config, timeoutMs: 60_000 });
  let created: NodectlRun;

  beforeAll(async () => {
    const { image } = e2eImage();
    created = await env(["cluster", "create", "fwcfg", "--image", image.raw, "--state-root", stateRoot, "--memory", "512"]);
  });

  afterAll(async () => {
    await env(["cluster", "destroy", "fwcfg", "--state-root", stateRoot]);
    rmSync(tmp, { recursive: true, force: true });
  });

  function consoleTail(): string {
    try {
      return readFileSync(join(stateRoot, "fwcfg", "fwcfg-node-1", "console.log"), "utf8").split("\n").slice(-25).join("\n");
    } catch {
      return "(no console log)";
    }
  }

  it("boots configured from fw_cfg: Version answers over mTLS with the written context", async () => {
    expect(created.code, created.transcript).toBe(0);
    const deadline = Date.now() + BOOT_BUDGET_MS;
    let last: NodectlRun | undefined;
    while (Date.now() < deadline) {
      last = await env(["version", "-o", "json"]);
      if (last.code === 0) break;
      await sleep(1000);
    }
    expect(last?.code, `${last?.transcript}\n--- console ---\n${consoleTail()}`).toBe(0);
    const [v] = JSON.parse(last?.stdout ?? "[]") as { maintenance: boolean; osVersion: string; bootedSlot: string; runtimeMode: string }[];
    expect(v).toMatchObject({ maintenance: false, osVersion: E2E_VERSION, bootedSlot: "A", runtimeMode: "metal" });
    // Stats carries the kernel's real figures (a fractional CPU-seconds value once broke its encoding).
    const stats = await env(["stats", "-o", "json"]);
    expect(stats.code, stats.transcript).toBe(0);
    const [s] = JSON.parse(stats.stdout) as { memory: { total: number; initRss: number }; cpu: { count: number }; mounts: { target: string; readOnly: boolean }[] }[];
    expect(s?.memory.total).toBeGreaterThan(0);
    expect(s?.memory.initRss).toBeGreaterThan(0);
    expect(s?.mounts.find((m) => m.target === "/")?.readOnly).toBe(true);
    const events = await env(["events", "--tail", "50"]);
    expect(events.stdout, events.transcript).toMatch(/config\.firstboot\s+config taken from fw_cfg/);
  });

  it("destroys the cluster and leaves no QEMU behind", async () => {
    const [listing] = (await listClusters(stateRoot)).filter((c) => c.state.name === "fwcfg");
    const pids = listing?.state.nodes.map((n) => n.pid) ?? [];
    expect(pids.length).toBe(1);
    const destroyed = await env(["cluster", "destroy", "fwcfg", "--state-root", stateRoot]);
    expect(destroyed.code, destroyed.transcript).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(await listClusters(stateRoot)).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, listClusters } from "../../src/provision/index.js";
import { buildTestImage, type BuiltImage } from "./support/image-build.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { nodectl, type NodectlRun } from "./support/node-nodectl.js";
import type { SlotJson, VersionJson } from "./support/version-json.js";

/**
 * A/B upgrade on a real VM (OVMF + systemd-boot): a 0.1.0 node takes the
 * signed 0.2.0 bundle, reboots into slot B (the firmware counts the try),
 * machined blesses the boot after its grace period, and `nodectl rollback
 * --reboot` brings 0.1.0 back from slot A. Every step is proven by
 * Version: os_version, booted_slot, boot_id and the slots' states.
 */
const NEXT_VERSION = "0.2.0";
/** A release whose PID 1 exits at once: every boot of it panics and reboots. */
const CRASH_VERSION = "0.3.0";
/** Three panicking boots of the crashing slot plus the fallback boot. */
const FALLBACK_BUDGET_MS = 300_000;
const BOOT_BUDGET_MS = 150_000;
/** Default bless grace (10 s) plus slack for a loaded TCG host. */
const BLESS_BUDGET_MS = 60_000;

describe("A/B upgrade and rollback on QEMU", () => {
  const tmp = mkdtempSync("/tmp/cairn-e2e-upg-");
  const config = join(tmp, "nodectlconfig");
  const stateRoot = join(tmp, "clusters");
  const ctl = (args: string[], timeoutMs = 60_000) => nodectl(args, { config, timeoutMs });
  const timings: Record<string, number> = {};
  let next: BuiltImage;
  let crashing: BuiltImage;
  let created: NodectlRun;

  function consoleText(): string {
    try {
      return readFileSync(join(stateRoot, "upg", "upg-node-1", "console.log"), "utf8");
    } catch {
      return "(no console log)";
    }
  }

  function consoleTail(lines = 40): string {
    return consoleText().split("\n").slice(-lines).join("\n");
  }

  /** Polls `nodectl version` until `until` holds; fails with the last answer and the console tail. */
  async function pollVersion(what: string, until: (v: VersionJson) => boolean, budgetMs = BOOT_BUDGET_MS): Promise<VersionJson> {
    const deadline = Date.now() + budgetMs;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      const r = await ctl(["version", "-o", "json"], 20_000);
      if (r.code === 0) {
        const [v] = JSON.parse(r.stdout) as VersionJson[];
        if (v && until(v)) return v;
        last = JSON.stringify(v);
      } else {
        last = r.transcript;
      }
      await sleep(1000);
    }
    throw new Error(`waiting for ${what}: no matching Version within ${budgetMs / 1000} s; last: ${last}\n--- console tail ---\n${consoleTail()}`);
  }

  const slot = (v: VersionJson, name: string) => v.slots.find((s) => s.name === name);
  const isState = (s: SlotJson | undefined, state: string) => s !== undefined && (s.state === state || s.state === `SLOT_STATE_${state}`);

  beforeAll(async () => {
    const { image } = e2eImage();
    next = buildTestImage({ version: NEXT_VERSION, entry: "cmd/machined.ts", subdir: "e2e-upgrade" });
    crashing = buildTestImage({ version: CRASH_VERSION, entry: "src/image/testdata/crash-init.ts", subdir: "e2e-upgrade-crash" });
    created = await ctl(["cluster", "create", "upg", "--image", image.raw, "--state-root", stateRoot, "--memory", "512"]);
  });

  afterAll(async () => {
    await ctl(["cluster", "destroy", "upg", "--state-root", stateRoot]);
    rmSync(tmp, { recursive: true, force: true });
    console.log(`upgrade e2e timings (s): ${JSON.stringify(timings)}`);
  });

  let first: VersionJson;
  let upgraded: VersionJson;
  let back: VersionJson;

  it(`installs ${NEXT_VERSION} into slot B, boots it on trial and blesses it`, async () => {
    expect(created.code, created.transcript).toBe(0);
    first = await pollVersion("the 0.1.0 node", (v) => !v.maintenance);
    expect(first).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A" });
    expect(isState(slot(first, "B"), "EMPTY"), JSON.stringify(first.slots)).toBe(true);

    let t = Date.now();
    const up = await ctl(["upgrade", "--image", next.bundle, "--reboot"], 300_000);
    timings["upload+verify+write"] = (Date.now() - t) / 1000;
    expect(up.code, `${up.transcript}\n--- console tail ---\n${consoleTail()}`).toBe(0);
    expect(up.stdout).toContain(`installed ${NEXT_VERSION} in slot B`);

    t = Date.now();
    upgraded = await pollVersion("slot B to boot", (v) => v.bootId !== first.bootId);
    timings["reboot into B"] = (Date.now() - t) / 1000;
    expect(upgraded).toMatchObject({ osVersion: NEXT_VERSION, bootedSlot: "B", rolledBackFromVersion: "" });
    const trialB = slot(upgraded, "B");
    // Before blessing the firmware's counted try shows: 3 tries, one used.
    if (!isState(trialB, "GOOD")) expect(trialB).toMatchObject({ triesLeft: 2, isDefault: true });
    console.log(`slot B at its first answer: ${JSON.stringify(trialB)}`);

    t = Date.now();
    const blessed = await pollVersion("slot B to be blessed", (v) => isState(slot(v, "B"), "GOOD"), BLESS_BUDGET_MS);
    timings["blessed after"] = (Date.now() - t) / 1000;
    expect(blessed.bootId).toBe(upgraded.bootId);
    expect(slot(blessed, "B")).toMatchObject({ version: NEXT_VERSION, isDefault: true });
    expect(slot(blessed, "A")).toMatchObject({ version: E2E_VERSION, isDefault: false });
    expect(isState(slot(blessed, "A"), "GOOD")).toBe(true);
    const events = await ctl(["events", "--tail", "50"]);
    expect(events.stdout, events.transcript).toMatch(/upgrade\.blessed/);
  });

  it("nodectl rollback --reboot returns to 0.1.0 on slot A", async () => {
    expect(upgraded?.bootedSlot).toBe("B");
    const t = Date.now();
    const rb = await ctl(["rollback", "--reboot"]);
    expect(rb.code, rb.transcript).toBe(0);
    expect(rb.stdout).toContain(`next boot: slot A (${E2E_VERSION})`);
    back = await pollVersion("slot A to boot", (v) => v.bootId !== upgraded.bootId);
    timings["rollback reboot"] = (Date.now() - t) / 1000;
    expect(back).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A" });
    expect(back.bootId).not.toBe(first.bootId);
    expect(slot(back, "A")).toMatchObject({ isDefault: true });
    expect(slot(back, "B")).toMatchObject({ version: NEXT_VERSION, isDefault: false });
    console.log(`boot ids: A/0.1.0 ${first.bootId} → B/${NEXT_VERSION} ${upgraded.bootId} → A/0.1.0 ${back.bootId}`);
  });

  it(`a ${CRASH_VERSION} whose PID 1 dies runs out of boot tries; the node falls back to slot A and says so`, async () => {
    expect(back?.bootedSlot).toBe("A");
    const crashesBefore = (consoleText().match(/CAIRN-CRASH-INIT/g) ?? []).length;
    const t = Date.now();
    const up = await ctl(["upgrade", "--image", crashing.bundle, "--reboot"], 300_000);
    expect(up.code, `${up.transcript}\n--- console tail ---\n${consoleTail()}`).toBe(0);
    const fell = await pollVersion("the fallback boot of slot A", (v) => v.bootId !== back.bootId, FALLBACK_BUDGET_MS);
    timings["3 failed tries + fallback boot"] = (Date.now() - t) / 1000;
    expect(fell).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A", rolledBackFromVersion: CRASH_VERSION });
    expect(isState(slot(fell, "B"), "BAD"), JSON.stringify(fell.slots)).toBe(true);
    expect(slot(fell, "B")).toMatchObject({ version: CRASH_VERSION, triesLeft: 0, isDefault: false });
    expect(slot(fell, "A")).toMatchObject({ isDefault: true });
    // Each try reached the crashing PID 1: the firmware counted exactly three boots of slot B.
    expect((consoleText().match(/CAIRN-CRASH-INIT/g) ?? []).length - crashesBefore).toBe(3);
    const events = await ctl(["events", "--tail", "50"]);
    expect(events.stdout, events.transcript).toMatch(/upgrade\.rolledback/);
    console.log(`fallback boot ${fell.bootId}: ${(fell as VersionJson & { rollbackReason?: string }).rollbackReason}`);
  });

  it("leaves no QEMU behind", async () => {
    const [listing] = (await listClusters(stateRoot)).filter((c) => c.state.name === "upg");
    const pids = listing?.state.nodes.map((n) => n.pid) ?? [];
    expect(pids.length).toBe(1);
    const destroyed = await ctl(["cluster", "destroy", "upg", "--state-root", stateRoot]);
    expect(destroyed.code, destroyed.transcript).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});

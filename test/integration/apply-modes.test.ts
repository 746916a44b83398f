import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyMode } from "../../src/api/index.js";
import { TestCluster, expectCode, nodectl, pollUntil, show, startNode, stopAllNodes, until, type NodeProcess } from "./support/index.js";

// The apply modes against one node, in order: each test starts from the
// state the previous one left (the active config is asserted where it matters).

let cluster: TestCluster;
let node: NodeProcess;

beforeAll(async () => {
  cluster = await TestCluster.create("modes");
  node = await startNode();
  await cluster.configure(node, cluster.withHostname("base"));
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const activeFile = () => readFileSync(join(node.dir, "state/config/active.yaml"), "utf8");

describe("apply modes", () => {
  it("dry run returns a diff with the change and changes nothing", async () => {
    const c = cluster.client(node);
    const before = text((await c.getConfiguration()).data);
    const onDisk = activeFile();
    const res = await c.applyConfiguration({ data: Buffer.from(cluster.withHostname("dry-only")), dryRun: true });
    expect(res.dryRun).toBe(true);
    expect(res.diff).toMatch(/^-\s*hostname: base$/m);
    expect(res.diff).toMatch(/^\+\s*hostname: dry-only$/m);
    expect(res.changes).toEqual([{ path: "machine.hostname", op: "replace", needsReboot: false }]);
    expect(text((await c.getConfiguration()).data)).toBe(before);
    expect(activeFile()).toBe(onDisk);
    expect((await c.version()).hostname).toBe("base");
  });

  it("TRY applies at once and reverts by itself after its timeout", async () => {
    const c = cluster.client(node);
    const res = await c.applyConfiguration({ data: Buffer.from(cluster.withHostname("on-trial")), mode: ApplyMode.APPLY_MODE_TRY, tryTimeoutSeconds: 2 });
    expect(res.mode).toBe(ApplyMode.APPLY_MODE_TRY);
    expect((await c.version()).hostname).toBe("on-trial");
    expect((await c.getConfiguration()).tryPending).toBe(true);
    // The trial lives in memory only.
    expect(activeFile()).toMatch(/hostname: base/);
    const reverted = await pollUntil("the trial to revert", async () => ((await c.version()).hostname === "base" ? true : undefined), { timeoutMs: 10_000 });
    expect(reverted).toBe(true);
    // Not before its deadline.
    expect(Date.now()).toBeGreaterThanOrEqual(Number(res.tryDeadlineUnixMs));
    expect((await c.getConfiguration()).tryPending).toBe(false);
  });

  it("a second apply during TRY confirms it: no revert at the deadline", async () => {
    const c = cluster.client(node);
    const tried = cluster.withHostname("confirmed");
    const res = await c.applyConfiguration({ data: Buffer.from(tried), mode: ApplyMode.APPLY_MODE_TRY, tryTimeoutSeconds: 2 });
    expect((await c.getConfiguration()).tryPending).toBe(true);
    await c.applyConfiguration({ data: Buffer.from(tried), mode: ApplyMode.APPLY_MODE_NO_REBOOT });
    expect((await c.getConfiguration()).tryPending).toBe(false);
    expect(activeFile()).toBe(tried);
    // Wait past the trial's own deadline (reported by the node), plus a margin for the timer.
    await until(Number(res.tryDeadlineUnixMs) + 700);
    expect((await c.version()).hostname).toBe("confirmed");
  });

  it("NO_REBOOT refuses a kernel args change with FAILED_PRECONDITION naming machine.kernel.args", async () => {
    const c = cluster.client(node);
    const before = activeFile();
    const changed = cluster.configWith((d) => {
      d.machine["hostname"] = "confirmed";
      d.machine["kernel"] = { args: ["console=ttyS1"] };
    });
    const err = await expectCode(c.applyConfiguration({ data: Buffer.from(changed), mode: ApplyMode.APPLY_MODE_NO_REBOOT }), status.FAILED_PRECONDITION);
    expect(err.fieldDetails?.map((d) => d.path)).toEqual(["machine.kernel.args"]);
    expect(err.details).toContain("machine.kernel.args");

    const file = join(cluster.dir, "kernel-args.yaml");
    writeFileSync(file, changed);
    const r = await nodectl(["-n", node.address, "apply-config", "-f", file, "--mode", "no-reboot"], cluster.env);
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stdout, show(r)).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    // One error line naming the node and the code; the rest are indented details or the hint.
    expect(lines.filter((l) => l.startsWith("error:")), show(r)).toEqual([expect.stringMatching(new RegExp(`^error: node ${node.address}: FAILED_PRECONDITION: mode no-reboot`))]);
    expect(r.stderr).toMatch(/^\s+machine\.kernel\.args: /m);
    for (const l of lines.slice(1)) expect(l, show(r)).toMatch(/^(\s+\S|hint: )/);
    expect(r.stderr, show(r)).not.toMatch(/^\s+at /m);
    expect(activeFile()).toBe(before);
  });

  it("STAGED waits for the next boot; after Reboot the boot id changed and the staged config is active", async () => {
    const c = cluster.client(node);
    const v0 = await c.version();
    const staged = cluster.withHostname("from-staged");
    const res = await c.applyConfiguration({ data: Buffer.from(staged), mode: ApplyMode.APPLY_MODE_STAGED });
    expect(res.mode).toBe(ApplyMode.APPLY_MODE_STAGED);
    expect((await c.version()).hostname).toBe(v0.hostname);
    const active = await c.getConfiguration();
    expect(active.stagedPending).toBe(true);
    expect(text(active.data)).not.toMatch(/from-staged/);
    expect(text((await c.getConfiguration(true)).data)).toMatch(/hostname: from-staged/);

    await c.reboot();
    const v1 = await pollUntil("the node to come back with a new boot id", async () => {
      const v = await cluster.client(node).version();
      return v.bootId !== v0.bootId ? v : undefined;
    });
    expect(v1.hostname).toBe("from-staged");
    expect(v1.maintenance).toBe(false);
    expect((await cluster.client(node).getConfiguration()).stagedPending).toBe(false);
    expect(activeFile()).toBe(staged);
  });
});

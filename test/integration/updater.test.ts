import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlotState, type VersionResponse } from "../../src/api/index.js";
import { ReleaseRepo, TestCluster, eventsWhen, loggedEvents, nodectl, pollUntil, show, startNode, stopAllNodes, windowAt, type NodeProcess } from "./support/index.js";

// The node's unattended updater (machine.update) on process-mode nodes: a
// real channel published with `nodectl release publish` and served over
// HTTP, real signed bundles, the real install path. Nobody calls nodectl
// upgrade: the nodes find, stage and boot the release themselves.

process.env["CAIRN_BLESS_GRACE_MS"] = "1000";

const tmp = mkdtempSync(join(tmpdir(), "cairn-it-updater-"));
let repo: ReleaseRepo;
let cluster: TestCluster;

function updateConfig(extra: Record<string, unknown>): string {
  return cluster.configWith((d) => {
    d.machine["update"] = { publicKeys: [repo.publicKeyPem], repository: repo.url, channel: "stable", checkIntervalSeconds: 5, ...extra };
  });
}

async function version(node: NodeProcess): Promise<VersionResponse> {
  return cluster.client(node).version();
}

/** Waits until the node answers on `want` in a new boot (pollUntil retries while it reboots). */
function waitForVersion(node: NodeProcess, want: string, timeoutMs: number): Promise<VersionResponse> {
  return pollUntil(`${node.address} on ${want}, blessed`, async () => {
    const v = await version(node);
    const booted = v.slots.find((s) => s.name === v.bootedSlot);
    // Blessed, and the updater has taken note (it finishes an update after the blessing).
    const done = v.updater?.phase !== "awaiting-blessing" && v.updater?.availableVersion === "";
    return v.osVersion === want && booted?.state === SlotState.SLOT_STATE_GOOD && done ? v : undefined;
  }, { timeoutMs, intervalMs: 250, describe: () => node.output() });
}

beforeAll(async () => {
  repo = await ReleaseRepo.start(tmp);
  cluster = await TestCluster.create("updater");
}, 30_000);
afterAll(async () => {
  await stopAllNodes();
  await repo?.stop();
  cluster?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe("unattended updates on one node", () => {
  it("strategy immediate: a published release is found, staged and booted with no nodectl call", async () => {
    await repo.publish("0.0.9"); // older than the running 0.1.0: never picked
    const node = await startNode();
    node.record();
    await cluster.configure(node, updateConfig({ reboot: { strategy: "immediate" } }));
    const before = await version(node);
    expect(before).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A" });
    expect(before.updater).toMatchObject({ enabled: true, channel: "stable", strategy: "immediate" });
    expect(before.updater!.nodeId).toMatch(/^node-[0-9a-f]{16}$/);
    // The node checks on its own and finds nothing newer than 0.1.0; then the release appears.
    await pollUntil("a check that finds nothing", async () => (loggedEvents(node.recorded()).some((e) => e.type === "update.checked" && e.fields["available"] === "") ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
    const t0 = Date.now();
    await repo.publish("2.0.0");

    const after = await waitForVersion(node, "2.0.0", 60_000);
    const tookMs = Date.now() - t0;
    expect(after.bootedSlot).toBe("B");
    expect(after.bootId).not.toBe(before.bootId);
    expect(after.updater).toMatchObject({ enabled: true, stagedVersion: "", availableVersion: "", lastError: "" });
    expect(after.updater!.nodeId).toBe(before.updater!.nodeId); // stable across the reboot and the upgrade

    // Every step, from the node's own event log (it spans both boots).
    const ev = await eventsWhen(node, "update.done in the log", (e) => e.some((x) => x.type === "update.done"));
    const types = ev.map((e) => e.type);
    const idx = (t: string) => types.indexOf(t);
    for (const t of ["update.started", "update.checked", "update.available", "update.downloading", "update.staged", "update.rebooting", "update.booted", "update.done"]) expect(types, t).toContain(t);
    expect(idx("update.available")).toBeLessThan(idx("update.staged"));
    expect(idx("update.staged")).toBeLessThan(idx("update.rebooting"));
    expect(idx("update.rebooting")).toBeLessThan(idx("update.booted"));
    expect(ev.filter((e) => e.type === "update.available").map((e) => e.fields["version"])).toEqual(["2.0.0"]);
    expect(ev.find((e) => e.type === "update.staged")!.fields).toMatchObject({ version: "2.0.0", slot: "B" });
    expect(ev.find((e) => e.type === "update.rebooting")!.id.startsWith(before.bootId)).toBe(true);
    expect(ev.find((e) => e.type === "update.done")!.id.startsWith(after.bootId)).toBe(true);
    // The bundle came from the repository over HTTP.
    expect(repo.requests.some((r) => r.path === "/bundles/cairn-2.0.0-amd64.bundle")).toBe(true);
    // `nodectl events` shows the new boot's side.
    const r = await nodectl(["-n", node.address, "events", "--tail", "200"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/update\.done\s+updated 0\.1\.0 → 2\.0\.0; boot blessed/);
    console.log(`immediate: published → running 2.0.0 blessed in ${tookMs} ms`);
    await node.stop();
  }, 120_000);

  it("strategy window: staged while the window is closed, no reboot; a window around now opens it", async () => {
    const node = await startNode();
    node.record();
    const closed = windowAt(Date.now() + 3 * 3600_000, 60);
    // 2.0.0 is on the channel already: the node stages it at its first check.
    await cluster.configure(node, updateConfig({ windows: [closed], reboot: { strategy: "window" } }));
    const before = await version(node);
    expect(before.osVersion).toBe("0.1.0");

    const staged = await pollUntil("2.0.0 staged and waiting for the window", async () => {
      const v = await version(node);
      const types = loggedEvents(node.recorded()).map((e) => e.type);
      return v.updater?.stagedVersion === "2.0.0" && types.includes("update.waiting-window") ? v : undefined;
    }, { timeoutMs: 40_000, intervalMs: 250, describe: () => node.output() });
    // Staged, not the default: the next boot would still be 0.1.0.
    const b = staged.slots.find((s) => s.name === "B")!;
    expect(b).toMatchObject({ version: "2.0.0", state: SlotState.SLOT_STATE_PENDING, isDefault: false });
    expect(staged.updater).toMatchObject({ phase: "wait", stagedVersion: "2.0.0" });
    expect(staged.updater!.reason).toContain("window closed until");
    const nv = await nodectl(["-n", node.address, "version"], cluster.env);
    expect(nv.code, show(nv)).toBe(0);
    expect(nv.stdout).toMatch(/UPDATES/);
    expect(nv.stdout).toMatch(/wait \(2\.0\.0 staged\)/);
    const waiting = loggedEvents(node.recorded()).find((e) => e.type === "update.waiting-window")!;
    expect(waiting.fields["opensAt"]).toMatch(/T\d\d:\d\d:00\.000Z$/);

    // Two more checks pass in the same boot: the updater runs, and does not reboot.
    const checks = () => loggedEvents(node.recorded()).filter((e) => e.type === "update.checked" && e.id.startsWith(before.bootId)).length;
    const n = checks();
    await pollUntil("two more checks", async () => (checks() >= n + 2 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
    const still = await version(node);
    expect(still).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A", bootId: before.bootId });
    expect(loggedEvents(node.recorded()).map((e) => e.type)).not.toContain("update.rebooting");

    // A live patch puts the node inside a window (opened 5 minutes ago): it reboots at once.
    const open = windowAt(Date.now() - 5 * 60_000, 60);
    const p = await nodectl(["-n", node.address, "patch", "-p", JSON.stringify({ machine: { update: { windows: [open] } } })], cluster.env);
    expect(p.code, show(p)).toBe(0);
    const after = await waitForVersion(node, "2.0.0", 60_000);
    expect(after.bootId).not.toBe(before.bootId);
    expect(after.bootedSlot).toBe("B");
    const ev = await eventsWhen(node, "update.rebooting in the log", (e) => e.some((x) => x.type === "update.rebooting"));
    const patched = ev.find((e) => e.type === "update.reconfigured")!;
    const rebooting = ev.find((e) => e.type === "update.rebooting")!;
    expect(patched).toBeDefined();
    expect(rebooting.time).toBeGreaterThanOrEqual(patched.time);
    expect(rebooting.fields).toMatchObject({ version: "2.0.0", strategy: "window" });
    await node.stop();
  }, 120_000);
  it("a reboot into the staged release that never happened (power cut right after the updater persisted it) is retried, not marked bad", async () => {
    const node = await startNode();
    node.record();
    await cluster.configure(node, updateConfig({ windows: [windowAt(Date.now() + 3 * 3600_000, 60)], reboot: { strategy: "window" } }));
    await pollUntil("2.0.0 staged", async () => ((await version(node)).updater?.stagedVersion === "2.0.0" ? true : undefined), { timeoutMs: 40_000, intervalMs: 250, describe: () => node.output() });
    // The node is cut at the moment rebootInto has saved `pending` and not yet switched the default:
    // write exactly that state, as the updater does first, and power on.
    await node.kill("SIGKILL");
    const file = join(node.dir, "state", "update", "updater.json");
    const st = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...st, pending: { version: "2.0.0", fromVersion: "0.1.0", fromSlot: "A", at: Date.now() } }));
    const offset = node.recorded().length;
    await node.start({ mode: "configured", creds: cluster.creds() });
    const ev = await eventsWhen(node, "update.interrupted", (e) => e.some((x) => x.type === "update.interrupted"));
    const interrupted = ev.find((x) => x.type === "update.interrupted")!;
    expect(interrupted.fields).toMatchObject({ version: "2.0.0", bootedVersion: "0.1.0", slot: "A" });
    const v = await version(node);
    expect(v).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A", rolledBackFromVersion: "" });
    expect(v.updater).toMatchObject({ stagedVersion: "2.0.0", badVersions: [] });
    expect(v.updater!.phase).not.toBe("halted");
    expect(loggedEvents(node.recorded().slice(offset)).map((e) => e.type)).not.toContain("update.halted");
    // The window opens: it reboots into the release it kept staged.
    const p = await nodectl(["-n", node.address, "patch", "-p", JSON.stringify({ machine: { update: { windows: [windowAt(Date.now() - 5 * 60_000, 60)] } } })], cluster.env);
    expect(p.code, show(p)).toBe(0);
    expect(await waitForVersion(node, "2.0.0", 60_000)).toMatchObject({ bootedSlot: "B" });
    await node.stop();
  }, 120_000);
});

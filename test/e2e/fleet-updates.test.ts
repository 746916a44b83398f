import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VersionResponse } from "../../src/api/index.js";
import { EtcdClient, RebootSemaphore } from "../../src/machinery/fleet/index.js";
import { EtcdServer } from "../integration/support/etcd.js";
import { replayHolders, slotSpan, spansDisjoint, type SlotSpan } from "../integration/support/fleet-history.js";
import { pollUntil } from "../integration/support/poll.js";
import { ReleaseRepo, type LoggedEvent } from "../integration/support/release-repo.js";
import { windowAt } from "../integration/support/windows.js";
import { brokenInitramfs, rewriteBundle } from "./support/bundle-rewrite.js";
import { FleetCluster } from "./support/fleet-cluster.js";
import { buildTestImage } from "./support/image-build.js";
import { e2eImage, E2E_VERSION } from "./support/node-image.js";
import { slot } from "./support/upgrade-node.js";

/**
 * Unattended fleet updates on three QEMU nodes (OVMF + systemd-boot, TCG):
 * a release channel served over HTTP from the host and a real etcd (Debian's
 * etcd-server) on the host, both reached by the guests at 10.0.2.2 (QEMU
 * user networking forwards it to the host's loopback). The nodes follow the
 * channel with `reboot.strategy: coordinated` (etcd semaphore, one slot);
 * nobody calls `nodectl upgrade` until the last two tests, which drive
 * `nodectl upgrade --rolling`. "One at a time" is judged from etcd's own
 * MVCC history of the holder keys and from the nodes' event clocks (their
 * /var/log/machined.log, which spans boots), not from what the updater says.
 * Every step is proved by version, slot and boot_id.
 */
const V2 = "0.2.0"; // a good release (built as such: a node reports the version its root file system carries)
const V3 = "0.3.0"; // broken: its kernel panics (no working /init)
const V4 = "0.4.0"; // good, for the rolling upgrade
const V5 = "0.5.0"; // broken, for the rolling upgrade that must stop
const PREFIX = "/cairn/e2e";
/** Must cover a reboot and the blessing (the slot is resumed after the boot): a TCG reboot at load is 30-60 s. */
const TTL = 90;
const HOST = "10.0.2.2";
const KEYS = resolve("hack", ".keys");

describe("fleet updates on three QEMU nodes: channel, window, etcd semaphore, halt on a bad release, rolling upgrade", () => {
  const fleet = new FleetCluster("fleet", 3);
  const bundles: Record<string, string> = {};
  const ids: string[] = [];
  let etcd: EtcdServer;
  let client: EtcdClient;
  let sem: RebootSemaphore; // a reader of the same keys, for the test's eyes only
  let repo: ReleaseRepo;
  let cur: VersionResponse[] = [];
  let failed = false;

  const replay = async (fromRevision: number) => replayHolders(await client.history(`${PREFIX}/`, fromRevision), `${PREFIX}/holders/`);
  const updateConfig = (windows: object[]) => ({
    repository: repo.url,
    channel: "stable",
    checkIntervalSeconds: 5,
    windows,
    reboot: { strategy: "coordinated", maxConcurrent: 1, lockTTLSeconds: TTL },
    coordination: { etcd: { endpoints: [etcd.endpoint.replace("127.0.0.1", HOST)], prefix: PREFIX } },
  });
  async function patchAll(patch: unknown): Promise<void> {
    const r = await fleet.ctl(["patch", "-p", JSON.stringify(patch)], 120_000);
    expect(r.code, r.transcript).toBe(0);
  }
  const blessedOn = (want: string) => (v: VersionResponse) => v.osVersion === want && slot(v, v.bootedSlot as "A" | "B").state === "GOOD";
  const otherSlot = (v: VersionResponse) => (v.bootedSlot === "A" ? "B" : "A");
  const idle = (v: VersionResponse) => v.updater?.phase !== "awaiting-blessing" && !v.updater?.holdingLock;

  beforeAll(async () => {
    const { image } = e2eImage();
    const created = await fleet.time("cluster create (3 nodes)", () => fleet.create(image.raw));
    if (created.code !== 0) throw new Error(created.transcript);
    await fleet.time("test releases built", async () => {
      for (const v of [V2, V4]) bundles[v] = buildTestImage({ version: v, entry: "cmd/machined.ts", subdir: `e2e-fleet-${v}` }).bundle;
      // The 0.1.0 release re-signed as 0.3.0 and 0.5.0 with an initramfs whose /init cannot run.
      for (const v of [V3, V5]) {
        bundles[v] = join(fleet.tmp, `cairn-${v}-amd64.bundle`);
        await rewriteBundle(image.bundle, bundles[v]!, { version: v, parts: { initramfs: brokenInitramfs() } });
      }
    });
    etcd = await EtcdServer.start();
    client = new EtcdClient([etcd.endpoint]);
    sem = new RebootSemaphore(client, { prefix: PREFIX, max: 1, ttlSeconds: TTL, id: "test-reader" });
    // Signed with the dev release key every test image trusts (hack/.keys), as a real channel is with the release key.
    repo = await ReleaseRepo.start(fleet.tmp, { keyPath: join(KEYS, "release.key.pem"), advertiseHost: HOST });
    cur = fleet.note("first boot", await fleet.time("first boot (3 nodes)", () => fleet.pollAll("three configured 0.1.0 nodes", (vs) => vs.every((v) => !v.maintenance && v.osVersion === E2E_VERSION), 300_000)));
  }, 600_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") failed = true;
  });

  afterAll(async () => {
    console.log(`fleet e2e story:\n  ${fleet.story.join("\n  ")}`);
    console.log(`fleet e2e timings (s): ${JSON.stringify(fleet.timings, null, 1)}`);
    if (failed) await fleet.keepConsoles().catch(() => undefined);
    const alive = await fleet.destroy().catch((e: unknown) => (console.log(`destroy: ${String(e)}`), []));
    expect(alive).toEqual([]);
    await repo?.stop();
    await etcd?.stop();
    if (failed) console.log(`kept ${fleet.tmp} (consoles) for the failure`);
    else fleet.removeTemp();
  });

  it("window closed: all three find 0.2.0 on the channel, download and stage it, and none reboots", async () => {
    await repo.publishBundle(bundles[V2]!);
    await patchAll({ machine: { update: updateConfig([windowAt(Date.now() + 3 * 3600_000, 60)]) } });
    const staged = await fleet.time("0.2.0 staged on 3 nodes", () =>
      fleet.pollAll("0.2.0 staged everywhere, waiting for the window", (vs) => vs.every((v) => v.updater?.stagedVersion === V2 && v.updater.phase === "wait" && v.updater.reason.includes("window closed")), 300_000),
    );
    fleet.note("staged", staged);
    staged.forEach((v, i) => {
      ids.push(v.updater!.nodeId);
      expect(v).toMatchObject({ osVersion: E2E_VERSION, bootedSlot: "A", bootId: cur[i]!.bootId });
      expect(slot(v, "B")).toMatchObject({ version: V2, state: "PENDING", isDefault: false });
    });
    expect(new Set(ids).size).toBe(3);
    const shown = await fleet.ctl(["version"]);
    expect(shown.code, shown.transcript).toBe(0);
    expect(shown.stdout.match(/wait \(0\.2\.0 staged\)/g)?.length, shown.stdout).toBe(3);
    // Two more check intervals in the same boots: still nobody asks for a slot or reboots.
    await sleep(12_000);
    const still = await fleet.pollAll("the same boots", () => true, 30_000);
    still.forEach((v, i) => expect(v.bootId).toBe(cur[i]!.bootId));
    expect(await sem.holders()).toEqual([]);
    for (let i = 0; i < 3; i++) expect((await fleet.events(i)).map((e) => e.type)).not.toContain("update.rebooting");
  }, 420_000);

  it("the window opens: one reboot at a time through etcd; a holder powered off mid-rollout frees its slot when its lease expires", async () => {
    const { revision } = await client.range("/");
    await patchAll({ machine: { update: { windows: [windowAt(Date.now() - 5 * 60_000, 120)] } } });
    const first = await pollUntil("a node to take the reboot slot", async () => (await sem.holders())[0], { timeoutMs: 60_000, intervalMs: 100 });
    const victim = ids.indexOf(first.id);
    expect(victim, first.id).toBeGreaterThanOrEqual(0);
    await fleet.power[victim]!.cut(); // a power cut of the holder, wherever its reboot is
    const cutAt = Date.now();
    await pollUntil("the dead holder's key to expire", async () => ((await sem.holders()).some((h) => h.id === first.id) ? undefined : true), { timeoutMs: (TTL + 20) * 1000, intervalMs: 250 });
    const freedAfter = Date.now() - cutAt;
    fleet.timings["slot freed after the holder's power cut"] = freedAfter / 1000;
    expect(freedAfter).toBeGreaterThan((TTL * 1000) / 3); // the lease ran out (keep-alives every TTL/3), nobody released it
    expect(freedAfter).toBeLessThan(TTL * 1000 + 10_000);
    const next = await pollUntil("another node to take the slot", async () => (await sem.holders()).find((h) => h.id !== first.id), { timeoutMs: 60_000, intervalMs: 250 });
    expect(ids).toContain(next.id);
    expect(await fleet.power[victim]!.running()).toBe(false); // the rollout went on while the holder was dead
    await fleet.power[victim]!.on();
    const after = await fleet.time("rollout of 0.2.0 (with the power cut)", () => fleet.pollAll("three nodes on 0.2.0, blessed", (vs) => vs.every((v) => blessedOn(V2)(v) && idle(v)), 720_000));
    fleet.note("on 0.2.0", after);
    after.forEach((v, i) => {
      expect(v.bootId).not.toBe(cur[i]!.bootId);
      expect(v).toMatchObject({ osVersion: V2, bootedSlot: "B" });
      expect(v.updater).toMatchObject({ holdingLock: false, stagedVersion: "", lastError: "" });
    });
    // etcd's history: never two holders at once; the two others took and gave back one slot each.
    const r = await replay(revision + 1);
    expect(r.maxAtOnce).toBe(1);
    expect(r.acquired[0]).toBe(first.id);
    const others = [0, 1, 2].filter((i) => i !== victim);
    for (const i of others) {
      expect(r.acquired.filter((id) => id === ids[i])).toHaveLength(1);
      expect(r.released).toContain(ids[i]);
    }
    expect(await sem.holders()).toEqual([]);
    // The cut holder never took its own cut for a failed release (that would halt the fleet).
    expect([...(await sem.badVersions()).keys()]).toEqual([]);
    const victimEvents = (await fleet.events(victim)).map((e) => e.type);
    fleet.story.push(`power-cut holder #${victim}: ${victimEvents.includes("update.interrupted") ? "its reboot had not happened; kept 0.2.0 staged and queued again (update.interrupted)" : "its reboot had happened; booted and blessed its trial of 0.2.0"}`);
    // The nodes' clocks: each of the others rebooted inside its own slot, and the slots do not overlap.
    const spans = await Promise.all(others.map(async (i) => slotSpan(await fleet.events(i), V2) as SlotSpan));
    expect(spansDisjoint(spans), JSON.stringify(spans)).toBeUndefined();
    cur = after;
  }, 900_000);

  it("a broken 0.3.0 (its kernel panics): the first node falls back after 3 tries, marks it bad and keeps its slot; the others halt", async () => {
    const { revision } = await client.range("/");
    await repo.publishBundle(bundles[V3]!);
    const holder = await pollUntil("a node to take the slot for 0.3.0", async () => (await sem.holders())[0], { timeoutMs: 240_000, intervalMs: 250 });
    const victim = ids.indexOf(holder.id);
    const others = [0, 1, 2].filter((i) => i !== victim);
    const back = await fleet.time("0.3.0: 3 panicking tries + fallback", () =>
      pollUntil("the node to fall back to 0.2.0 and halt", async () => {
        const v = await fleet.version(victim, 5_000).catch(() => undefined);
        return v && v.bootId !== cur[victim]!.bootId && v.updater?.phase === "halted" ? v : undefined;
      }, { timeoutMs: 600_000, intervalMs: 1_000 }),
    );
    fleet.story.push(`fallback #${victim}: ${back.osVersion}/${back.bootedSlot} boot ${back.bootId.slice(0, 8)} rolled back from ${back.rolledBackFromVersion}`);
    expect(back).toMatchObject({ osVersion: V2, bootedSlot: "B", rolledBackFromVersion: V3 });
    expect(back.rollbackReason).toMatch(/slot A \(0\.3\.0\) used all 3 boot tries/);
    expect(slot(back, "A")).toMatchObject({ version: V3, state: "BAD", isDefault: false });
    expect(back.updater!.badVersions).toContain(V3);
    // The three tries really ran and panicked (the kernel says so on the console).
    expect((await fleet.power[victim]!.consoleText()).match(/No working init found/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    // In etcd: the mark, by this node, and its slot, still held.
    const bad = (await sem.badVersions()).get(V3);
    expect(bad?.by).toBe(holder.id);
    expect(bad?.reason).toMatch(/used all 3 boot tries without being blessed/);
    const halted = (await fleet.events(victim)).find((e: LoggedEvent) => e.type === "update.halted" && e.fields["version"] === V3);
    expect(halted?.fields).toMatchObject({ markedBad: "true", keptLock: "true" });
    // The others learn it and drop the staged release; they stay on 0.2.0 in the same boot.
    const vs = await fleet.pollAll("the others to halt", (all) => others.every((i) => all[i]!.updater!.badVersions.includes(V3) && all[i]!.updater!.stagedVersion === ""), 120_000);
    fleet.note("halted", vs);
    for (const i of others) {
      expect(vs[i]).toMatchObject({ osVersion: V2, bootedSlot: "B", bootId: cur[i]!.bootId });
      expect(slot(vs[i]!, "A").isDefault).toBe(false);
      expect((await fleet.events(i)).some((e) => e.type === "update.rebooting" && e.fields["version"] === V3)).toBe(false);
    }
    expect((await sem.holders()).map((h) => [h.id, h.version])).toEqual([[holder.id, V3]]);
    expect((await replay(revision + 1)).acquired).toEqual([holder.id]);
    cur = vs;
  }, 900_000);

  it("nodectl upgrade --rolling: one node at a time, each blessed and healthy before the next", async () => {
    // Unattended updates off (machine.update removed): from here the operator drives.
    await patchAll([{ op: "remove", path: "/machine/update" }]);
    const eps = await fleet.endpoints();
    const r = await fleet.time("rolling 0.4.0 (3 nodes)", () => fleet.ctl(["-n", eps.join(","), "upgrade", "--image", bundles[V4]!, "--rolling", "--max-unavailable", "1", "--timeout", "420s", "-o", "json"], 1_800_000));
    expect(r.code, r.transcript).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; result: string }[] };
    expect(out.nodes.map((n) => [n.node, n.result])).toEqual(eps.map((e) => [e, "upgraded"]));
    const after = fleet.note("on 0.4.0", await fleet.pollAll("three nodes on 0.4.0", (vs) => vs.every(blessedOn(V4)), 60_000));
    after.forEach((v, i) => {
      expect(v).toMatchObject({ osVersion: V4, bootedSlot: otherSlot(cur[i]!) });
      expect(v.bootId).not.toBe(cur[i]!.bootId);
    });
    // The nodes' clocks: node k+1's new boot began only after node k's new boot was blessed.
    const events = await Promise.all([0, 1, 2].map((i) => fleet.events(i)));
    for (const k of [0, 1]) {
      const blessed = events[k]!.find((e) => e.type === "upgrade.blessed" && e.id.startsWith(after[k]!.bootId));
      expect(blessed, events[k]!.map((e) => e.type).join(" ")).toBeDefined();
      const nextBoot = Math.min(...events[k + 1]!.filter((e) => e.id.startsWith(after[k + 1]!.bootId)).map((e) => e.time));
      expect(nextBoot).toBeGreaterThan(blessed!.time);
    }
    cur = after;
  }, 1_800_000);

  it("nodectl upgrade --rolling stops at the first failure: a broken 0.5.0 rolls the first node back, the others are not touched", async () => {
    const eps = await fleet.endpoints();
    const r = await fleet.time("rolling 0.5.0 (broken, --tries 1)", () => fleet.ctl(["-n", eps.join(","), "upgrade", "--image", bundles[V5]!, "--rolling", "--tries", "1", "--timeout", "420s"], 900_000));
    expect(r.code, r.transcript).toBe(1);
    expect(r.stdout).toContain(`${eps[0]}: FAILED: `);
    expect(r.stdout).toContain(`${eps[1]}: not attempted (the rollout stopped)`);
    expect(r.stdout).toContain(`${eps[2]}: not attempted (the rollout stopped)`);
    expect(r.stdout).toContain(`rolling upgrade to ${V5} stopped at ${eps[0]}: 0/3 nodes on ${V5}, 2 not attempted`);
    const vs = fleet.note("after the stopped rollout", await fleet.pollAll("the first node back on 0.4.0", (all) => all[0]!.bootId !== cur[0]!.bootId && blessedOn(V4)(all[0]!), 300_000));
    expect(vs[0]).toMatchObject({ osVersion: V4, bootedSlot: cur[0]!.bootedSlot, rolledBackFromVersion: V5 });
    expect(slot(vs[0]!, otherSlot(cur[0]!))).toMatchObject({ version: V5, state: "BAD" });
    for (const i of [1, 2]) expect(vs[i]).toMatchObject({ osVersion: V4, bootedSlot: cur[i]!.bootedSlot, bootId: cur[i]!.bootId });
  }, 900_000);
});

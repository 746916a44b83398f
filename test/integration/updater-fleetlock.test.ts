import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlotState, type VersionResponse } from "../../src/api/index.js";
import { EtcdClient, createFleetLockServer } from "../../src/machinery/fleet/index.js";
import { EtcdServer, ReleaseRepo, TestCluster, eventsWhen, hasSlotSpan, loggedEvents, pollUntil, replayHolders, slotSpan, spansDisjoint, startNode, stopAllNodes, type NodeProcess, type SlotSpan } from "./support/index.js";

// coordination.fleetLock: two process-mode nodes take their reboot slot from
// a FleetLock server (Zincati's protocol; ours keeps its slots in a real
// etcd), one at a time, and send steady-state once the new boot is blessed.

process.env["CAIRN_BLESS_GRACE_MS"] = "2000";
const tmp = mkdtempSync(join(tmpdir(), "cairn-it-fleetlock-upd-"));
let etcd: EtcdServer;
let client: EtcdClient;
let lock: Server;
let repo: ReleaseRepo;
let cluster: TestCluster;
let nodes: NodeProcess[];

const version = (n: NodeProcess): Promise<VersionResponse> => cluster.client(n).version();

beforeAll(async () => {
  etcd = await EtcdServer.start();
  client = new EtcdClient([etcd.endpoint]);
  lock = createFleetLockServer({ etcd: client, prefix: "/fleetlock", max: 1, ttlSeconds: 10 });
  await new Promise<void>((r) => lock.listen(0, "127.0.0.1", r));
  repo = await ReleaseRepo.start(tmp);
  await repo.publish("0.0.9");
  cluster = await TestCluster.create("fleetlock");
  const yaml = cluster.configWith((d) => {
    d.machine["update"] = {
      publicKeys: [repo.publicKeyPem],
      repository: repo.url,
      channel: "stable",
      checkIntervalSeconds: 5,
      reboot: { strategy: "coordinated" },
      coordination: { fleetLock: { url: `http://127.0.0.1:${(lock.address() as AddressInfo).port}`, group: "workers" } },
    };
  });
  nodes = [];
  for (let i = 0; i < 2; i++) {
    const n = await startNode();
    n.record();
    nodes.push(n);
  }
  await Promise.all(nodes.map((n) => cluster.configure(n, yaml)));
}, 90_000);
afterAll(async () => {
  await stopAllNodes();
  await repo?.stop();
  await new Promise((r) => lock?.close(r));
  cluster?.dispose();
  await etcd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("coordinated unattended updates through FleetLock", () => {
  it("both nodes update, one at a time, each giving its slot back once blessed", async () => {
    const ids = (await Promise.all(nodes.map(version))).map((v) => v.updater!.nodeId);
    const { revision } = await client.range("/");
    await repo.publish("2.0.0");
    const after = await pollUntil("both nodes on 2.0.0, blessed", async () => {
      const vs = await Promise.all(nodes.map(version));
      const done = (v: VersionResponse) => v.updater?.phase !== "awaiting-blessing" && !v.updater?.holdingLock; // steady-state sent after the blessing
      return vs.every((v) => v.osVersion === "2.0.0" && v.slots.find((s) => s.name === v.bootedSlot)?.state === SlotState.SLOT_STATE_GOOD && done(v)) ? vs : undefined;
    }, { timeoutMs: 90_000, intervalMs: 500, describe: () => nodes.map((n) => n.output().slice(-3000)).join("\n==\n") });
    for (const v of after) expect(v.updater).toMatchObject({ holdingLock: false, stagedVersion: "" });
    // The server's slots in etcd: one node at a time, both given back (steady-state).
    const r = replayHolders(await client.history("/fleetlock/", revision + 1), "/fleetlock/groups/workers/holders/");
    expect(r.maxAtOnce).toBe(1);
    expect([...r.acquired].sort()).toEqual([...ids].sort());
    expect([...r.released].sort()).toEqual([...ids].sort());
    const spans = await Promise.all(
      nodes.map(async (n) => slotSpan(await eventsWhen(n, `${n.address}: slot span`, (e) => hasSlotSpan(e, "2.0.0")), "2.0.0") as SlotSpan),
    );
    expect(spansDisjoint(spans)).toBeUndefined();
    const acquired = loggedEvents(nodes[0]!.recorded()).find((e) => e.type === "update.lock-acquired")!;
    expect(acquired.fields).toMatchObject({ kind: "fleetlock", version: "2.0.0" });
  }, 120_000);
});

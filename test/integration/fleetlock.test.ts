import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCairnError } from "../../src/errors/index.js";
import { EtcdClient, FleetLockClient, RebootSemaphore, createFleetLockServer } from "../../src/machinery/fleet/index.js";
import { EtcdServer } from "./support/index.js";

// FleetLock (Zincati's reboot-lock protocol): our client against our small
// server, which keeps its slots in the same etcd semaphore as Cairn nodes.
// Both are ours, so the wire format is also checked by hand below
// (header, body, status, error body) against the protocol text.

let etcd: EtcdServer;
let server: Server;
let base: string;
const client = () => new EtcdClient([etcd.endpoint]);

beforeAll(async () => {
  etcd = await EtcdServer.start();
  server = createFleetLockServer({ etcd: client(), prefix: "/fleetlock", max: 1, ttlSeconds: 5 });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 40_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await etcd?.stop();
});

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (isCairnError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
}

describe("FleetLock", () => {
  it("one slot per group: pre-reboot is recursive, steady-state frees it, groups are separate", async () => {
    const a = new FleetLockClient(base, { id: "node-a", group: "default" });
    const b = new FleetLockClient(base, { id: "node-b", group: "default" });
    const c = new FleetLockClient(`${base}/`, { id: "node-c", group: "workers" });
    await b.steadyState(); // startup: unlock-if-held with nothing held is fine
    expect(await outcome(a.preReboot())).toBe("OK");
    expect(await outcome(a.preReboot())).toBe("OK"); // recursive
    expect(await outcome(b.preReboot())).toBe("UNAVAILABLE: fleetlock /v1/pre-reboot refused (HTTP 409): failed_lock_semaphore_full: all 1 reboot slots of group default are taken");
    expect(await outcome(c.preReboot())).toBe("OK"); // another group
    // The slot is the etcd semaphore's: a Cairn node on that prefix sees the holder.
    const sem = new RebootSemaphore(client(), { prefix: "/fleetlock/groups/default", max: 1, ttlSeconds: 5, id: "observer" });
    expect((await sem.holders()).map((h) => h.id)).toEqual(["node-a"]);
    await a.steadyState();
    expect(await outcome(b.preReboot())).toBe("OK");
    await b.steadyState();
    await c.steadyState();
    expect(await sem.holders()).toEqual([]);
  });

  it("the server keeps granted slots alive past their TTL until steady-state", async () => {
    const a = new FleetLockClient(base, { id: "long-reboot", group: "slow" });
    await a.preReboot();
    await new Promise((r) => setTimeout(r, 7_000)); // > ttlSeconds 5: only keep-alives hold it
    expect(await outcome(new FleetLockClient(base, { id: "other", group: "slow" }).preReboot())).toMatch(/failed_lock_semaphore_full/);
    await a.steadyState();
  }, 20_000);

  it("speaks the protocol on the wire: header required, client_params validated, {kind,value} errors", async () => {
    const post = (path: string, body: string, headers: Record<string, string> = { "fleet-lock-protocol": "true" }) => fetch(`${base}${path}`, { method: "POST", body, headers });
    const ok = await post("/v1/pre-reboot", JSON.stringify({ client_params: { id: "raw-1", group: "raw" } }));
    expect(ok.status).toBe(200);
    const noHeader = await post("/v1/pre-reboot", JSON.stringify({ client_params: { id: "raw-1", group: "raw" } }), {});
    expect(noHeader.status).toBe(400);
    expect(await noHeader.json()).toEqual({ kind: "missing_fleetlock_header", value: "header fleet-lock-protocol: true is required" });
    const badGroup = await post("/v1/pre-reboot", JSON.stringify({ client_params: { id: "raw-1", group: "a b" } }));
    expect(await badGroup.json()).toMatchObject({ kind: "invalid_client_params" });
    expect((await post("/v1/steady-state", JSON.stringify({ client_params: { id: "raw-1", group: "raw" } }))).status).toBe(200);
    expect((await fetch(`${base}/v1/pre-reboot`)).status).toBe(404);
    expect(() => new FleetLockClient(base, { id: "x", group: "no/slash" })).toThrow(/fleetlock group/);
  });
});

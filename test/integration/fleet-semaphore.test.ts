import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCairnError } from "../../src/errors/index.js";
import { EtcdClient, RebootSemaphore } from "../../src/machinery/fleet/index.js";
import { EtcdServer, REPO, pollUntil, replayHolders } from "./support/index.js";

// The fleet's reboot semaphore against a real etcd (Debian's etcd-server),
// started by this file on free ports. Concurrency is judged from etcd's own
// MVCC history of the holder keys, not from what the holders say.

let etcd: EtcdServer;
let client: EtcdClient;
beforeAll(async () => {
  etcd = await EtcdServer.start();
  client = new EtcdClient([etcd.endpoint]);
}, 40_000);
afterAll(async () => etcd?.stop());

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (isCairnError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
}

describe("reboot semaphore in etcd", () => {
  for (const max of [1, 2]) {
    it(`3 holders taking turns never exceed max ${max} (etcd history)`, async () => {
      const prefix = `/test/turns-${max}`;
      const { revision: start } = await client.range("/");
      const nodes = ["a", "b", "c"].map((id) => new RebootSemaphore(client, { prefix, max, ttlSeconds: 10, id }));
      await Promise.all(
        nodes.map(async (sem) => {
          for (let round = 0; round < 3; round++) {
            const h = await sem.acquire("0.2.0", { pollMs: 20 });
            h.startKeepAlive();
            await sleep(100 + Math.random() * 100); // "rebooting"
            await h.release();
          }
        }),
      );
      const r = replayHolders(await client.history(`${prefix}/`, start + 1), `${prefix}/holders/`);
      expect(r.acquired).toHaveLength(9);
      expect(r.maxAtOnce).toBe(max); // reached, never exceeded
      expect(await nodes[0]!.holders()).toEqual([]);
    }, 60_000);
  }

  it("a holder killed mid-reboot frees its slot when its lease expires; the next one proceeds", async () => {
    const prefix = "/test/killed";
    const ttl = 3;
    // The holder is a real process: it takes the slot, keeps it alive, and is SIGKILLed.
    const script = `
      const { EtcdClient, RebootSemaphore } = await import(${JSON.stringify(`${REPO}/build/src/machinery/fleet/index.js`)});
      const sem = new RebootSemaphore(new EtcdClient([${JSON.stringify(etcd.endpoint)}]), { prefix: "${prefix}", max: 1, ttlSeconds: ${ttl}, id: "doomed" });
      const h = await sem.acquire("0.2.0", { pollMs: 50 });
      h.startKeepAlive();
      console.log("HOLDING " + h.state.leaseId);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await pollUntil("the child to hold the slot", async () => (out.includes("HOLDING") ? true : undefined), { timeoutMs: 20_000 });
    const other = new RebootSemaphore(client, { prefix, max: 1, ttlSeconds: 10, id: "survivor" });
    // Kept alive, the slot outlives its TTL.
    await sleep(ttl * 1000 + 500);
    expect((await other.holders()).map((h) => h.id)).toEqual(["doomed"]);
    expect(await other.tryAcquire("0.2.0")).toBeUndefined();

    const killedAt = Date.now();
    child.kill("SIGKILL");
    const h = await other.acquire("0.2.0", { pollMs: 100 });
    const waited = Date.now() - killedAt;
    expect(waited).toBeGreaterThan(1000); // not before the lease could expire (keep-alives every TTL/3)...
    expect(waited).toBeLessThan(ttl * 1000 + 3000); // ...and soon after it did
    expect((await other.holders()).map((x) => x.id)).toEqual(["survivor"]);
    await h.release();
  }, 60_000);

  it("a node that rolled back marks the release bad and keeps its slot: the others stop", async () => {
    const prefix = "/test/bad";
    const [first, second, third] = ["n1", "n2", "n3"].map((id) => new RebootSemaphore(client, { prefix, max: 2, ttlSeconds: 10, id }));
    const h1 = await first!.tryAcquire("0.3.0");
    expect(h1).toBeDefined();
    h1!.startKeepAlive();
    // n1 came back on the old slot: it reports, and does not release.
    await first!.markBad("0.3.0", "rolled back: slot B (0.3.0) used all 3 boot tries without being blessed");
    // A slot is free (max 2), but nobody takes it for 0.3.0.
    expect(await code(second!.acquire("0.3.0", { pollMs: 50 }))).toBe("FAILED_PRECONDITION: release 0.3.0 is marked bad by n1: rolled back: slot B (0.3.0) used all 3 boot tries without being blessed");
    expect(await code(third!.tryAcquire("0.3.0"))).toMatch(/^FAILED_PRECONDITION/);
    expect([...(await third!.badVersions()).keys()]).toEqual(["0.3.0"]);
    expect((await third!.holders()).map((h) => [h.id, h.version])).toEqual([["n1", "0.3.0"]]);
    // A fixed release is another version: it may proceed.
    const h2 = await second!.tryAcquire("0.3.1");
    expect(h2?.state.version).toBe("0.3.1");
    await h2!.release();
    await h1!.release();
  }, 30_000);

  it("a slot survives the holder's restart: resume by lease, then release after the new boot", async () => {
    const sem = new RebootSemaphore(client, { prefix: "/test/resume", max: 1, ttlSeconds: 10, id: "r1" });
    const h = (await sem.tryAcquire("0.2.0"))!;
    const persisted = JSON.parse(JSON.stringify(h.state)) as typeof h.state;
    h.stopKeepAlive(); // "reboot"
    expect(await code(sem.tryAcquire("0.2.0"))).toMatch(/^ALREADY_EXISTS: r1 already holds a reboot slot/);
    const again = await sem.resume(persisted);
    expect(again).toBeDefined();
    await again!.release();
    expect(await sem.holders()).toEqual([]);
    expect(await sem.resume(persisted)).toBeUndefined();
  }, 30_000);
});

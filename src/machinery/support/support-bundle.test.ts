import { mkdtempSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import type { MachineClient } from "../client/index.js";
import { collectNode, safeName, type NodeCollection } from "./collect-node.js";
import { readTarGz } from "./read-archive.js";
import { SCRUBBED, scrubPrivateKeys } from "./scrub-keys.js";
import { writeSupportArchive } from "./write-archive.js";

const dir = mkdtempSync(join(tmpdir(), "cairn-support-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";

describe("scrubPrivateKeys", () => {
  it("removes PKCS#8, RSA, EC and encrypted blocks and a block cut off before its END, keeps certificates", () => {
    const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const rsa = KEY.replace(/PRIVATE/g, "RSA PRIVATE");
    const text = `a ${KEY} b ${rsa} c ${cert} d -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE`;
    const out = scrubPrivateKeys(text);
    expect(out).toBe(`a ${SCRUBBED} b ${SCRUBBED} c ${cert} d ${SCRUBBED}`);
    expect(scrubPrivateKeys(KEY.replace(/PRIVATE/g, "ENCRYPTED PRIVATE"))).toBe(SCRUBBED);
  });
});

describe("safeName", () => {
  it("makes addresses and ids safe folder names", () => {
    expect(safeName("127.0.0.1:50000")).toBe("127.0.0.1_50000");
    expect(safeName("[::1]:50000")).toBe("___1__50000");
    expect(safeName("../etc")).toBe("__etc");
  });
});

/** A client whose calls answer from a table: enough to drive the collection logic without a node. */
function fakeClient(overrides: Record<string, () => unknown>): MachineClient {
  const stream = (items: unknown[]) => (async function* () { yield* items; })();
  const base: Record<string, () => unknown> = {
    version: async () => ({ osVersion: "1.2.3", hostname: "n1", slots: [{ name: "A", state: 2 }] }),
    getConfiguration: async () => ({ data: Buffer.from(`machine:\n  ca:\n    key: "[redacted]"\n`) }),
    serviceList: async () => ({ services: [{ id: "machined" }, { id: "apid" }] }),
    stats: async () => ({ memory: { total: 1 } }),
    processes: async () => ({ processes: [{ pid: 1, cmdline: "node machined" }] }),
    memory: async () => ({ totalBytes: 1 }),
    disks: async () => ({ disks: [] }),
    mounts: async () => ({ mounts: [] }),
    netstat: async () => ({ sockets: [] }),
    dmesg: () => stream([{ monotonicUs: 1_500_000, message: "Linux version 6.1" }]),
    events: () => stream([{ id: "b:1", timeUnixMs: 0, type: "boot.start", message: "boot started", fields: {} }]),
    logs: () => stream([{ message: `{"msg":"hello"}` }, { message: `oops ${KEY}` }]),
    ...overrides,
  };
  return new Proxy({}, { get: (_t, name: string) => base[name] }) as MachineClient;
}

const grpcError = (code: number, details: string) => Object.assign(new Error(details), { code, details });

describe("collectNode", () => {
  it("collects every item, one log per service, and scrubs keys", async () => {
    const logs = (req: { service: string }) => {
      if (req.service === "apid") throw grpcError(status.NOT_FOUND, 'no log for service "apid"');
      return (async function* () { yield { message: `oops ${KEY}` }; })();
    };
    const c = await collectNode(fakeClient({ logs: logs as () => unknown }), "10.0.0.1:50000");
    expect(c.reachable).toBe(true);
    expect(c.files.map((f) => f.name)).toEqual(["version.json", "config.yaml", "services.json", "stats.json", "ps.json", "memory.json", "disks.json", "mounts.json", "netstat.json", "dmesg.log", "events.log", "logs/machined.log"]);
    expect(c.failures).toEqual([]);
    expect(c.notes).toEqual(['logs/apid.log: NOT_FOUND: no log for service "apid"']);
    expect(c.files.find((f) => f.name === "logs/machined.log")?.content).toBe(`oops ${SCRUBBED}\n`);
    expect(c.files.find((f) => f.name === "dmesg.log")?.content).toBe("[    1.500000] Linux version 6.1\n");
    expect(JSON.parse(c.files[0]!.content)).toMatchObject({ slots: [{ state: "SLOT_STATE_GOOD" }] });
  });

  it("records a failing item and goes on; an unreachable node is tried once", async () => {
    const c = await collectNode(fakeClient({ stats: async () => Promise.reject(grpcError(status.PERMISSION_DENIED, "role os:reader may not call Stats")) }), "n");
    expect(c.failures).toEqual([{ item: "stats.json", error: "PERMISSION_DENIED: role os:reader may not call Stats" }]);
    expect(c.files.map((f) => f.name)).toContain("events.log");

    let calls = 0;
    const down = await collectNode(fakeClient({ version: async () => (calls++, Promise.reject(grpcError(status.UNAVAILABLE, "No connection established"))) }), "gone:1");
    expect(down).toMatchObject({ reachable: false, files: [], failures: [{ item: "version.json", error: "UNAVAILABLE: No connection established" }] });
    expect(calls).toBe(1);
  });
});

describe("writeSupportArchive", () => {
  it("writes summary files and a folder per node; colliding folder names get a suffix", async () => {
    const nodes: NodeCollection[] = [
      { node: "a:1", reachable: true, files: [{ name: "version.json", content: "{}\n" }, { name: "logs/machined.log", content: "x\n" }], failures: [], notes: [] },
      { node: "a_1", reachable: false, files: [], failures: [{ item: "version.json", error: "UNAVAILABLE: down" }], notes: [] },
    ];
    const out = join(dir, "b.tar.gz");
    const summary = await writeSupportArchive(out, nodes, new Date(0));
    const files = await readTarGz(out);
    expect([...files.keys()].sort()).toEqual(["a_1/logs/machined.log", "a_1/version.json", "summary.json", "summary.txt"]);
    expect(summary.nodes.map((n) => n.folder)).toEqual(["a_1", "a_1-2"]);
    expect(files.get("summary.txt")?.toString()).toMatch(/a_1 \(folder a_1-2\/\): UNREACHABLE\n  failed version.json: UNAVAILABLE: down/);
    expect(readdirSync(dir)).toEqual(["b.tar.gz"]); // no partial file left behind
  });
});

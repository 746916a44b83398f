import { Client, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MachineServiceService } from "../../src/api/index.js";
import { maintenanceChannelCredentials } from "../../src/machinery/client/index.js";
import { TestCluster, expectCode, nodectl, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// The first contact with a node: maintenance TLS pinned by the printed
// fingerprint, then the switch to mTLS. Each test needs its own
// unconfigured node, since applying a config is a one-way door.

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.create("maint");
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

describe("maintenance mode", () => {
  it("takes its first config from nodectl pinned to the printed fingerprint, then serves mTLS only", async () => {
    const node = await startNode();
    const fp = node.fingerprint;
    expect(fp, node.output()).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const before = await nodectl(["-n", node.address, "version", "--insecure", "-o", "json"]);
    expect(before.code, show(before)).toBe(0);
    expect(JSON.parse(before.stdout)[0].maintenance).toBe(true);

    const applied = await nodectl(["-n", node.address, "apply-config", "--insecure", "--cert-fingerprint", fp as string, "-f", cluster.paths.nodeConfigPath]);
    expect(applied.code, show(applied)).toBe(0);
    expect(applied.stdout).toContain("maintenance");

    await node.waitReady({ mode: "configured", creds: cluster.creds() });
    const after = await nodectl(["-n", node.address, "version", "-o", "json"], cluster.env);
    expect(after.code, show(after)).toBe(0);
    const [row] = JSON.parse(after.stdout) as { node: string; maintenance: boolean; cluster: string }[];
    expect(row).toMatchObject({ node: node.address, maintenance: false, cluster: "maint" });

    const v = await cluster.client(node).version();
    expect(v.maintenance).toBe(false);
    expect(v.cluster).toBe("maint");

    // The maintenance door is shut: no client cert, no call.
    const anon = await nodectl(["-n", node.address, "version", "--insecure"]);
    expect(anon.code, show(anon)).not.toBe(0);
  });

  it("refuses a wrong fingerprint and stays in maintenance mode", async () => {
    const node = await startNode();
    const real = node.fingerprint as string;
    // Same shape, last byte changed: only the pin can tell them apart.
    const wrong = real.slice(0, -2) + (real.endsWith("00") ? "01" : "00");
    const r = await nodectl(["-n", node.address, "apply-config", "--insecure", "--cert-fingerprint", wrong, "-f", cluster.paths.nodeConfigPath]);
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stderr).toMatch(/fingerprint/i);
    expect(r.stderr).not.toMatch(/^\s+at /m);

    // The typed client enforces the same pin: the handshake is dropped.
    const pinned = await expectCode(cluster.client(node, maintenanceChannelCredentials(wrong)).version(), status.UNAVAILABLE);
    expect(pinned.details).toMatch(/fingerprint/);

    const v = await cluster.client(node, maintenanceChannelCredentials(real)).version();
    expect(v.maintenance).toBe(true);
  });

  it("answers only Version and ApplyConfiguration; every other RPC is PERMISSION_DENIED", async () => {
    const node = await startNode();
    const outcomes = await callEveryMethod(node);
    const methods = Object.keys(MachineServiceService);
    expect(Object.keys(outcomes).sort()).toEqual([...methods].sort());
    for (const [name, code] of Object.entries(outcomes)) {
      if (name === "version") expect(code, name).toBe(status.OK);
      // An empty document reaches the config validator: the gate let it through.
      else if (name === "applyConfiguration") expect(code, name).toBe(status.INVALID_ARGUMENT);
      else expect(code, name).toBe(status.PERMISSION_DENIED);
    }
    // The empty apply changed nothing.
    const v = await cluster.client(node, maintenanceChannelCredentials(node.fingerprint)).version();
    expect(v.maintenance).toBe(true);
  });
});

/**
 * Calls every method of the generated service definition with an empty
 * request (valid protobuf for any message) over maintenance TLS, so a new
 * RPC is covered without touching this test. Returns the status per method.
 */
async function callEveryMethod(node: NodeProcess): Promise<Record<string, status>> {
  const raw = new Client(node.address, maintenanceChannelCredentials(node.fingerprint));
  const id = (b: Buffer) => b;
  const empty = Buffer.alloc(0);
  const deadline = () => ({ deadline: Date.now() + 5_000 });
  const result: Record<string, status> = {};
  try {
    for (const [name, def] of Object.entries(MachineServiceService)) {
      result[name] = await new Promise<status>((resolve) => {
        const done = (err: ServiceError | null) => resolve(err ? err.code : status.OK);
        if (!def.requestStream && !def.responseStream) {
          raw.makeUnaryRequest(def.path, id, id, empty, deadline(), (err) => done(err));
        } else if (def.responseStream) {
          const call = raw.makeServerStreamRequest(def.path, id, id, empty, deadline());
          call.on("data", () => undefined);
          call.on("error", (err: ServiceError) => done(err));
          call.on("end", () => done(null));
        } else {
          const call = raw.makeClientStreamRequest(def.path, id, id, deadline(), (err) => done(err));
          call.write(empty);
          call.end();
        }
      });
    }
  } finally {
    raw.close();
  }
  return result;
}

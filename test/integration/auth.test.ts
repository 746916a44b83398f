import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MachineClient, maintenanceChannelCredentials, mtlsChannelCredentials } from "../../src/machinery/client/index.js";
import { generateCa, issueClientCert } from "../../src/pki/index.js";
import { TestCluster, expectCode, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// Who may talk to a configured node, and what each role may do. One node
// serves every test: none of them may change its state (that is the point).

let cluster: TestCluster;
let node: NodeProcess;
let configBefore: string;

beforeAll(async () => {
  cluster = await TestCluster.create("auth");
  node = await startNode();
  await cluster.configure(node);
  configBefore = Buffer.from((await cluster.client(node).getConfiguration()).data).toString("utf8");
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

/** A client with a cert from `ca` for `role`, verifying the node with this cluster's CA. */
function clientWith(cert: { certPem: string; keyPem: string }): MachineClient {
  return cluster.client(node, mtlsChannelCredentials({ caPem: cluster.secrets.ca.certPem, ...cert }));
}

describe("TLS: who may connect to a configured node", () => {
  it("admits the generated admin cert (control for the refusals below)", async () => {
    const v = await cluster.client(node).version();
    expect(v.maintenance).toBe(false);
  });

  it("refuses a client without a certificate (handshake: UNAVAILABLE)", async () => {
    await expectCode(cluster.client(node, maintenanceChannelCredentials()).version(), status.UNAVAILABLE);
  });

  it("refuses a certificate from another CA", async () => {
    const otherCa = generateCa({ commonName: "intruder" });
    const cert = issueClientCert(otherCa, { commonName: "intruder", roles: ["os:admin"] });
    await expectCode(clientWith(cert).version(), status.UNAVAILABLE);
  });

  it("refuses an expired certificate from the right CA", async () => {
    const day = 86_400_000;
    const cert = issueClientCert(cluster.secrets.ca, {
      commonName: "expired",
      roles: ["os:admin"],
      notBefore: new Date(Date.now() - 10 * day),
      notAfter: new Date(Date.now() - day),
    });
    await expectCode(clientWith(cert).version(), status.UNAVAILABLE);
  });
});

describe("RBAC: what each role may call", () => {
  it("lets a reader call Version but not Reboot", async () => {
    const reader = cluster.client(node, cluster.creds("os:reader"));
    const before = await reader.version();
    const err = await expectCode(reader.reboot(), status.PERMISSION_DENIED);
    expect(err.details).toMatch(/os:reader/);
    // Not rebooted: same boot.
    expect((await reader.version()).bootId).toBe(before.bootId);
  });

  it("refuses a reader's Read outside /var/log, while an admin's Read passes the file policy", async () => {
    const reader = cluster.client(node, cluster.creds("os:reader"));
    await expectCode(reader.read("/var/no-such-file"), status.PERMISSION_DENIED);
    // The admin gets past RBAC to the file system: NOT_FOUND, not PERMISSION_DENIED.
    await expectCode(cluster.client(node).read("/var/no-such-file"), status.NOT_FOUND);
  });

  it("refuses ApplyConfiguration to an operator and applies nothing", async () => {
    const operator = cluster.client(node, cluster.creds("os:operator"));
    await operator.version();
    await expectCode(operator.applyConfiguration({ data: Buffer.from(cluster.withHostname("by-operator")) }), status.PERMISSION_DENIED);
    const after = Buffer.from((await cluster.client(node).getConfiguration()).data).toString("utf8");
    expect(after).toBe(configBefore);
    expect((await operator.version()).hostname).not.toBe("by-operator");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster, nodectl, pollUntil, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// Two nodes of one cluster: a reboot of one, then nodectl fanning out over
// both, with both up and with one of them down.

let cluster: TestCluster;
let a: NodeProcess;
let b: NodeProcess;

beforeAll(async () => {
  cluster = await TestCluster.create("fleet");
  [a, b] = await Promise.all([startNode(), startNode()]);
  await Promise.all([cluster.configure(a, cluster.withHostname("node-a")), cluster.configure(b, cluster.withHostname("node-b"))]);
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

/** The table row nodectl printed for `node`, split into cells. */
const row = (stdout: string, node: string) => stdout.split("\n").find((l) => l.startsWith(`${node} `))?.trim().split(/\s{2,}/);

describe("reboot", () => {
  it("nodectl reboot: a new boot id, the same config, the same port", async () => {
    const c = cluster.client(a);
    const v0 = await c.version();
    const cfg0 = await c.getConfiguration();
    const asked = Date.now();
    const r = await nodectl(["-n", a.address, "reboot"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(v0.bootId);
    const v1 = await pollUntil("a new boot id", async () => {
      const v = await cluster.client(a).version();
      return v.bootId !== v0.bootId ? v : undefined;
    });
    expect(v1).toMatchObject({ maintenance: false, hostname: "node-a", cluster: "fleet" });
    // Uptime restarted with the boot: it cannot predate the reboot request.
    expect(v1.uptimeSeconds * 1000).toBeLessThanOrEqual(Date.now() - asked + 50);
    expect((await cluster.client(a).getConfiguration()).data).toEqual(cfg0.data);
    expect(a.running).toBe(true); // restarted in place, not a new process
  });
});

describe("fan-out over -n a,b", () => {
  it("prints a row for each node", async () => {
    const r = await nodectl(["-n", `${a.address},${b.address}`, "version"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe("");
    expect(row(r.stdout, a.address), show(r)).toContain("node-a");
    expect(row(r.stdout, b.address), show(r)).toContain("node-b");
  });

  it("with one node down: exit non-zero, the live row still printed, one error line naming the dead node", async () => {
    await b.kill("SIGKILL");
    const r = await nodectl(["-n", `${a.address},${b.address}`, "version"], cluster.env);
    expect(r.code, show(r)).not.toBe(0);
    expect(row(r.stdout, a.address), show(r)).toContain("node-a");
    expect(row(r.stdout, b.address), show(r)).toBeUndefined();
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines, show(r)).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: node ${b.address}: UNAVAILABLE: `));
    expect(lines[0]).not.toContain(a.address);
  });
});

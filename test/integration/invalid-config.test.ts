import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster, expectCode, nodectl, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// A config with three independent mistakes: the node must name all three
// (not stop at the first) and change nothing.

let cluster: TestCluster;
let node: NodeProcess;
let broken: string;
const PATHS = ["machine.api.port", "machine.hostname", "machine.surprise"];

beforeAll(async () => {
  cluster = await TestCluster.create("invalid");
  node = await startNode();
  await cluster.configure(node, cluster.withHostname("valid"));
  broken = cluster.configWith((d) => {
    d.machine["hostname"] = "Not_A_Label";
    d.machine["api"] = { port: 70000 };
    d.machine["surprise"] = true;
  });
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

const activeFile = () => readFileSync(join(node.dir, "state/config/active.yaml"), "utf8");

describe("an invalid config", () => {
  it("is INVALID_ARGUMENT with exactly its three field paths, via the client", async () => {
    const c = cluster.client(node);
    const before = await c.getConfiguration();
    const onDisk = activeFile();
    const err = await expectCode(c.applyConfiguration({ data: Buffer.from(broken) }), status.INVALID_ARGUMENT);
    expect(err.fieldDetails?.map((d) => d.path).sort()).toEqual(PATHS);
    for (const d of err.fieldDetails ?? []) expect(d.message, d.path).not.toBe("");
    expect((await c.getConfiguration()).data).toEqual(before.data);
    expect(activeFile()).toBe(onDisk);
    expect((await c.version()).hostname).toBe("valid");
  });

  it("is reported by nodectl with each path, exit non-zero, nothing applied", async () => {
    const onDisk = activeFile();
    const file = join(cluster.dir, "broken.yaml");
    writeFileSync(file, broken);
    const r = await nodectl(["-n", node.address, "apply-config", "-f", file], cluster.env);
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^error: node ${node.address}: INVALID_ARGUMENT: `, "m"));
    const named = PATHS.filter((p) => new RegExp(`^\\s+${p.replace(/\./g, "\\.")}: `, "m").test(r.stderr));
    expect(named, show(r)).toEqual(PATHS);
    // Exactly three detail lines: no duplicate, no fourth finding.
    expect(r.stderr.split("\n").filter((l) => /^\s+\S/.test(l)), show(r)).toHaveLength(3);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(activeFile()).toBe(onDisk);
  });
});

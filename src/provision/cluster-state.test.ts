import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readClusterState, resolveStateRoot, validateClusterName, writeClusterState, type ClusterState } from "./cluster-state.js";
import { createCluster, destroyCluster, listClusters } from "./cluster.js";

function sample(dir: string): ClusterState {
  const node = (n: number) => ({
    name: `c1-node-${n}`, pid: 4242 + n, apiEndpoint: `127.0.0.1:${41000 + n}`, apiHostPort: 41000 + n,
    workDir: join(dir, `c1-node-${n}`), consoleLog: join(dir, `c1-node-${n}`, "console.log"),
    qmpSocket: join(dir, `c1-node-${n}`, "qmp.sock"), pidFile: join(dir, `c1-node-${n}`, "qemu.pid"),
    overlay: join(dir, `c1-node-${n}`, "disk.qcow2"), accel: "tcg" as const, memoryMiB: 512, cpus: 1,
  });
  return { version: 1, name: "c1", createdAt: "2026-01-01T00:00:00.000Z", image: "/img/cairn.raw", accel: "tcg", dir, nodes: [node(1), node(2)] };
}

describe("cluster.json", () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), "cairn-state-"))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("round-trips through write and read", async () => {
    const state = sample(root);
    await writeClusterState(state);
    expect(await readClusterState(root)).toEqual(state);
  });

  it("reports a missing record as NOT_FOUND and a malformed one with field paths", async () => {
    await expect(readClusterState(join(root, "nope"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    writeFileSync(join(root, "cluster.json"), JSON.stringify({ ...sample(root), nodes: [{ name: "x", pid: -1 }] }));
    const err = await readClusterState(root).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INTERNAL" });
    expect((err as { details: { path: string }[] }).details.map((d) => d.path)).toContain("nodes.0.pid");
  });

  it("lists clusters with liveness (recorded pids that are not our QEMU count as stopped)", async () => {
    const dir = join(root, "c1");
    await import("node:fs/promises").then((f) => f.mkdir(dir));
    await writeClusterState(sample(dir));
    const list = await listClusters(root);
    expect(list.map((c) => c.state.name)).toEqual(["c1"]);
    expect(list[0]?.running).toEqual({ "c1-node-1": false, "c1-node-2": false });
  });

  it("destroys a cluster whose nodes are gone without signalling anything, and removes its directory", async () => {
    const dir = join(root, "c1");
    await import("node:fs/promises").then((f) => f.mkdir(dir));
    await writeClusterState(sample(dir));
    await destroyCluster("c1", root);
    expect(await listClusters(root)).toEqual([]);
    await expect(destroyCluster("c1", root)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses to create over an existing cluster, naming the path", async () => {
    const dir = join(root, "c1");
    await import("node:fs/promises").then((f) => f.mkdir(dir));
    await expect(createCluster({ name: "c1", image: "/x.raw", nodes: 1, stateRoot: root, accel: "tcg" })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
      message: expect.stringContaining(dir),
    });
  });

  it("resolves the state root from the argument, then CAIRN_STATE_ROOT, then ~/.cairn/clusters", () => {
    expect(resolveStateRoot("/a", { CAIRN_STATE_ROOT: "/b" })).toBe("/a");
    expect(resolveStateRoot(undefined, { CAIRN_STATE_ROOT: "/b" })).toBe("/b");
    expect(resolveStateRoot(undefined, {})).toMatch(/\.cairn\/clusters$/);
  });

  it("validates cluster names", () => {
    expect(() => validateClusterName("dev-1")).not.toThrow();
    for (const bad of ["", "../x", "Dev", "a b", "-x"]) expect(() => validateClusterName(bad)).toThrow(/cluster name/);
  });
});

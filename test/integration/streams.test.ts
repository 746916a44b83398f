import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../src/api/index.js";
import { TestCluster, nodectl, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// Server-streaming RPCs through nodectl and the client: logs, events, ls.

let cluster: TestCluster;
let node: NodeProcess;

beforeAll(async () => {
  cluster = await TestCluster.create("streams");
  node = await startNode();
  await cluster.configure(node);
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

describe("streams", () => {
  it("nodectl logs machined --tail 5 prints the last five lines", async () => {
    const r = await nodectl(["-n", node.address, "logs", "machined", "--tail", "5"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines, show(r)).toHaveLength(5);
    for (const l of lines) expect(l.trim()).not.toBe("");
    // The node has logged more than five lines; the tail is a contiguous run
    // of the full log, not its beginning (the full log may have grown since).
    const all = (await nodectl(["-n", node.address, "logs", "machined"], cluster.env)).stdout.trimEnd().split("\n");
    expect(all.length).toBeGreaterThan(5);
    const at = all.findIndex((_, i) => lines.every((l, j) => all[i + j] === l));
    expect(at, show(r)).toBeGreaterThan(0);
  });

  it("Events after an apply contains config.applied", async () => {
    const c = cluster.client(node);
    await c.applyConfiguration({ data: Buffer.from(cluster.withHostname("evented")) });
    const events: Event[] = [];
    for await (const e of c.events({ tailEvents: 100 })) events.push(e);
    const applied = events.filter((e) => e.type === "config.applied");
    // One for the first config (maintenance exit), one for this apply.
    expect(applied.length, events.map((e) => e.type).join(", ")).toBe(2);
    expect(applied.at(-1)?.message).toMatch(/live/);
    expect(events.at(-1)?.type).toBe("config.applied");
    const r = await nodectl(["-n", node.address, "events"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/config\.applied/);
  });

  it("nodectl ls /var lists; ls /system/state is PERMISSION_DENIED", async () => {
    const ok = await nodectl(["-n", node.address, "ls", "-l", "/var"], cluster.env);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toMatch(/^NODE\s+MODE\s+TYPE\s+SIZE\s+MODIFIED\s+PATH/);
    expect(ok.stdout).toMatch(new RegExp(`^${node.address}\\s+0\\d+\\s+dir\\s+\\d+\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+/var/log$`, "m"));
    const short = await nodectl(["-n", node.address, "ls", "/var"], cluster.env);
    expect(short.stdout, show(short)).toMatch(new RegExp(`^NODE\\s+PATH\n(.*\n)*${node.address}\\s+/var/log$`, "m"));

    const denied = await nodectl(["-n", node.address, "ls", "/system/state"], cluster.env);
    expect(denied.code, show(denied)).not.toBe(0);
    expect(denied.stderr).toMatch(new RegExp(`^error: node ${node.address}: PERMISSION_DENIED: `, "m"));
    expect(denied.stdout).not.toMatch(/config|active\.yaml/);
  });
});

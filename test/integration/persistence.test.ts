import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// The config on the STATE "disk" must survive a clean stop and a SIGKILL at
// any instant of an apply: the node comes back configured with the old or
// the new document, never a torn one and never in maintenance mode.

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.create("persist");
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
});

const configDir = (n: NodeProcess) => join(n.dir, "state/config");
const activeFile = (n: NodeProcess) => readFileSync(join(configDir(n), "active.yaml"), "utf8");

describe("persistence", () => {
  it("keeps the config across a SIGTERM and a restart on the same directory", async () => {
    const node = await startNode();
    const yaml = cluster.withHostname("persisted");
    await cluster.configure(node, yaml);
    const before = await cluster.client(node).getConfiguration();
    const boot0 = (await cluster.client(node).version()).bootId;

    await node.stop();
    expect((await node.exited).signal).toBe("SIGTERM");
    await node.start({ mode: "configured", creds: cluster.creds() });

    const v = await cluster.client(node).version();
    expect(v.bootId).not.toBe(boot0);
    expect(v).toMatchObject({ maintenance: false, hostname: "persisted", cluster: "persist" });
    expect((await cluster.client(node).getConfiguration()).data).toEqual(before.data);
    expect(activeFile(node)).toBe(yaml);
  });

  it("survives SIGKILL at a random instant of an apply, 15 times: old or new config, never torn", async () => {
    const node = await startNode();
    const applied = new Map<string, string>(); // file text -> hostname
    const first = cluster.withHostname("crash-0");
    applied.set(first, "crash-0");
    await cluster.configure(node, first);
    const ready = { mode: "configured", creds: cluster.creds() } as const;

    for (let i = 1; i <= 15; i++) {
      const hostname = `crash-${i}`;
      const yaml = cluster.withHostname(hostname);
      applied.set(yaml, hostname);
      const c = cluster.client(node);
      // Connect first, so the random delay below spans the apply itself, not the TLS handshake.
      await c.version();
      // The outcome of the call is irrelevant: the node may die before, during or after it.
      const call = c.applyConfiguration({ data: Buffer.from(yaml) }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 31)));
      await node.kill("SIGKILL");
      await call;
      c.close();

      const files = readdirSync(configDir(node));
      const text = activeFile(node);
      expect(applied.has(text), `iteration ${i}: active.yaml is none of the applied documents (torn?):\n${text}`).toBe(true);
      // slots/ holds each boot slot's last-known-good config (issue 5); no stray temp or staged file.
      expect(files.filter((f) => !f.startsWith(".") && f !== "slots"), `iteration ${i}`).toEqual(["active.yaml"]);

      // start() fails fast if the node comes up in maintenance mode or dies.
      await node.start(ready);
      const v = await cluster.client(node).version();
      expect(v.maintenance).toBe(false);
      expect([...applied.values()]).toContain(v.hostname);
      expect(v.hostname, `iteration ${i}: the running hostname must be the one on disk`).toBe(applied.get(text));
    }
  });
});

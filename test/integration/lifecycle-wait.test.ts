import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlotState } from "../../src/api/index.js";
import { writeBundle, type BundleManifest } from "../../src/machinery/bundle/index.js";
import { TestCluster, freePort, nodectl, pollUntil, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// Tracked lifecycle (`--wait`): nodectl records the boot id, makes the call,
// and returns only once the node answers from a new boot, saying where it
// came back; or fails with one line once --timeout passes.

process.env["CAIRN_BLESS_GRACE_MS"] = "1000";

const tmp = mkdtempSync(join(tmpdir(), "cairn-it-wait-"));
const release = generateKeyPairSync("ed25519");
const pem = (k: KeyObject) => k.export({ type: "spki", format: "pem" }).toString();
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A small signed bundle of `version` (the parts' content does not matter in process mode). */
async function makeBundle(version: string): Promise<string> {
  const files = { kernel: join(tmp, `${version}.kernel`), initramfs: join(tmp, `${version}.initramfs`), rootfs: join(tmp, `${version}.rootfs`) };
  writeFileSync(files.kernel, `kernel ${version}\n`);
  writeFileSync(files.initramfs, `initramfs ${version}\n`);
  writeFileSync(files.rootfs, Buffer.alloc(300_000, version));
  const parts = (["kernel", "initramfs", "rootfs"] as const).map((n) => {
    const b = readFileSync(files[n]);
    return { name: n, size: b.length, sha256: sha(b) };
  });
  const manifest: BundleManifest = { format: 1, version, arch: process.arch === "x64" ? "amd64" : process.arch, buildId: `it-${version}`, keyId: "it", parts };
  const path = join(tmp, `${version}.bundle`);
  await writeBundle(path, manifest, files, release.privateKey);
  return path;
}

/**
 * A TCP relay in front of a node. cut() stops new connections from getting
 * through while open ones (the call that asked for the reboot) finish: to
 * nodectl, a node that never comes back.
 */
async function relay(target: NodeProcess): Promise<{ address: string; cut: () => void; close: () => void }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((down) => {
    if (cut) {
      down.destroy();
      return;
    }
    const up = connect(target.port, "127.0.0.1");
    for (const s of [down, up]) {
      sockets.add(s);
      s.on("error", () => undefined).on("close", () => sockets.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    address: `127.0.0.1:${port}`,
    cut: () => (cut = true),
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

let cluster: TestCluster;
let node: NodeProcess;
const version = () => cluster.client(node).version();

beforeAll(async () => {
  cluster = await TestCluster.create("waits");
  node = await startNode();
  await cluster.configure(node, cluster.configWith((d) => (d.machine["update"] = { publicKeys: [pem(release.publicKey)] })));
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe("reboot --wait", () => {
  it("prints the old and the new boot id and exits 0 only once the node answers from the new boot", async () => {
    const v0 = await version();
    const r = await nodectl(["-n", node.address, "reboot", "--wait", "--timeout", "20s"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    // Straight after nodectl returned, the node already answers from the new boot.
    const v1 = await version();
    expect(v1.bootId).not.toBe(v0.bootId);
    expect(r.stdout.trim(), show(r)).toMatch(
      new RegExp(`^${node.address}: rebooted: boot ${v0.bootId.slice(0, 8)}… → ${v1.bootId.slice(0, 8)}… \\(slot A, 0\\.1\\.0\\) in \\d+\\.\\ds$`),
    );
  });

  it("a node that does not come back: exit non-zero after --timeout with one line naming the last error", async () => {
    const front = await relay(node);
    try {
      // Cut the relay the moment the node announces the reboot: the reply still gets out, nothing after it.
      // tailEvents 1: the replayed event proves the stream is open before nodectl runs.
      const watch = new AbortController();
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      const cutOnReboot = (async () => {
        for await (const e of cluster.client(node).events({ follow: true, tailEvents: 1 }, watch.signal)) {
          open();
          if (e.type === "power.reboot") return front.cut();
        }
      })().catch(() => undefined);
      await opened;
      const started = Date.now();
      const r = await nodectl(["-n", front.address, "reboot", "--wait", "--timeout", "2s"], cluster.env);
      watch.abort();
      await cutOnReboot;
      expect(r.code, show(r)).not.toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(r.stdout, show(r)).toBe("");
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines, show(r)).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: node ${front.address}: did not come back within 2s \\(last error: UNAVAILABLE: .+\\)$`));
    } finally {
      front.close();
    }
    // The node itself did reboot: wait for it so the next test starts from a settled node.
    await node.waitReady({ mode: "configured", creds: cluster.creds() });
  });
});

describe("upgrade and rollback --wait", () => {
  it("upgrade --reboot --wait reports the new version and slot, with upload progress as plain lines", async () => {
    const image = await makeBundle("2.0.0");
    const v0 = await version();
    const r = await nodectl(["-n", node.address, "upgrade", "--image", image, "--reboot", "--wait", "--timeout", "20s"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    const v1 = await version();
    expect(v1).toMatchObject({ osVersion: "2.0.0", bootedSlot: "B" });
    expect(r.stdout.trim(), show(r)).toMatch(
      new RegExp(`^${node.address}: upgraded: 0\\.1\\.0 \\(slot A\\) → 2\\.0\\.0 \\(slot B\\), boot ${v0.bootId.slice(0, 8)}… → ${v1.bootId.slice(0, 8)}… in \\d+\\.\\ds$`),
    );
    expect(r.stderr, show(r)).toMatch(new RegExp(`^${node.address}: uploaded 100% \\(0\\.3/0\\.3 MB, [\\d.]+ MB/s\\)$`, "m"));
  });

  it("rollback --reboot --wait returns to the previous version and slot", async () => {
    // A trial boot cannot be rolled away from until it is blessed (a second or so here).
    await pollUntil("slot B to be blessed", async () => ((await version()).slots.find((s) => s.name === "B")?.state === SlotState.SLOT_STATE_GOOD ? true : undefined), {
      timeoutMs: 10_000,
    });
    const r = await nodectl(["-n", node.address, "rollback", "--reboot", "--wait", "--timeout", "20s"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout, show(r)).toMatch(new RegExp(`^${node.address}: rolled back: 2\\.0\\.0 \\(slot B\\) → 0\\.1\\.0 \\(slot A\\), boot `));
    expect(await version()).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A" });
  });
});

describe("shutdown and reset --wait", () => {
  it("shutdown --wait returns once the node stops answering", async () => {
    const v0 = await version();
    const r = await nodectl(["-n", node.address, "shutdown", "--wait", "--timeout", "10s"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.trim(), show(r)).toBe(`${node.address}: shut down: boot ${v0.bootId.slice(0, 8)}… stopped answering in ${/in (\d+\.\ds)$/.exec(r.stdout.trim())?.[1]}`);
    await node.exited;
  });

  it("reset --wait waits for maintenance mode, over maintenance TLS (the cluster CA no longer applies)", async () => {
    await node.start({ mode: "configured", creds: cluster.creds() });
    const v0 = await version();
    const r = await nodectl(["-n", node.address, "reset", "--wait", "--timeout", "20s"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.trim(), show(r)).toMatch(new RegExp(`^${node.address}: reset: boot ${v0.bootId.slice(0, 8)}… → \\S+…, in maintenance mode \\(slot A, 0\\.1\\.0\\) in \\d+\\.\\ds$`));
    await node.waitReady({ mode: "maintenance" }, { timeoutMs: 2_000 });
  });
});

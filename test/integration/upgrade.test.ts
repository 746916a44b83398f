import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlotState, type VersionResponse } from "../../src/api/index.js";
import { writeBundle, type BundleManifest } from "../../src/machinery/bundle/index.js";
import { ProcessPlatform } from "../../src/platform/index.js";
import { createLogger } from "../../src/log/index.js";
import { TestCluster, expectCode, nodectl, pollUntil, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// A/B upgrades in process mode: slots are files under the node's directory
// and ProcessPlatform plays systemd-boot (entry choice, boot counting).
// Install → reboot → slot B → blessed; every refusal leaves Version and the
// slots unchanged; Rollback; and a fallback after a slot's tries ran out.

process.env["CAIRN_BLESS_GRACE_MS"] = "1500";

const tmp = mkdtempSync(join(tmpdir(), "cairn-it-upgrade-"));
const trusted = generateKeyPairSync("ed25519");
const untrusted = generateKeyPairSync("ed25519");
const untrusted_ = untrusted;
const pem = (k: KeyObject) => k.export({ type: "spki", format: "pem" }).toString();
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A small signed bundle with recognisable parts; returns its path and bytes. */
async function makeBundle(name: string, version: string, key: KeyObject = trusted.privateKey): Promise<{ path: string; bytes: Buffer }> {
  const dir = join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  const files = { kernel: join(tmp, `${name}.kernel`), initramfs: join(tmp, `${name}.initramfs`), rootfs: join(tmp, `${name}.rootfs`) };
  writeFileSync(files.kernel, `kernel ${version}\n`);
  writeFileSync(files.initramfs, `initramfs ${version}\n`);
  writeFileSync(files.rootfs, Buffer.alloc(300_000, version));
  const parts = (["kernel", "initramfs", "rootfs"] as const).map((n) => {
    const b = readFileSync(files[n]);
    return { name: n, size: b.length, sha256: sha(b) };
  });
  const manifest: BundleManifest = { format: 1, version, arch: process.arch === "x64" ? "amd64" : process.arch, buildId: `it-${version}`, keyId: "it", parts };
  const path = join(tmp, `${name}.bundle`);
  await writeBundle(path, manifest, files, key);
  return { path, bytes: readFileSync(path) };
}

function* chunksOf(b: Buffer, size = 64 * 1024): Iterable<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

let cluster: TestCluster;
let node: NodeProcess;
const version = () => cluster.client(node).version();
/** What a refused upgrade must not change. */
const snapshot = (v: VersionResponse) => ({ bootId: v.bootId, os: v.osVersion, slot: v.bootedSlot, slots: v.slots });
const diskFiles = () => (existsSync(join(node.dir, "disk")) ? readdirSync(join(node.dir, "disk")) : []);
const entries = () => readdirSync(join(node.dir, "efi", "loader", "entries")).sort();

beforeAll(async () => {
  cluster = await TestCluster.create("upgrades");
  node = await startNode();
  await cluster.configure(node, cluster.configWith((d) => (d.machine["update"] = { publicKeys: [pem(trusted.publicKey)] })));
});
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe("refusals leave the node unchanged", () => {
  const refusals: [string, () => Promise<{ header: { size: number; sha256: string; force?: boolean }; body: Buffer }>, status, RegExp][] = [
    ["signed by an untrusted key", async () => {
      const b = await makeBundle("untrusted", "2.0.0", untrusted.privateKey);
      return { header: { size: b.bytes.length, sha256: sha(b.bytes) }, body: b.bytes };
    }, status.PERMISSION_DENIED, /does not match any trusted release key/],
    ["unsigned (no signature bytes)", async () => {
      const b = (await makeBundle("unsigned", "2.0.0")).bytes;
      const m = b.readUInt32BE(8);
      const s = b.readUInt32BE(12);
      const out = Buffer.concat([b.subarray(0, 16 + m), b.subarray(16 + m + s)]);
      out.writeUInt32BE(0, 12);
      return { header: { size: out.length, sha256: sha(out) }, body: out };
    }, status.PERMISSION_DENIED, /bundle is unsigned \(no signature\)/],
    ["with a tampered part", async () => {
      const b = Buffer.from((await makeBundle("tampered", "2.0.0")).bytes);
      b[b.length - 10] ^= 0xff;
      return { header: { size: b.length, sha256: sha(b) }, body: b };
    }, status.INVALID_ARGUMENT, /part rootfs sha256 mismatch/],
    ["truncated in transfer", async () => {
      const b = (await makeBundle("truncated", "2.0.0")).bytes;
      return { header: { size: b.length, sha256: sha(b) }, body: b.subarray(0, b.length - 1000) };
    }, status.INVALID_ARGUMENT, /upload truncated: received \d+ of \d+ bytes/],
    ["older than the running version without force", async () => {
      const b = (await makeBundle("older", "0.0.9")).bytes;
      return { header: { size: b.length, sha256: sha(b) }, body: b };
    }, status.FAILED_PRECONDITION, /refusing to install 0\.0\.9: it is not newer than the running 0\.1\.0/],
    ["the same version without force", async () => {
      const b = (await makeBundle("same", "0.1.0")).bytes;
      return { header: { size: b.length, sha256: sha(b) }, body: b };
    }, status.FAILED_PRECONDITION, /not newer/],
  ];

  for (const [what, make, code, message] of refusals) {
    it(`refuses a bundle ${what}`, async () => {
      const before = await version();
      const { header, body } = await make();
      const err = await expectCode(cluster.client(node).upgrade({ reboot: true, stageOnly: false, force: false, url: "", tries: 0, ...header }, chunksOf(body)), code);
      expect(err.details).toMatch(message);
      expect(snapshot(await version())).toEqual(snapshot(before));
      expect(diskFiles()).toEqual([]);
      expect(entries()).toEqual(["cairn-a.conf"]);
      expect(readdirSync(join(node.dir, "var", "lib", "cairn", "upgrade"))).toEqual([]);
    });
  }
});

describe("install, boot the new slot, bless, roll back", () => {
  let v1Hostname = "";
  it("nodectl upgrade --reboot: slot B boots 2.0.0 on trial, then is blessed", async () => {
    const v0 = await version();
    expect(v0).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A" });
    const b = await makeBundle("v2", "2.0.0");
    const r = await nodectl(["-n", node.address, "upgrade", "--image", b.path, "--reboot"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain("installed 2.0.0 in slot B");
    expect(readFileSync(join(node.dir, "disk", "root-b.squashfs"))).toEqual(readFileSync(join(tmp, "v2.rootfs")));
    expect(readFileSync(join(node.dir, "efi", "cairn", "b", "vmlinuz"), "utf8")).toBe("kernel 2.0.0\n");

    const trial = await pollUntil("slot B to boot", async () => {
      const v = await version().catch(() => undefined);
      return v && v.bootId !== v0.bootId ? v : undefined;
    }, { timeoutMs: 20_000, describe: () => node.output() });
    expect(trial).toMatchObject({ osVersion: "2.0.0", bootedSlot: "B", rolledBackFromVersion: "" });
    const trialB = trial.slots.find((s) => s.name === "B")!;
    // Blessing may already have happened if the first poll came late; a trial shows the counted try.
    if (trialB.state === SlotState.SLOT_STATE_PENDING) expect(trialB).toMatchObject({ triesLeft: 2, isDefault: true });

    const blessed = await pollUntil("slot B to be blessed", async () => {
      const v = await version();
      return v.slots.find((s) => s.name === "B")?.state === SlotState.SLOT_STATE_GOOD ? v : undefined;
    }, { timeoutMs: 20_000, describe: () => node.output() });
    expect(blessed.bootId).toBe(trial.bootId);
    expect(blessed.slots).toEqual([
      { name: "A", version: "0.1.0", state: SlotState.SLOT_STATE_GOOD, triesLeft: 0, isDefault: false },
      { name: "B", version: "2.0.0", state: SlotState.SLOT_STATE_GOOD, triesLeft: 0, isDefault: true },
    ]);
    expect(entries()).toEqual(["cairn-a.conf", "cairn-b.conf"]);
    // 2.0.0 runs with a config of its own from here on; 0.1.0's stays saved for slot A.
    v1Hostname = blessed.hostname;
    const p = await nodectl(["-n", node.address, "patch", "-p", '{"machine":{"hostname":"runs-2-0-0"}}'], cluster.env);
    expect(p.code, show(p)).toBe(0);
    expect((await version()).hostname).toBe("runs-2-0-0");
  });

  it("nodectl rollback --reboot: back to 0.1.0 on slot A", async () => {
    const v0 = await version();
    const r = await nodectl(["-n", node.address, "rollback", "--reboot"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain("next boot: slot A (0.1.0)");
    const v1 = await pollUntil("slot A to boot", async () => {
      const v = await version().catch(() => undefined);
      return v && v.bootId !== v0.bootId ? v : undefined;
    }, { timeoutMs: 20_000, describe: () => node.output() });
    expect(v1).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A" });
    expect(v1.slots.map((s) => [s.name, s.version, s.state, s.isDefault])).toEqual([
      ["A", "0.1.0", SlotState.SLOT_STATE_GOOD, true],
      ["B", "2.0.0", SlotState.SLOT_STATE_GOOD, false],
    ]);
    // Slot A's last-known-good config came back with it; 2.0.0's change stays with slot B.
    expect(v1.hostname).toBe(v1Hostname);
    expect(readFileSync(join(node.dir, "state", "config", "slots", "b.yaml"), "utf8")).toContain("runs-2-0-0");
    const events = [];
    for await (const e of cluster.client(node).events({ tailEvents: 100 })) events.push(e);
    expect(events.find((e) => e.type === "config.restored")).toMatchObject({ fields: { slot: "A", fromSlot: "B", changed: "true" } });
  });

  it("a slot that never gets blessed runs out of tries and the node falls back, saying so", async () => {
    const b = await makeBundle("v3", "3.0.0");
    const r = await nodectl(["-n", node.address, "upgrade", "--image", b.path], cluster.env);
    expect(r.code, show(r)).toBe(0);
    const staged = await version();
    expect(staged.slots.find((s) => s.name === "B")).toMatchObject({ version: "3.0.0", state: SlotState.SLOT_STATE_PENDING, triesLeft: 3, isDefault: true });
    // Three boots of slot B that die before blessing: the firmware counts each try.
    await node.stop();
    const log = createLogger({ level: "silent" });
    for (let i = 0; i < 3; i++) {
      const id = await new ProcessPlatform({ dir: node.dir, osVersion: "0.1.0" }).boot(log);
      expect(id).toMatchObject({ slot: "B", osVersion: "3.0.0" });
    }
    expect(entries()).toEqual(["cairn-a.conf", "cairn-b+0-3.conf"]);
    await node.start({ mode: "configured", creds: cluster.creds() });
    const v = await version();
    expect(v).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A", rolledBackFromVersion: "3.0.0" });
    expect(v.rollbackReason).toMatch(/slot B \(3\.0\.0\) used all 3 boot tries without being blessed/);
    expect(v.slots.find((s) => s.name === "B")).toMatchObject({ state: SlotState.SLOT_STATE_BAD, triesLeft: 0, isDefault: false });
    const events = [];
    for await (const e of cluster.client(node).events({ tailEvents: 100 })) events.push(e);
    expect(events.map((e) => e.type)).toContain("upgrade.rolledback");
  });
});

describe("the node downloads a bundle from an http URL", () => {
  let server: Server;
  let base = "";
  const served = new Map<string, Buffer>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = served.get(req.url ?? "");
      if (!body) return void res.writeHead(404).end("no such bundle\n");
      res.writeHead(200, { "content-length": body.length });
      // Two writes with a pause: the node verifies while the bytes stream.
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.end(body.subarray(body.length >> 1)), 50);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("refuses a missing URL, a bad scheme, an untrusted or tampered download, changing nothing", async () => {
    const before = await version();
    const untrusted = await makeBundle("url-untrusted", "4.0.0", untrusted_.privateKey);
    served.set("/untrusted.bundle", untrusted.bytes);
    const tampered = Buffer.from((await makeBundle("url-tampered", "4.0.0")).bytes);
    tampered[tampered.length - 7] ^= 0xff;
    served.set("/tampered.bundle", tampered);
    const cases: [string, RegExp][] = [
      [`${base}/missing.bundle`, /download http:\/\/127\.0\.0\.1:\d+\/missing\.bundle: server answered 404/],
      ["ftp://example.com/x.bundle", /url: ftp is not supported, only http and https/],
      [`${base}/untrusted.bundle`, /PERMISSION_DENIED.*does not match any trusted release key/],
      [`${base}/tampered.bundle`, /INVALID_ARGUMENT.*bundle part rootfs sha256 mismatch/],
    ];
    for (const [url, message] of cases) {
      const r = await nodectl(["-n", node.address, "upgrade", "--url", url, "--reboot"], cluster.env);
      expect(r.code, show(r)).not.toBe(0);
      expect(r.stderr, show(r)).toMatch(message);
    }
    const after = await version();
    expect(snapshot(after)).toEqual(snapshot(before));
    expect(readdirSync(join(node.dir, "var", "lib", "cairn", "upgrade"))).toEqual([]);
  });

  it("nodectl upgrade --url --reboot --wait: the node fetches, verifies and boots 4.0.0", async () => {
    const v0 = await version();
    expect(v0.bootedSlot).toBe("A");
    served.set("/cairn-4.0.0.bundle", (await makeBundle("url-v4", "4.0.0")).bytes);
    const r = await nodectl(["-n", node.address, "upgrade", "--url", `${base}/cairn-4.0.0.bundle`, "--reboot", "--wait", "--timeout", "60"], cluster.env);
    expect(r.code, show(r)).toBe(0);
    const v = await version();
    expect(v).toMatchObject({ osVersion: "4.0.0", bootedSlot: "B" });
    expect(v.bootId).not.toBe(v0.bootId);
    expect(readFileSync(join(node.dir, "disk", "root-b.squashfs"))).toEqual(readFileSync(join(tmp, "url-v4.rootfs")));
  });
});

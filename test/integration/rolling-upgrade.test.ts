import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlotState, type Event } from "../../src/api/index.js";
import { writeBundle, type BundleManifest } from "../../src/machinery/bundle/index.js";
import { TestCluster, nodectl, show, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// nodectl upgrade --rolling on three process-mode nodes: one at a time, each
// healthy (blessed, services ok) on the new version before the next starts;
// the first failure stops the rollout and leaves the rest untouched.

process.env["CAIRN_BLESS_GRACE_MS"] = "1000";

const tmp = mkdtempSync(join(tmpdir(), "cairn-it-rolling-"));
const trusted = generateKeyPairSync("ed25519");
const pem = (k: KeyObject) => k.export({ type: "spki", format: "pem" }).toString();
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function makeBundle(version: string): Promise<string> {
  const files = { kernel: join(tmp, `${version}.kernel`), initramfs: join(tmp, `${version}.initramfs`), rootfs: join(tmp, `${version}.rootfs`) };
  writeFileSync(files.kernel, `kernel ${version}\n`);
  writeFileSync(files.initramfs, `initramfs ${version}\n`);
  writeFileSync(files.rootfs, Buffer.alloc(200_000, version));
  const parts = (["kernel", "initramfs", "rootfs"] as const).map((n) => ({ name: n, size: readFileSync(files[n]).length, sha256: sha(readFileSync(files[n])) }));
  const manifest: BundleManifest = { format: 1, version, arch: process.arch === "x64" ? "amd64" : process.arch, buildId: `it-${version}`, keyId: "it", parts };
  const path = join(tmp, `cairn-${version}.bundle`);
  await writeBundle(path, manifest, files, trusted.privateKey);
  return path;
}

let cluster: TestCluster;
let nodes: NodeProcess[];
const withKey = () => cluster.configWith((d) => (d.machine["update"] = { publicKeys: [pem(trusted.publicKey)] }));

async function eventsOf(node: NodeProcess): Promise<Event[]> {
  const out: Event[] = [];
  for await (const e of cluster.client(node).events({ tailEvents: 200 })) out.push(e);
  return out;
}

beforeAll(async () => {
  cluster = await TestCluster.create("rolling");
  nodes = [];
  for (let i = 0; i < 3; i++) nodes.push(await startNode()); // one by one: three cold starts at once are slow on a shared host
  // The second node does not trust the release key: its upgrade will be refused.
  await Promise.all(nodes.map((n, i) => cluster.configure(n, i !== 1 ? withKey() : cluster.nodeYaml)));
}, 120_000);
afterAll(async () => {
  await stopAllNodes();
  cluster.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe("nodectl upgrade --rolling", () => {
  it("upgrades nodes one at a time through the health gate and stops at the first failure", async () => {
    const bundle = await makeBundle("2.0.0");
    const before = await Promise.all(nodes.map((n) => cluster.client(n).version()));
    const list = nodes.map((n) => n.address).join(",");
    const r = await nodectl(["-n", list, "upgrade", "--image", bundle, "--rolling", "--max-unavailable", "1", "--timeout", "60s"], cluster.env, 120_000);
    expect(r.code, show(r)).toBe(1);
    const [a, b, c] = nodes.map((n) => n.address);
    expect(r.stdout).toMatch(new RegExp(`${a}: upgraded: 0\\.1\\.0 \\(slot A\\) → 2\\.0\\.0 \\(slot B\\).*; healthy \\(blessed, services ok\\) after`));
    expect(r.stdout).toContain(`${b}: FAILED: FAILED_PRECONDITION: no trusted release keys`);
    expect(r.stdout).toContain(`${c}: not attempted (the rollout stopped)`);
    expect(r.stdout).toContain(`rolling upgrade to 2.0.0 stopped at ${b}: 1/3 nodes on 2.0.0, 1 not attempted`);
    expect(r.stdout).not.toContain(`${c}: upgrading`);

    const after = await Promise.all(nodes.map((n) => cluster.client(n).version()));
    expect(after[0]).toMatchObject({ osVersion: "2.0.0", bootedSlot: "B" });
    expect(after[0]!.bootId).not.toBe(before[0]!.bootId);
    expect(after[0]!.slots.find((s) => s.name === "B")?.state).toBe(SlotState.SLOT_STATE_GOOD);
    for (const i of [1, 2]) expect(after[i]).toMatchObject({ osVersion: "0.1.0", bootedSlot: "A", bootId: before[i]!.bootId });
  }, 150_000);

  it("re-run after the cause is fixed: healthy nodes are skipped, the rest go one at a time", async () => {
    const second = nodes[1]!;
    const fix = await nodectl(["-n", second.address, "apply-config", "-f", writeYaml(withKey())], cluster.env);
    expect(fix.code, show(fix)).toBe(0);
    const list = nodes.map((n) => n.address).join(",");
    const r = await nodectl(["-n", list, "upgrade", "--image", join(tmp, "cairn-2.0.0.bundle"), "--rolling", "--timeout", "60s", "-o", "json"], cluster.env, 120_000);
    expect(r.code, show(r)).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; result: string }[] };
    expect(out.ok).toBe(true);
    expect(out.nodes.map((n) => n.result)).toEqual(["skipped", "upgraded", "upgraded"]);
    const after = await Promise.all(nodes.map((n) => cluster.client(n).version()));
    for (const v of after) expect(v).toMatchObject({ osVersion: "2.0.0", bootedSlot: "B" });

    // One at a time, from the nodes' own clocks: the third node's new boot
    // began only after the second node's new boot was blessed.
    const [e2, e3] = await Promise.all([eventsOf(nodes[1]!), eventsOf(nodes[2]!)]);
    const blessed2 = e2.find((e) => e.type === "upgrade.blessed" && e.id.startsWith(after[1]!.bootId));
    expect(blessed2, e2.map((e) => e.type).join(" ")).toBeDefined();
    const boot3 = Math.min(...e3.filter((e) => e.id.startsWith(after[2]!.bootId)).map((e) => e.timeUnixMs));
    expect(boot3).toBeGreaterThan(blessed2!.timeUnixMs);
  }, 150_000);
});

function writeYaml(text: string): string {
  const p = join(tmp, `cfg-${Date.now()}.yaml`);
  writeFileSync(p, text);
  return p;
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bootEntry, bootEntryFileName, kernelCmdline, parseLoaderEntry, selectDefaultEntry, SORT_KEY } from "../../machinery/boot/index.js";
import type { VerifiedBundle } from "../../machinery/bundle/index.js";
import { DirBootStore } from "../../platform/dir-boot-store.js";
import type { BootStore, FileRange, SlotName } from "../../platform/index.js";
import { blessSlot } from "./bless.js";
import { rollbackToOther } from "./rollback.js";
import { configuredArgs, writeKernelArgs } from "../kernel-args.js";
import { writeSlot } from "./write-slot.js";

// A power cut after every single write of an install, a blessing and a
// rollback: whatever systemd-boot would pick next must be a slot whose
// kernel, initramfs and root are complete and of the version its entry
// names. Partial writes of the big files are simulated (half the bytes).

class PowerCut extends Error {}

/** A BootStore that loses power during its `cutAt`-th write (counting from 0); later writes never happen. */
class CuttingStore implements BootStore {
  ops = 0;
  constructor(private readonly inner: DirBootStore, private readonly cutAt: number) {}
  private async step(full: () => Promise<void>, partial?: () => Promise<void>): Promise<void> {
    const n = this.ops++;
    if (n < this.cutAt) return full();
    if (n === this.cutAt && partial) await partial();
    throw new PowerCut(`power cut at write ${n}`);
  }
  releaseKeys = () => this.inner.releaseKeys();
  listEntries = () => this.inner.listEntries();
  rootSlotCapacity = (s: SlotName) => this.inner.rootSlotCapacity(s);
  bootSpaceFor = (rel: string) => this.inner.bootSpaceFor(rel);
  writeEntry = (f: string, t: string) => this.step(() => this.inner.writeEntry(f, t));
  renameEntry = (a: string, b: string) => this.step(() => this.inner.renameEntry(a, b));
  removeEntry = (f: string) => this.step(() => this.inner.removeEntry(f));
  writeBootFile = (rel: string, src: FileRange) => this.step(() => this.inner.writeBootFile(rel, src), () => this.inner.writeBootFile(rel, half(src)));
  writeRootSlot = (s: SlotName, src: FileRange) => this.step(() => this.inner.writeRootSlot(s, src), () => this.inner.writeRootSlot(s, half(src)));
}
const half = (r: FileRange): FileRange => ({ ...r, size: Math.floor(r.size / 2) });

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const parts = (v: string) => [Buffer.from(`KERNEL-${v}`), Buffer.from(`INITRD-${v}`), Buffer.from(`ROOTFS-${v}`)];

function spooled(version: string): { path: string; bundle: VerifiedBundle } {
  const path = join(dir, `spool-${version}.bundle`);
  writeFileSync(path, Buffer.concat(parts(version)));
  let offset = 0;
  const located = (["kernel", "initramfs", "rootfs"] as const).map((name, i) => {
    const p = { name, size: parts(version)[i]!.length, sha256: "", offset };
    offset += p.size;
    return p;
  });
  return { path, bundle: { manifest: { format: 1, version, arch: "amd64", buildId: "t", keyId: "t", parts: located }, parts: located, keyId: "t" } };
}

/** A node as the image builder leaves it: slot A 0.1.0, factory entry. */
async function factory(): Promise<DirBootStore> {
  dir = mkdtempSync(join(tmpdir(), "cairn-cut-"));
  const store = new DirBootStore({ efiDir: async () => join(dir, "efi"), rootTarget: async (s) => join(dir, `root-${s}`), releaseKeysDir: join(dir, "keys") });
  const [k, i, r] = parts("0.1.0");
  mkdirSync(join(dir, "efi", "cairn", "a"), { recursive: true });
  writeFileSync(join(dir, "efi", "cairn", "a", "vmlinuz"), k!);
  writeFileSync(join(dir, "efi", "cairn", "a", "initramfs.zst"), i!);
  writeFileSync(join(dir, "root-A"), r!);
  await store.writeEntry(bootEntryFileName("A"), bootEntry("A", "0.1.0"));
  return store;
}

/** What the firmware boots next, and whether that slot is whole. */
async function nextBoot(store: DirBootStore): Promise<{ slot: string; version: string; whole: boolean }> {
  const entries = (await store.listEntries()).flatMap((e) => parseLoaderEntry(e.file, e.text) ?? []);
  const e = selectDefaultEntry(entries);
  if (!e) return { slot: "none", version: "", whole: false };
  const s = e.slotOption!.toLowerCase();
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  const [k, i, r] = parts(e.version!).map((b) => b.toString());
  const whole = read(join(dir, "efi", "cairn", s, "vmlinuz")) === k && read(join(dir, "efi", "cairn", s, "initramfs.zst")) === i && read(join(dir, `root-${e.slotOption}`)) === r;
  return { slot: e.slotOption!, version: e.version!, whole };
}

/** Runs `op` against a store that cuts power at each write in turn until one run completes; checks the next boot after every cut. */
async function everyCut(prepare: () => Promise<DirBootStore>, op: (s: BootStore) => Promise<unknown>, allowed: string[]): Promise<string[]> {
  const seen: string[] = [];
  for (let cut = 0; ; cut++) {
    const inner = await prepare();
    const store = new CuttingStore(inner, cut);
    let done = false;
    try {
      await op(store);
      done = true;
    } catch (e) {
      if (!(e instanceof PowerCut)) throw e;
    }
    const next = await nextBoot(inner);
    expect(next.whole, `cut at write ${cut}: next boot ${JSON.stringify(next)}`).toBe(true);
    expect(allowed).toContain(`${next.slot}/${next.version}`);
    seen.push(`${next.slot}/${next.version}`);
    rmSync(dir, { recursive: true, force: true });
    if (done) return seen;
  }
}

describe("a power cut at any write leaves a whole slot to boot", () => {
  it("install 0.2.0 into B from a factory node", async () => {
    const seen = await everyCut(factory, (s) => {
      const b = spooled("0.2.0");
      return writeSlot(s, { slot: "B", bundle: b.bundle, spoolPath: b.path, stageOnly: false, booted: { version: "0.1.0" } });
    }, ["A/0.1.0", "B/0.2.0"]);
    // rootfs, kernel, initramfs, B's entry, A's demotion: the factory sort-key keeps A first until that last write.
    expect(seen).toEqual(["A/0.1.0", "A/0.1.0", "A/0.1.0", "A/0.1.0", "A/0.1.0", "B/0.2.0"]);
  });

  /** A node running blessed 0.2.0 in B over 0.1.0 in A: the next install goes into A. */
  async function onB(): Promise<DirBootStore> {
    const store = await factory();
    const b = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: b.bundle, spoolPath: b.path, stageOnly: false, booted: { version: "0.1.0" } });
    await store.renameEntry("cairn-b+3.conf", "cairn-b+2-1.conf");
    await blessSlot(store, "B");
    return store;
  }

  it("install 0.3.0 into A from blessed B (A's old entry goes first)", async () => {
    const seen = await everyCut(onB, (s) => {
      const b = spooled("0.3.0");
      return writeSlot(s, { slot: "A", bundle: b.bundle, spoolPath: b.path, stageOnly: false, booted: { version: "0.2.0" } });
    }, ["B/0.2.0", "A/0.3.0"]);
    expect(seen.at(0)).toBe("B/0.2.0");
    expect(seen.at(-1)).toBe("A/0.3.0");
  });

  it("blessing and rollback are single atomic writes", async () => {
    expect(await everyCut(onB, (s) => rollbackToOther(s, { slot: "B", version: "0.2.0" }), ["A/0.1.0", "B/0.2.0"])).toEqual(["B/0.2.0", "B/0.2.0", "A/0.1.0"]);
    const trial = async () => {
      const store = await factory();
      const b = spooled("0.2.0");
      await writeSlot(store, { slot: "B", bundle: b.bundle, spoolPath: b.path, stageOnly: false, booted: { version: "0.1.0" } });
      await store.renameEntry("cairn-b+3.conf", "cairn-b+2-1.conf");
      return store;
    };
    expect(await everyCut(trial, (s) => blessSlot(s, "B"), ["B/0.2.0"])).toEqual(["B/0.2.0", "B/0.2.0"]);
    expect(SORT_KEY.preferred < SORT_KEY.fallback).toBe(true);
  });
});

describe("kernel args through an upgrade", () => {
  it("the new slot's entry and the fallback entry keep the args machine.kernel.args wrote for the booted slot", async () => {
    const store = await factory();
    expect(await writeKernelArgs(store, "A", ["mitigations=off", "cairn.e2e=1"])).toBe(true);
    const b = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: b.bundle, spoolPath: b.path, stageOnly: false, booted: { version: "0.1.0" } });
    const texts = new Map((await store.listEntries()).map((e) => [e.file, e.text]));
    expect(configuredArgs("B", texts.get("cairn-b+3.conf")!)).toEqual(["mitigations=off", "cairn.e2e=1"]);
    expect(configuredArgs("A", [...texts.entries()].find(([f]) => f.startsWith("cairn-a"))![1])).toEqual(["mitigations=off", "cairn.e2e=1"]);
    expect(texts.get("cairn-b+3.conf")).toContain(`options ${kernelCmdline("B")} mitigations=off cairn.e2e=1\n`);
  });

  it("an entry without configured args gives the build's command line exactly", async () => {
    const store = await factory();
    const b = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: b.bundle, spoolPath: b.path, stageOnly: false, booted: { version: "0.1.0" } });
    const texts = new Map((await store.listEntries()).map((e) => [e.file, e.text]));
    expect(texts.get("cairn-b+3.conf")).toBe(bootEntry("B", "0.2.0", SORT_KEY.preferred));
  });
});

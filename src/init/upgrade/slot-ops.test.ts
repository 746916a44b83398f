import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootEntry, bootEntryFileName } from "../../machinery/boot/index.js";
import type { VerifiedBundle } from "../../machinery/bundle/index.js";
import { DirBootStore } from "../../platform/dir-boot-store.js";
import { blessSlot } from "./bless.js";
import { rollbackToOther } from "./rollback.js";
import { readAssessment } from "./slot-entries.js";
import { writeSlot } from "./write-slot.js";

let dir: string;
let store: DirBootStore;
const entries = () => readdirSync(join(dir, "efi", "loader", "entries")).sort();

/** A fake spooled bundle: three parts back to back after a 10-byte header. */
function spooled(version: string): { path: string; bundle: VerifiedBundle } {
  const parts = [Buffer.from("KERNEL"), Buffer.from("INITRD"), Buffer.from(`ROOTFS-${version}`)];
  const path = join(dir, "spool.bundle");
  writeFileSync(path, Buffer.concat([Buffer.alloc(10), ...parts]));
  let offset = 10;
  const located = (["kernel", "initramfs", "rootfs"] as const).map((name, i) => {
    const p = { name, size: parts[i]!.length, sha256: "0".repeat(64), offset };
    offset += p.size;
    return p;
  });
  return { path, bundle: { manifest: { format: 1, version, arch: "amd64", buildId: "t", keyId: "t", parts: located }, parts: located, keyId: "t" } };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-slots-"));
  store = new DirBootStore({ efiDir: async () => join(dir, "efi"), rootTarget: async (s) => join(dir, `root-${s}`), releaseKeysDir: join(dir, "keys") });
  await store.writeEntry(bootEntryFileName("A"), bootEntry("A", "0.1.0"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeSlot, blessSlot, rollbackToOther", () => {
  it("writes the parts and a counted preferred entry, demoting the booted one", async () => {
    const s = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: s.bundle, spoolPath: s.path, stageOnly: false, booted: { version: "0.1.0" } });
    expect(readFileSync(join(dir, "root-B"), "utf8")).toBe("ROOTFS-0.2.0");
    expect(readFileSync(join(dir, "efi", "cairn", "b", "vmlinuz"), "utf8")).toBe("KERNEL");
    expect(readFileSync(join(dir, "efi", "cairn", "b", "initramfs.zst"), "utf8")).toBe("INITRD");
    expect(entries()).toEqual(["cairn-a.conf", "cairn-b+3.conf"]);
    const a = await readAssessment(store, { slot: "A", version: "0.1.0" });
    expect(a.slots[1]).toMatchObject({ health: "pending", triesLeft: 3, isDefault: true });
  });

  it("names each write just before it starts, in the order that is safe to cut", async () => {
    const steps: string[] = [];
    const s = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: s.bundle, spoolPath: s.path, stageOnly: false, booted: { version: "0.1.0" }, onStep: (x) => steps.push(x) });
    expect(steps).toEqual(["rootfs", "kernel", "initramfs", "entry", "switch"]);
    // A second install into B first removes B's old entry; a staged one never switches.
    steps.length = 0;
    await writeSlot(store, { slot: "B", bundle: s.bundle, spoolPath: s.path, stageOnly: true, booted: { version: "0.1.0" }, onStep: (x) => steps.push(x) });
    expect(steps).toEqual(["remove entry", "rootfs", "kernel", "initramfs", "entry"]);
    expect(entries()).toEqual(["cairn-a.conf", "cairn-b+3.conf"]);
  });

  it("stage only: the new slot is written but the booted one stays the default", async () => {
    const s = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: s.bundle, spoolPath: s.path, stageOnly: true, booted: { version: "0.1.0" } });
    const a = await readAssessment(store, { slot: "A", version: "0.1.0" });
    expect(a.slots.map((x) => x.isDefault)).toEqual([true, false]);
  });

  it("blesses only a counted entry, and rolls back only to a blessed slot", async () => {
    const s = spooled("0.2.0");
    await writeSlot(store, { slot: "B", bundle: s.bundle, spoolPath: s.path, stageOnly: false, booted: { version: "0.1.0" } });
    await expect(rollbackToOther(store, { slot: "A", version: "0.1.0" })).rejects.toThrow(/slot B \(0\.2\.0\) was never blessed/);
    expect(await blessSlot(store, "A")).toBeUndefined();
    expect(await blessSlot(store, "B")).toEqual({ from: "cairn-b+3.conf", to: "cairn-b.conf" });
    expect(await rollbackToOther(store, { slot: "B", version: "0.2.0" })).toEqual({ slot: "A", version: "0.1.0" });
    const a = await readAssessment(store, { slot: "B", version: "0.2.0" });
    expect(a.slots.map((x) => [x.health, x.isDefault])).toEqual([["good", true], ["good", false]]);
  });

  it("refuses a rollback when the other slot is empty", async () => {
    await expect(rollbackToOther(store, { slot: "A", version: "0.1.0" })).rejects.toThrow(/slot B holds no installed version/);
  });
});

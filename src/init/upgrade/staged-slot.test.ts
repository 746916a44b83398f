import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootEntry, bootEntryFileName, selectDefaultEntry } from "../../machinery/boot/index.js";
import type { VerifiedBundle } from "../../machinery/bundle/index.js";
import { DirBootStore } from "../../platform/dir-boot-store.js";
import { readAssessment, readLoaderEntries } from "./slot-entries.js";
import { activateStaged, discardStaged, stagedEntry } from "./staged-slot.js";
import { writeSlot } from "./write-slot.js";

let dir: string;
let store: DirBootStore;
const entriesDir = () => join(dir, "efi", "loader", "entries");

async function stage(version: string): Promise<void> {
  const parts = [Buffer.from("KERNEL"), Buffer.from("INITRD"), Buffer.from(`ROOTFS-${version}`)];
  const path = join(dir, "spool.bundle");
  writeFileSync(path, Buffer.concat(parts));
  let offset = 0;
  const located = (["kernel", "initramfs", "rootfs"] as const).map((name, i) => {
    const p = { name, size: parts[i]!.length, sha256: "0".repeat(64), offset };
    offset += p.size;
    return p;
  });
  const bundle: VerifiedBundle = { manifest: { format: 1, version, arch: "amd64", buildId: "t", keyId: "t", parts: located }, parts: located, keyId: "t" };
  await writeSlot(store, { slot: "B", bundle, spoolPath: path, stageOnly: true, booted: { version: "0.1.0" } });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-staged-"));
  store = new DirBootStore({ efiDir: async () => join(dir, "efi"), rootTarget: async (s) => join(dir, `root-${s}`), releaseKeysDir: join(dir, "keys") });
  // The booted entry carries kernel args (machine.kernel.args): activation must keep them.
  await store.writeEntry(bootEntryFileName("A"), bootEntry("A", "0.1.0").replace(/^options (.*)$/m, "options $1 -- extra=1"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("staged releases (unattended updates)", () => {
  it("a stage-only install is staged, not the default; activation makes it the default with its boot counter", async () => {
    await stage("0.2.0");
    let es = await readLoaderEntries(store);
    expect(stagedEntry(es, "A")?.version).toBe("0.2.0");
    expect(selectDefaultEntry(es)?.file).toBe("cairn-a.conf");
    await expect(activateStaged(store, "A", "0.3.0")).rejects.toThrow(/slot B holds 0\.2\.0, not 0\.3\.0/);

    expect(await activateStaged(store, "A", "0.2.0")).toEqual({ slot: "B", entry: "cairn-b+3.conf" });
    es = await readLoaderEntries(store);
    expect(selectDefaultEntry(es)?.file).toBe("cairn-b+3.conf");
    const a = await readAssessment(store, { slot: "A", version: "0.1.0" });
    expect(a.slots[1]).toMatchObject({ health: "pending", triesLeft: 3, isDefault: true });
    // Only the sort-key lines changed.
    expect(readFileSync(join(entriesDir(), "cairn-a.conf"), "utf8")).toMatch(/^sort-key cairn-1$/m);
    expect(readFileSync(join(entriesDir(), "cairn-a.conf"), "utf8")).toContain("extra=1");
    expect(readFileSync(join(entriesDir(), "cairn-b+3.conf"), "utf8")).toMatch(/^sort-key cairn-0$/m);
    expect(readFileSync(join(entriesDir(), "cairn-b+3.conf"), "utf8")).toContain("extra=1");
  });

  it("a slot that already booted (tries done) or was blessed is not staged", async () => {
    await stage("0.2.0");
    await store.renameEntry("cairn-b+3.conf", "cairn-b+2-1.conf");
    expect(stagedEntry(await readLoaderEntries(store), "A")).toBeUndefined();
    await expect(activateStaged(store, "A", "0.2.0")).rejects.toThrow(/no staged release in slot B/);
    await store.renameEntry("cairn-b+2-1.conf", "cairn-b.conf");
    expect(await discardStaged(store, "A")).toBeUndefined();
    expect(readdirSync(entriesDir()).sort()).toEqual(["cairn-a.conf", "cairn-b.conf"]);
  });

  it("discarding removes only the staged entry", async () => {
    await stage("0.2.0");
    expect(await discardStaged(store, "A")).toBe("cairn-b+3.conf");
    expect(readdirSync(entriesDir()).sort()).toEqual(["cairn-a.conf"]);
    expect(selectDefaultEntry(await readLoaderEntries(store))?.file).toBe("cairn-a.conf");
  });
});

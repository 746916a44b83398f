import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { VerifiedBundle } from "../../machinery/bundle/index.js";
import { DirBootStore } from "../../platform/dir-boot-store.js";
import { checkSlotFits as checkFits, slotRoom } from "./slot-fit.js";

const checkSlotFits = async (store: DirBootStore, slot: "A" | "B", b: VerifiedBundle) => checkFits(b.manifest, await slotRoom(store, slot));

const dir = mkdtempSync(join(tmpdir(), "cairn-fit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = (rootBytes?: number) =>
  new DirBootStore({
    efiDir: async () => dir,
    rootTarget: async (s) => join(dir, `root-${s}`),
    releaseKeysDir: join(dir, "keys"),
    ...(rootBytes !== undefined && { rootCapacity: async () => rootBytes }),
  });
const bundle = (rootfs: number, kernel = 10): VerifiedBundle => {
  const parts = [
    { name: "kernel" as const, size: kernel, sha256: "", offset: 0 },
    { name: "initramfs" as const, size: 10, sha256: "", offset: 0 },
    { name: "rootfs" as const, size: rootfs, sha256: "", offset: 0 },
  ];
  return { manifest: { format: 1, version: "9.9.9", arch: "amd64", buildId: "t", keyId: "k", parts }, keyId: "k", parts };
};

describe("checkSlotFits", () => {
  it("accepts a rootfs that fits the partition, and any size when slots are unbounded (process mode)", async () => {
    await expect(checkSlotFits(store(1000), "B", bundle(1000))).resolves.toBeUndefined();
    await expect(checkSlotFits(store(), "B", bundle(10 ** 12))).resolves.toBeUndefined();
  });

  it("refuses a rootfs larger than ROOT-<slot>, naming both sizes", async () => {
    await expect(checkSlotFits(store(1000), "B", bundle(1001))).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
      message: "bundle 9.9.9 does not fit slot B: its rootfs is 1001 bytes (0.0 MiB), the ROOT-B partition holds 1000 bytes (0.0 MiB)",
    });
  });

  it("refuses a kernel and initramfs larger than the EFI partition's free space", async () => {
    await expect(checkSlotFits(store(), "A", bundle(1, 2 ** 60))).rejects.toMatchObject({ code: "FAILED_PRECONDITION", message: expect.stringMatching(/does not fit the EFI partition/) });
  });
});

import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootEntry, bootEntryFileName, loaderConf, slotEfiDir } from "../machinery/boot/index.js";
import { run } from "./exec.js";

/** systemd-boot from Debian's systemd-boot-efi package. */
export const SYSTEMD_BOOT_EFI = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";

/** What the factory EFI partition boots: slot A's kernel and initramfs. */
export interface EfiContents {
  readonly version: string;
  readonly kernel: string;
  readonly initramfs: string;
}

/**
 * Builds the FAT32 EFI system partition as a plain file with mkfs.vfat and
 * mtools (no loop mount, so no privileges and no host side effects):
 * systemd-boot as the removable-media default loader, loader.conf, slot A's
 * entry (no boot counter) and slot A's kernel + initramfs under /cairn/a.
 */
export function buildEfiPartition(out: string, sizeBytes: number, c: EfiContents, workDir: string): void {
  if (!existsSync(SYSTEMD_BOOT_EFI)) throw new Error(`${SYSTEMD_BOOT_EFI} missing: run hack/install-deps.sh`);
  rmSync(out, { force: true });
  run("truncate", ["-s", String(sizeBytes), out]);
  run("mkfs.vfat", ["-F", "32", "-n", "EFI", "-i", "CA124A11", "--invariant", out]);
  const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
  const mm = (args: string[]): void => void run(args[0]!, ["-i", out, ...args.slice(1)], { env });
  const a = slotEfiDir("A");
  mm(["mmd", "::/EFI", "::/EFI/BOOT", "::/EFI/systemd", "::/loader", "::/loader/entries", "::/cairn", `::${a}`, `::${slotEfiDir("B")}`]);
  const loader = join(workDir, "loader.conf");
  const entry = join(workDir, "entry.conf");
  writeFileSync(loader, loaderConf());
  writeFileSync(entry, bootEntry("A", c.version));
  mm(["mcopy", SYSTEMD_BOOT_EFI, "::/EFI/BOOT/BOOTX64.EFI"]);
  mm(["mcopy", SYSTEMD_BOOT_EFI, "::/EFI/systemd/systemd-bootx64.efi"]);
  mm(["mcopy", loader, "::/loader/loader.conf"]);
  mm(["mcopy", entry, `::/loader/entries/${bootEntryFileName("A")}`]);
  mm(["mcopy", c.kernel, `::${a}/vmlinuz`]);
  mm(["mcopy", c.initramfs, `::${a}/initramfs.zst`]);
}

/**
 * systemd-boot configuration for Cairn's A/B slots (Boot Loader
 * Specification type 1 entries). Pure text, shared by the image builder
 * (factory slot A) and, later, the upgrade path that writes slot B's entry.
 */

/** A root slot. */
export type Slot = "A" | "B";

/** Directory on the EFI partition holding a slot's kernel and initramfs. */
export function slotEfiDir(slot: Slot): string {
  return `/cairn/${slot.toLowerCase()}`;
}

/**
 * Kernel command line for a slot. `cairn.slot` tells stage 1 which ROOT-x to
 * mount and machined which slot booted. `quiet loglevel=3` keeps the slow
 * TCG serial console out of the boot path; `panic=-1` reboots at once on a
 * panic so boot counting can fall back; `i8042.*` skips probing a PS/2
 * controller the VM does not need.
 */
export function kernelCmdline(slot: Slot): string {
  return [
    "console=ttyS0,115200",
    `cairn.slot=${slot}`,
    "quiet",
    "loglevel=3",
    "panic=-1",
    "i8042.noaux",
    "i8042.nokbd",
  ].join(" ");
}

/**
 * loader/loader.conf: boot at once (no menu), pick the first entry matching
 * `cairn-*`. systemd-boot sorts by sort-key then version (newest first) and
 * moves entries whose tries ran out to the end, so the newest healthy slot
 * wins and an exhausted one falls back to the other.
 */
export function loaderConf(): string {
  return ["timeout 0", "default cairn-*", "editor no", "auto-entries no", "auto-firmware no", "console-mode keep", ""].join("\n");
}

/**
 * File name of a slot's entry under loader/entries. With `triesLeft` the
 * name carries a boot counter (`cairn-b+3.conf`) that systemd-boot
 * decrements on each boot until machined blesses it (renames it without
 * the counter). The factory slot A is known-good and has none.
 */
export function bootEntryFileName(slot: Slot, triesLeft?: number): string {
  const base = `cairn-${slot.toLowerCase()}`;
  return triesLeft === undefined ? `${base}.conf` : `${base}+${triesLeft}.conf`;
}

/**
 * Sort keys that pick the default among our two entries: loader.conf's
 * `default cairn-*` matches both, and systemd-boot takes the first match in
 * its order (entries with no tries left last, then by sort-key), so the
 * PREFERRED entry boots unless its tries ran out, when the FALLBACK one does.
 * The factory entry's plain "cairn" sorts before both (it is alone).
 */
export const SORT_KEY = { factory: "cairn", preferred: "cairn-0", fallback: "cairn-1" } as const;

/** Contents of a slot's entry file. */
export function bootEntry(slot: Slot, version: string, sortKey: string = SORT_KEY.factory): string {
  const dir = slotEfiDir(slot);
  return [
    `title Cairn ${version} (slot ${slot})`,
    `version ${version}`,
    `sort-key ${sortKey}`,
    `linux ${dir}/vmlinuz`,
    `initrd ${dir}/initramfs.zst`,
    `options ${kernelCmdline(slot)}`,
    "",
  ].join("\n");
}

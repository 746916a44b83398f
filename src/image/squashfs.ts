import { rmSync } from "node:fs";
import { run } from "./exec.js";
import { findForbidden } from "./forbidden-files.js";

/**
 * Compression of the root file system's base (measurements in
 * docs/image.md and docs/boot-performance.md). zstd-9 at 128 KiB boots
 * fastest: Node pages itself in through the decompressor at boot, and under
 * TCG xz costs tens of seconds (1 MiB blocks: +23 s from stage 1 to the API
 * at load 5-10; 256 KiB blocks: reboot to machined's first log line 114 s
 * vs ~60 s with zstd at load 16-18, which broke the e2e reboot deadline).
 * Only xz brings the slot payload under 50 MB (256 KiB: 47.9 MB; zstd-19 at
 * 1 MiB stops at 51.2 MB), so the payload target stays open (issue 3).
 */
export const BASE_COMPRESSION = ["-comp", "zstd", "-Xcompression-level", "9", "-b", "128K"] as const;

/** Ownership, timestamps and quietness shared by creating and appending. */
const COMMON = ["-all-root", "-no-xattrs", "-mkfs-time", "0", "-all-time", "0", "-quiet", "-no-progress"] as const;

function refuseForbidden(files: readonly string[]): void {
  const bad = findForbidden(files);
  if (bad.length) throw new Error(`root file system must not contain ${bad.join(", ")}`);
}

/**
 * Packs `tree` into a new read-only squashfs with BASE_COMPRESSION
 * (root-owned, fixed timestamps). `files` is the tree's listing; a tree
 * holding a forbidden program is refused.
 */
export function makeBaseSquashfs(tree: string, out: string, files: readonly string[]): void {
  refuseForbidden(files);
  rmSync(out, { force: true });
  run("mksquashfs", [tree, out, ...BASE_COMPRESSION, "-noappend", ...COMMON]);
}

/**
 * Appends the contents of `tree` to the root directory of the existing
 * squashfs `image` in place (mksquashfs append mode: the compressor and
 * block size come from the image; only the new files and the metadata are
 * written). Top-level names must not clash with the image's: mksquashfs
 * would rename them (`name_1`) instead of merging. `files` is the listing
 * of the whole result, checked for forbidden programs.
 */
export function appendSquashfs(tree: string, image: string, files: readonly string[]): void {
  refuseForbidden(files);
  run("mksquashfs", [tree, image, ...COMMON]);
}

import { rmSync } from "node:fs";
import { run } from "./exec.js";
import { findForbidden } from "./forbidden-files.js";

/**
 * Compression of the root file system's base (measurements in
 * docs/image.md and docs/boot-performance.md). Only xz with the x86 BCJ
 * filter brings the slot payload under 50 MB: zstd-19 at 1 MiB blocks
 * stops at 51.2 MB, zstd-9 at 128 KiB is 58.6 MB. Node pages itself in
 * through the decompressor at boot, and under TCG the cost grows with the
 * block size (xz 1 MiB added ~23 s from stage 1 to the API at load 5-10,
 * xz 128 KiB ~10 s), so the base uses 256 KiB blocks: 48.4 MB payload with
 * 1.6 MB of margin for the daemon to grow.
 */
export const BASE_COMPRESSION = ["-comp", "xz", "-Xbcj", "x86", "-b", "256K"] as const;

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

import { rmSync } from "node:fs";
import { run } from "./exec.js";
import { findForbidden } from "./forbidden-files.js";

/**
 * Compression of the root file system's base (measurements in
 * docs/image.md). zstd-9 at 128 KiB boots fastest: Node pages itself in
 * from the squashfs at boot, and under TCG xz with 1 MiB blocks added
 * ~23 s (+70 %) from stage 1 to the API at load 5-10, although it is the
 * only setting that brings the slot payload under 50 MB (46.4 MB vs 58.6
 * MB). Boot time wins for now; the payload target stays open (issue 3).
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

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "./exec.js";
import { KERNEL, ROOTFS_MODULES } from "./pins.js";
import { listTree, stageBase, type BaseInputs } from "./rootfs.js";
import { BASE_COMPRESSION, makeBaseSquashfs } from "./squashfs.js";

/** The cached base squashfs and the listing of its tree. */
export interface RootBase {
  readonly squashfs: string;
  /** Every path in the base, as listTree returns it. */
  readonly files: readonly string[];
  /** Whether this call built it (false: taken from the cache). */
  readonly built: boolean;
}

/** Modules whose code decides the base's contents: a change to them must miss the cache. */
const CODE = ["./rootfs.js", "./squashfs.js", "./kernel-modules.js", "./module-deps.js", "./root-base.js"];

/** The source text of CODE next to this module (compiled .js under build/, .ts when run from src/ by vitest). */
function codeTexts(): string[] {
  return CODE.map((c) => {
    const js = fileURLToPath(new URL(c, import.meta.url));
    return readFileSync(existsSync(js) ? js : js.replace(/\.js$/, ".ts"), "utf8");
  });
}

/**
 * The cache key of a base: everything that goes into it. Libraries and
 * node_modules files are hashed by content (they come from the host and
 * node_modules); Node by its pinned version and stripped size (its cache
 * directory is keyed by the integrity-checked pin); the kernel by its pin;
 * plus the compression flags and the code that stages and packs the tree.
 */
export function baseKey(inp: BaseInputs, code: readonly string[] = codeTexts()): string {
  const fileHash = (p: string) => sha256(readFileSync(p));
  return sha256(
    JSON.stringify({
      node: [inp.node.version, inp.node.sizes.stripped],
      libs: inp.libs.map((l) => [l.imagePath, fileHash(l.hostPath)]),
      binaries: inp.binaries.map((b) => [b.imagePath, fileHash(b.hostPath)]),
      nodeModules: inp.nodeModules.map((f) => [f.imageRel, fileHash(f.hostPath)]),
      kernel: [KERNEL.sha256, ROOTFS_MODULES],
      releaseKeys: inp.releaseKeys,
      compression: BASE_COMPRESSION,
      code: code.map((c) => sha256(c)),
    }),
  ).slice(0, 16);
}

/**
 * Returns the version-independent base of the root file system from
 * <cache>/rootfs-base/<key>/, building it when missing (stage the tree,
 * list it, pack it with BASE_COMPRESSION: a minute or more with xz). The
 * result is written to a temporary directory and renamed into place, so a
 * concurrent or interrupted build never leaves a half-written base.
 */
export function ensureRootBase(cacheDir: string, inp: BaseInputs): RootBase {
  const dir = join(cacheDir, "rootfs-base", baseKey(inp));
  const squashfs = join(dir, "base.squashfs");
  const filesJson = join(dir, "files.json");
  let built = false;
  if (!existsSync(filesJson)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const tree = join(tmp, "tree");
    stageBase(tree, inp);
    const files = listTree(tree);
    makeBaseSquashfs(tree, join(tmp, "base.squashfs"), files);
    rmSync(tree, { recursive: true, force: true });
    writeFileSync(join(tmp, "files.json"), JSON.stringify(files));
    try {
      renameSync(tmp, dir);
    } catch {
      // Another build finished the same base first: use theirs.
      rmSync(tmp, { recursive: true, force: true });
    }
    built = true;
  }
  return { squashfs, files: JSON.parse(readFileSync(filesJson, "utf8")) as string[], built };
}

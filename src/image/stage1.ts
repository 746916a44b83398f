import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type CpioEntry, writeCpio } from "./cpio-newc.js";
import { run, sha256 } from "./exec.js";
import type { KernelInput } from "./kernel-input.js";
import { KERNEL, STAGE1_MODULES } from "./pins.js";
import { stageModules } from "./kernel-modules.js";

/** Source of stage 1, resolved from the repo whether running from src/ or build/. */
export function stage1Source(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "stage1", "init.c"), join(here, "..", "..", "..", "src", "image", "stage1", "init.c")];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`stage1/init.c not found near ${here}`);
  return found;
}

/** Where stage 1 reads its module list (see init.c). */
export const STAGE1_MODULE_LIST = "etc/cairn/stage1-modules";

/**
 * Builds the initramfs: stage 1 (static C, `gcc -static -Os`, stripped),
 * /dev/console, the empty mount points and the modules needed to reach the
 * root partition with their load-order list, as a zstd-compressed newc cpio.
 * It depends on neither the version nor the entry, so it is cached by the
 * hash of init.c, the kernel pin and the module list. Returns its path.
 */
export function ensureInitramfs(cacheDir: string, kernel: KernelInput): string {
  const src = stage1Source();
  const key = sha256(JSON.stringify([readFileSync(src, "utf8"), KERNEL, STAGE1_MODULES])).slice(0, 16);
  const dir = join(cacheDir, "initramfs", key);
  const out = join(dir, "initramfs.cpio.zst");
  if (existsSync(out)) return out;
  rmSync(dir, { recursive: true, force: true });
  const tree = join(dir, "tree");
  mkdirSync(tree, { recursive: true });

  const init = join(dir, "init");
  run("gcc", ["-static", "-Os", "-Wall", "-Wextra", "-Werror", "-o", init, src]);
  run("strip", ["--strip-all", init]);
  stageModules(kernel, STAGE1_MODULES, tree, STAGE1_MODULE_LIST, { depmod: false });

  const entries: CpioEntry[] = [
    { path: "dev", type: "dir" },
    { path: "dev/console", type: "char", major: 5, minor: 1 },
    { path: "proc", type: "dir" },
    { path: "sys", type: "dir" },
    { path: "newroot", type: "dir" },
    { path: "init", type: "file", data: readFileSync(init), mode: 0o755 },
    ...treeEntries(tree),
  ];
  const cpio = join(dir, "initramfs.cpio");
  writeFileSync(cpio, writeCpio(entries));
  // -19 costs nothing at boot (zstd decompresses at the same speed) and is cached.
  // Compress beside, then rename: `out` existing means complete (it is the cache marker).
  run("zstd", ["-q", "-19", "--rm", "-f", cpio, "-o", `${out}.tmp`]);
  rmSync(tree, { recursive: true, force: true });
  if (statSync(`${out}.tmp`).size > 4 * 1024 * 1024) throw new Error(`initramfs grew past 4 MiB: ${out}.tmp`);
  renameSync(`${out}.tmp`, out);
  return out;
}

/** Directories then files of a host tree, parents first, sorted for reproducibility. */
function treeEntries(root: string): CpioEntry[] {
  const out: CpioEntry[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const rel = relative(root, p);
      if (statSync(p).isDirectory()) {
        out.push({ path: rel, type: "dir" });
        walk(p);
      } else {
        out.push({ path: rel, type: "file", data: readFileSync(p) });
      }
    }
  };
  walk(root);
  return out;
}

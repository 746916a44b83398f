import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";

/**
 * Returns an empty ext4 file system image labelled `label`, `sizeBytes`
 * long, from the cache (it depends on nothing but label and size). Lazy
 * inode table and journal init keep it sparse and fast to make; the kernel
 * finishes the tables in the background on first mount.
 */
export function ensureExt4(cacheDir: string, label: string, sizeBytes: number): string {
  const dir = join(cacheDir, "ext4");
  const out = join(dir, `${label}-${sizeBytes}.ext4`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  run("truncate", ["-s", String(sizeBytes), tmp]);
  run("mkfs.ext4", ["-q", "-F", "-L", label, "-E", "lazy_itable_init=1,lazy_journal_init=1", tmp]);
  renameSync(tmp, out);
  return out;
}

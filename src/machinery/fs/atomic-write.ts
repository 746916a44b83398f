import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CairnError, type ErrorCode } from "../../errors/index.js";

/** The errno of a Node fs error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
}

/** errno → error code for file operations. */
const ERRNO: Record<string, ErrorCode> = { ENOENT: "NOT_FOUND", EACCES: "PERMISSION_DENIED", EPERM: "PERMISSION_DENIED", EEXIST: "ALREADY_EXISTS" };

/** A file-system failure as a CairnError naming what was being done and where. */
export function fsError(e: unknown, action: string, path: string): CairnError {
  const code = errnoCode(e);
  return new CairnError(ERRNO[code ?? ""] ?? "INTERNAL", `${action} ${path}: ${code ?? String(e)}`, { cause: e });
}

/**
 * Crash-safe file write: mkdir -p (new directories 0700), write a temp file
 * in the same directory with `mode`, fsync it, move it into place, fsync the
 * directory. Readers see the old file or the new one, never a torn write.
 * With `overwrite: false` the move is a hard link, which fails atomically
 * with ALREADY_EXISTS instead of clobbering a file that appeared meanwhile.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode?: number; overwrite?: boolean } = {}): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const dir = dirname(path);
  try {
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    // New directories are durable only once their parents are synced too (the first config on a fresh STATE).
    if (created !== undefined) await syncDirsDown(dirname(created), dir);
  } catch (e) {
    throw fsError(e, "creating directory", dir);
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode); // the umask may have dropped bits from the open() mode
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.overwrite === false) {
      await link(tmp, path);
      await unlink(tmp);
    } else {
      await rename(tmp, path);
    }
    await syncDir(dir);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (errnoCode(e) === "EEXIST") {
      throw new CairnError("ALREADY_EXISTS", `${path} already exists`, { cause: e, hint: "pass --force to overwrite it" });
    }
    throw fsError(e, "writing", path);
  }
}

/** Removes a file and makes the removal durable (fsync of the directory). */
export async function removeFileDurable(path: string): Promise<void> {
  await rm(path, { force: true });
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** fsyncs `top` and every directory below it on the way to `bottom` (which lies under `top`). */
async function syncDirsDown(top: string, bottom: string): Promise<void> {
  const chain: string[] = [];
  for (let d = bottom; d !== top && d !== dirname(d); d = dirname(d)) chain.unshift(d);
  for (const d of [top, ...chain]) await syncDir(d);
}

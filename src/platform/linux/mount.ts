import { mkdirSync } from "node:fs";
import { CairnError } from "../../errors/index.js";
import { check, lastErrno, libc } from "./libc.js";
import { errnoName } from "./errno.js";

/** mount(2) flags Cairn uses (linux/mount.h). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  NOATIME: 0x400,
  RELATIME: 0x200000,
} as const;

/** umount2(2) flags. */
export const MNT_DETACH = 0x2;

/** One mount the platform made, kept so shutdown can undo them in reverse. */
export interface MountSpec {
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
  readonly flags?: number;
  readonly data?: string;
}

/**
 * Mounts one file system, creating the target directory first (it must
 * already exist on the read-only root: mkdir there fails with EROFS, which
 * is reported). Errors read `mount /dev/vda4 → /var (ext4): EBUSY`.
 */
export function mountFs(spec: MountSpec): void {
  try {
    mkdirSync(spec.target, { recursive: true });
  } catch (e) {
    throw new CairnError("FAILED_PRECONDITION", `mount ${spec.source} → ${spec.target}: cannot create target`, { cause: e });
  }
  const ret = libc().mount(spec.source, spec.target, spec.fstype, spec.flags ?? 0, spec.data ?? null);
  check(ret, `mount ${spec.source} → ${spec.target} (${spec.fstype})`);
}

/** Unmounts one target; `detach` makes it lazy (MNT_DETACH) for a stuck mount at shutdown. */
export function unmountFs(target: string, detach = false): void {
  check(libc().umount2(target, detach ? MNT_DETACH : 0), `umount ${target}`);
}

/** Remounts read-only: the fallback when a busy file system cannot be unmounted at shutdown. */
export function remountReadOnly(target: string): void {
  check(libc().mount(null, target, null, MS.REMOUNT | MS.RDONLY, null), `remount ${target} read-only`);
}

/**
 * The mounts this boot made, in order. Shutdown walks it backwards so /var
 * goes before /run and nothing is unmounted from under a child mount.
 */
export class MountTable {
  readonly #mounts: MountSpec[] = [];

  /** Mounts and records on success only, so the table never lists a mount that failed. */
  mount(spec: MountSpec): void {
    mountFs(spec);
    this.#mounts.push(spec);
  }

  /** Records a mount made by someone else (stage 1) that shutdown should also undo. */
  adopt(spec: MountSpec): void {
    this.#mounts.push(spec);
  }

  has(target: string): boolean {
    return this.#mounts.some((m) => m.target === target);
  }

  /** Newest first. */
  reversed(): readonly MountSpec[] {
    return [...this.#mounts].reverse();
  }

  /**
   * Unmounts everything newest first and never throws: each failure tries
   * read-only remount (data reaches disk), then a lazy detach, and is
   * reported in the result so the caller can log it before power-off.
   */
  unmountAll(): { target: string; error: string }[] {
    const failures: { target: string; error: string }[] = [];
    for (const m of this.reversed()) {
      const ret = libc().umount2(m.target, 0);
      if (ret === 0) {
        this.#remove(m);
        continue;
      }
      const err = errnoName(lastErrno());
      try {
        remountReadOnly(m.target);
      } catch {
        // Best effort: a pseudo fs may refuse ro remount; detach still helps.
      }
      if (libc().umount2(m.target, MNT_DETACH) === 0) this.#remove(m);
      failures.push({ target: m.target, error: err });
    }
    return failures;
  }

  #remove(m: MountSpec): void {
    const i = this.#mounts.lastIndexOf(m);
    if (i >= 0) this.#mounts.splice(i, 1);
  }
}

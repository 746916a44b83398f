import koffi from "koffi";
import { CairnError, type ErrorCode } from "../../errors/index.js";

/**
 * The one place where Linux errno values become Cairn error codes. Every
 * failing syscall in platform/linux goes through `sysError` so a client sees
 * a closed code and a message that says what was being done, e.g.
 * `mount /dev/vda4 → /var: EBUSY`.
 */
const CODE_BY_ERRNO: Readonly<Record<string, ErrorCode>> = {
  ENOENT: "NOT_FOUND",
  ENODEV: "NOT_FOUND",
  ENXIO: "NOT_FOUND",
  ESRCH: "NOT_FOUND",
  EEXIST: "ALREADY_EXISTS",
  EPERM: "PERMISSION_DENIED",
  EACCES: "PERMISSION_DENIED",
  EROFS: "FAILED_PRECONDITION",
  EBUSY: "FAILED_PRECONDITION",
  ENOTDIR: "FAILED_PRECONDITION",
  EISDIR: "FAILED_PRECONDITION",
  ENOTEMPTY: "FAILED_PRECONDITION",
  ENOTBLK: "FAILED_PRECONDITION",
  ENOSPC: "FAILED_PRECONDITION",
  ENETUNREACH: "UNAVAILABLE",
  ENETDOWN: "UNAVAILABLE",
  EHOSTUNREACH: "UNAVAILABLE",
  EAGAIN: "UNAVAILABLE",
  EINTR: "ABORTED",
  ETIMEDOUT: "DEADLINE_EXCEEDED",
  EINVAL: "INVALID_ARGUMENT",
  ERANGE: "INVALID_ARGUMENT",
  ENAMETOOLONG: "INVALID_ARGUMENT",
  ENOSYS: "UNIMPLEMENTED",
  EOPNOTSUPP: "UNIMPLEMENTED",
  ENOTTY: "UNIMPLEMENTED",
};

let namesByNumber: Map<number, string> | undefined;

/** Symbolic name of an errno number (`16` → `EBUSY`), `errno 123` when unknown. */
export function errnoName(errno: number): string {
  if (!namesByNumber) {
    namesByNumber = new Map();
    // koffi's table carries aliases (EWOULDBLOCK = EAGAIN); the first name wins.
    for (const [name, value] of Object.entries(koffi.os.errno)) {
      if (!namesByNumber.has(value)) namesByNumber.set(value, name);
    }
  }
  return namesByNumber.get(errno) ?? `errno ${errno}`;
}

/** Cairn code for an errno name; INTERNAL for anything not in the table. */
export function codeForErrno(name: string): ErrorCode {
  return CODE_BY_ERRNO[name] ?? "INTERNAL";
}

/** A CairnError for a failed syscall: `${what}: ${ENAME}`; the errno name is in `cause`. */
export function sysError(what: string, errno: number): CairnError {
  const name = errnoName(errno);
  return new CairnError(codeForErrno(name), `${what}: ${name}`, { cause: { errno, name } });
}

/**
 * Wraps a Node fs/net error (which carries `code: "ENOENT"`) the same way,
 * so file reads of /proc and /sys fail with the same vocabulary as syscalls.
 */
export function nodeError(what: string, e: unknown): CairnError {
  if (e instanceof CairnError) return e;
  const name =
    typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
      ? (e as { code: string }).code
      : undefined;
  if (name === undefined) return new CairnError("INTERNAL", `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  return new CairnError(codeForErrno(name), `${what}: ${name}`, { cause: e });
}

/** The errno name of a Node error (`EAGAIN`), or undefined. */
export function nodeErrorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
    ? (e as { code: string }).code
    : undefined;
}

import { CairnError } from "../../errors/index.js";
import { check, libc } from "./libc.js";

/** The kernel keeps at most 64 bytes (__NEW_UTS_LEN). */
const MAX_HOSTNAME = 64;

/** Sets the kernel hostname with sethostname(2); validates RFC 1123 label syntax first. */
export function setKernelHostname(name: string): void {
  if (!isValidHostname(name)) {
    throw new CairnError("INVALID_ARGUMENT", `set hostname ${JSON.stringify(name)}: not a valid RFC 1123 host name`);
  }
  check(libc().sethostname(name, Buffer.byteLength(name)), `set hostname ${name}`);
}

/** RFC 1123: dot-separated labels of letters, digits and inner hyphens, 1–63 bytes each, 64 in all. */
export function isValidHostname(name: string): boolean {
  if (name.length === 0 || name.length > MAX_HOSTNAME) return false;
  return name.split(".").every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

import type { Logger } from "pino";
import { errnoName } from "./errno.js";
import { lastErrno, libc } from "./libc.js";

const GRND_NONBLOCK = 1;

/**
 * Checks that the kernel's random pool is initialised: getrandom with
 * GRND_NONBLOCK fails with EAGAIN until it is. Node's crypto (TLS keys,
 * randomUUID) would block in that state, so the boot log says so; with
 * `-cpu max` (RDRAND) or virtio-rng it is ready almost at once.
 */
export function checkEntropy(log: Logger): boolean {
  const buf = Buffer.alloc(16);
  const n = libc().getrandom(buf, buf.length, GRND_NONBLOCK);
  if (n === buf.length) {
    log.debug({}, "entropy pool ready");
    return true;
  }
  const err = n < 0 ? errnoName(lastErrno()) : "short read";
  log.warn({ error: err }, "entropy pool not ready: crypto may block; give the VM RDRAND (-cpu max) or virtio-rng");
  return false;
}

import type { Logger } from "pino";
import type { PowerAction } from "../platform.js";
import { check, libc } from "./libc.js";
import type { MountTable } from "./mount.js";

/** reboot(2) commands for glibc's one-argument wrapper (it adds the LINUX_REBOOT_MAGIC numbers). */
const RB_AUTOBOOT = 0x01234567;
const RB_POWER_OFF = 0x4321fedc;

/**
 * Ends the boot: sync, unmount everything the platform mounted in reverse
 * order (falling back to read-only remount and lazy detach, logged), sync
 * again, then reboot(2). Unmount failures never stop the power action: a
 * node that cannot unmount must still reboot when asked. Returns only if
 * reboot(2) itself fails, by throwing.
 */
export async function powerOff(action: PowerAction, mounts: MountTable, log: Logger): Promise<void> {
  log.info({ action }, "power action: syncing and unmounting");
  libc().sync();
  const failures = mounts.unmountAll();
  for (const f of failures) log.warn({ target: f.target, error: f.error }, "unmount failed at shutdown (remounted read-only or detached)");
  libc().sync();
  log.info({ action }, "power action: calling reboot(2)");
  await flushLog(log);
  // The last log lines are still in the serial UART's queue; power-off would drop them.
  // ENOTTY when stdout is not a terminal is fine.
  libc().tcdrain(1);
  libc().tcdrain(2);
  check(libc().reboot(action === "reboot" ? RB_AUTOBOOT : RB_POWER_OFF), `reboot(2) for ${action}`);
}

/** Max wait for the logger: a stuck sink must not stop a power-off. */
const FLUSH_TIMEOUT_MS = 500;
/**
 * pino's stdout sink (sonic-boom) writes asynchronously and its flush()
 * calls back at once while a write is still in flight (measured: the last
 * line before reboot(2) was lost in QEMU). A short grace period lets it land.
 */
const FLUSH_GRACE_MS = 100;

/** Flushes the logger, bounded, so the last lines before reboot(2) reach the console. */
function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, FLUSH_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(t);
      setTimeout(resolve, FLUSH_GRACE_MS);
    };
    try {
      log.flush(done);
    } catch {
      done();
    }
  });
}

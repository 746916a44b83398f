import type { Logger } from "pino";

/**
 * PID 1 must survive everything: an uncaught exception or rejection would
 * exit Node and panic the kernel. Log it and keep serving; the health of the
 * node is judged by its services, not by the process staying alive.
 */
export function installCrashGuards(log: Logger): void {
  process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception (kept running)"));
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled rejection (kept running)"));
}

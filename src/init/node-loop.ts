import type { Logger } from "pino";
import type { Platform } from "../platform/index.js";
import { runBoot } from "./boot.js";
import type { LogStore } from "./log-store.js";

/**
 * Runs boots until the node powers off. On metal a boot ends in reboot(2)
 * and never returns here; in process mode a reboot restarts the node
 * runtime in place with a new boot id, on the same port.
 */
export async function runNode(opts: { platform: Platform; listen: string; log: Logger; logs: LogStore; announce: (line: string) => void; blessGraceMs?: number }): Promise<void> {
  let listen = opts.listen;
  for (;;) {
    const outcome = await runBoot({ ...opts, listen });
    if (outcome.action === "poweroff") return;
    listen = `${listen.slice(0, listen.lastIndexOf(":"))}:${outcome.port}`;
  }
}

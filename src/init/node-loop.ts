import { runBoot, type BootOptions } from "./boot.js";

/**
 * Runs boots until the node powers off. On metal a boot ends in reboot(2)
 * and never returns here; in process mode a reboot restarts the node
 * runtime in place with a new boot id, on the same port.
 */
export async function runNode(opts: BootOptions): Promise<void> {
  let listen = opts.listen;
  for (;;) {
    const outcome = await runBoot({ ...opts, listen });
    if (outcome.action === "poweroff") return;
    listen = `${listen.slice(0, listen.lastIndexOf(":"))}:${outcome.port}`;
  }
}

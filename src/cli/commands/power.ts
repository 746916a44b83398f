import type { Command } from "commander";
import { onNodes } from "../context.js";
import { structured } from "../output.js";
import { parseDuration, parseList } from "../parse-flags.js";
import { track, type TrackReport } from "../track-lifecycle.js";

/** Prints one line per node (table) or the values keyed by node (json, yaml). */
export function say(ok: { node: string; value: unknown }[], fmt: string, line: (v: never) => string): void {
  if (fmt !== "table") process.stdout.write(`${structured(fmt as "json", ok.map((r) => ({ node: r.node, ...(r.value as object) })))}\n`);
  else for (const { node, value } of ok) process.stdout.write(`${node}: ${line(value as never)}\n`);
}

/** The final line of a tracked call. */
export const summary = (r: TrackReport) => r.summary;

/** --wait and --timeout, shared by every lifecycle command. */
export function withWait(cmd: Command, what: string): Command {
  return cmd
    .option("--wait", `wait until ${what}, then print where each node is`)
    .option("--timeout <duration>", "give up waiting after this long (e.g. 90s, 5m)", parseDuration, 300);
}

export interface WaitFlags {
  wait?: boolean;
  timeout: number;
}

/** reboot, shutdown, reset (upgrade and rollback live in upgrade.ts). */
export function registerPower(program: Command): void {
  withWait(program.command("reboot").description("reboot nodes"), "each node answers from a new boot").action(async (flags: WaitFlags, cmd: Command) => {
    if (!flags.wait) return onNodes(cmd, (c) => c.reboot(), (ok, g) => say(ok, g.format, (v: { bootId: string }) => `rebooting (boot ${v.bootId} ends)`));
    await onNodes(cmd, (c, _n, dial) => track(c, dial, { action: "reboot", goal: "new-boot", timeoutMs: flags.timeout * 1000, call: () => c.reboot() }), (ok, g) => say(ok, g.format, summary));
  });
  withWait(program.command("shutdown").description("power nodes off"), "each node stops answering").action(async (flags: WaitFlags, cmd: Command) => {
    if (!flags.wait) return onNodes(cmd, (c) => c.shutdown(), (ok, g) => say(ok, g.format, (v: { bootId: string }) => `shutting down (boot ${v.bootId} ends)`));
    await onNodes(cmd, (c, _n, dial) => track(c, dial, { action: "shutdown", goal: "down", timeoutMs: flags.timeout * 1000, call: () => c.shutdown() }), (ok, g) => say(ok, g.format, summary));
  });
  withWait(
    program
      .command("reset")
      .description("wipe system areas and reboot (the node returns to maintenance mode when state is wiped)")
      .option("--wipe <areas>", "comma list of state, ephemeral (default both)", parseList)
      .option("--no-reboot", "power off after wiping instead of rebooting"),
    "each node is back (in maintenance mode when state was wiped; stopped with --no-reboot)",
  ).action(async (flags: WaitFlags & { wipe?: string[]; reboot: boolean }, cmd: Command) => {
    const wipe = flags.wipe ?? [];
    const call = (c: { reset: (w: string[], r: boolean) => Promise<{ wiped: string[] }> }) => c.reset(wipe, flags.reboot);
    if (!flags.wait) return onNodes(cmd, call, (ok, g) => say(ok, g.format, (v: { wiped: string[] }) => `resetting: wiping ${v.wiped.join(", ")}`));
    // Wiping state (the default wipes both) drops the config: the node comes back in maintenance mode, on its own certificate.
    const goal = !flags.reboot ? "down" : wipe.length === 0 || wipe.includes("state") ? "maintenance" : "new-boot";
    await onNodes(cmd, (c, _n, dial) => track(c, dial, { action: "reset", goal, timeoutMs: flags.timeout * 1000, call: () => call(c) }), (ok, g) => say(ok, g.format, summary));
  });
}

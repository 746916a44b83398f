import { InvalidArgumentError, type Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { nodeDialers } from "../context.js";
import { dashboardOnce, runDashboard } from "../dashboard/run-dashboard.js";

/**
 * nodectl dashboard: a live view of one or several nodes in a plain
 * terminal (ANSI escapes only). --once prints one frame and exits, which
 * works without a terminal (scripts, CI logs).
 */
export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description("live view of nodes: version, slot, services, cpu/memory, recent events and logs (q quits)")
    .option("--interval <seconds>", "seconds between refreshes", parseInterval, 2)
    .option("--once", "print one frame as plain text and exit")
    .action(async (flags: { interval: number; once?: boolean }, cmd: Command) => {
      const targets = await nodeDialers(cmd);
      const opts = { targets, intervalSeconds: flags.interval };
      if (flags.once) {
        const { text, views } = await dashboardOnce(opts, { width: process.stdout.columns || 160, height: process.stdout.rows || 50 });
        process.stdout.write(text);
        if (views.some((v) => v.error !== undefined)) process.exitCode = 1;
        return;
      }
      if (!process.stdout.isTTY || !process.stdin.isTTY) {
        throw new CairnError("FAILED_PRECONDITION", "nodectl dashboard needs a terminal on stdin and stdout", { hint: "use --once to print one frame without a terminal" });
      }
      await runDashboard(opts, process.stdin, process.stdout);
    });
}

function parseInterval(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.5 || n > 3600) throw new InvalidArgumentError(`"${text}" is not a number of seconds between 0.5 and 3600`);
  return n;
}

import { resolve } from "node:path";
import type { Command } from "commander";
import { collectNode, summaryText, writeSupportArchive, type NodeCollection } from "../../machinery/support/index.js";
import { onNodes } from "../context.js";

/**
 * nodectl support: one tar.gz with every targeted node's version, redacted
 * config, services, logs, kernel log, events, stats, processes, memory,
 * disks, mounts and sockets, for bug reports.
 * A node that cannot be reached is listed in summary.txt and makes the
 * exit status non-zero; the other nodes' content is still written.
 */
export function registerSupport(program: Command): void {
  program
    .command("support")
    .description("write a support bundle (tar.gz) with diagnostics from every targeted node")
    .option("--output <file>", "where to write the archive", "cairn-support.tar.gz")
    .action(async (flags: { output: string }, cmd: Command) => {
      const collected: NodeCollection[] = [];
      await onNodes(
        cmd,
        (c, node) => collectNode(c, node),
        (ok) => collected.push(...ok.map((r) => r.value)),
      );
      if (collected.length === 0) return;
      const summary = await writeSupportArchive(resolve(flags.output), collected);
      process.stderr.write(summaryText(summary));
      for (const n of summary.nodes) if (!n.reachable) process.stderr.write(`error: node ${n.node}: ${n.failures[0]?.error ?? "unreachable"}\n`);
      if (summary.nodes.some((n) => !n.reachable)) process.exitCode = 1;
      process.stdout.write(`wrote ${flags.output}\n`);
    });
}

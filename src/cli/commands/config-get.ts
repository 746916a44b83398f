import type { Command } from "commander";
import { onNodes } from "../context.js";
import { structured } from "../output.js";

/** get config: the active (or staged) config, secrets redacted by the node. */
export function registerGet(program: Command): void {
  const get = program.command("get").description("read node resources");
  get
    .command("config")
    .description("show the active machine config (secrets redacted)")
    .option("--staged", "show the config staged for the next boot")
    .action(async (flags: { staged?: boolean }, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.getConfiguration(flags.staged ?? false),
        (ok, g) => {
          if (g.format === "json") return void process.stdout.write(`${structured("json", ok.map((r) => ({ node: r.node, config: Buffer.from(r.value.data).toString("utf8"), stagedPending: r.value.stagedPending, tryPending: r.value.tryPending })))}\n`);
          for (const { node, value } of ok) {
            if (ok.length > 1) process.stdout.write(`# node ${node}\n`);
            process.stdout.write(Buffer.from(value.data).toString("utf8"));
          }
        },
      );
    });
}

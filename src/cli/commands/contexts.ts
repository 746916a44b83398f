import type { Command } from "commander";
import { readNodectlConfig, useContext, writeNodectlConfig } from "../../machinery/client/index.js";
import { configPath, globals } from "../context.js";
import { structured, table } from "../output.js";

/** config contexts | use-context: manage the client config's contexts. */
export function registerContexts(program: Command): void {
  const config = program.command("config").description("manage the nodectl client config");
  config
    .command("contexts")
    .description("list contexts")
    .action(async (_f, cmd: Command) => {
      const g = globals(cmd);
      const cfg = await readNodectlConfig(configPath(g));
      const rows = Object.entries(cfg.contexts).map(([name, c]) => [name === cfg.context ? "*" : "", name, c.endpoints.join(","), c.nodes.join(",")]);
      if (g.format !== "table") process.stdout.write(`${structured(g.format, { current: cfg.context, contexts: Object.keys(cfg.contexts) })}\n`);
      else process.stdout.write(`${table(["CURRENT", "NAME", "ENDPOINTS", "NODES"], rows)}\n`);
    });
  config
    .command("use-context <name>")
    .description("make a context the current one")
    .action(async (name: string, _f, cmd: Command) => {
      const path = configPath(globals(cmd));
      await writeNodectlConfig(path, useContext(await readNodectlConfig(path), name));
      process.stdout.write(`current context: ${name}\n`);
    });
}

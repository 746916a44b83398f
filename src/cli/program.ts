import { Command, Option } from "commander";
import { registerApplyConfig } from "./commands/apply-config.js";
import { registerContexts } from "./commands/contexts.js";
import { registerFiles } from "./commands/files.js";
import { registerGen } from "./commands/gen.js";
import { registerGet } from "./commands/config-get.js";
import { registerInspect } from "./commands/inspect.js";
import { registerResourcesGet } from "./commands/resources-get.js";
import { registerNodeInfo } from "./commands/node-info.js";
import { registerPower } from "./commands/power.js";
import { registerUpgrade } from "./commands/upgrade.js";
import { registerStreams } from "./commands/streams.js";
import { registerWorkloads } from "./commands/workloads.js";
import { registerCluster } from "./commands/cluster.js";
import { registerRelease } from "./commands/release.js";
import { registerSupport } from "./commands/support.js";
import { registerDashboard } from "./commands/dashboard.js";
import { parseList } from "./parse-flags.js";

/** Builds the nodectl command tree: one explicit list, no import-time registration. */
export function buildProgram(): Command {
  const program = new Command("nodectl")
    .description("drive Cairn nodes through their machine API")
    .option("-n, --nodes <list>", "nodes to act on, host[:port] (comma list; default port 50000)", parseList)
    .option("-e, --endpoints <list>", "endpoints, used when no nodes are given", parseList)
    .option("--context <name>", "context of the nodectl config to use")
    .option("--nodectlconfig <path>", "client config (env NODECTL_CONFIG, default ~/.nodectl/config)")
    .addOption(new Option("-o, --format <format>", "output format").choices(["table", "json", "yaml"]).default("table"))
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });
  for (const register of [registerGen, registerApplyConfig, registerGet, registerResourcesGet, registerNodeInfo, registerPower, registerUpgrade, registerStreams, registerWorkloads, registerInspect, registerFiles, registerContexts, registerCluster, registerRelease, registerSupport, registerDashboard]) {
    register(program);
  }
  return program;
}

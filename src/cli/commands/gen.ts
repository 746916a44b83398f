import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { CairnError } from "../../errors/index.js";
import { isRole } from "../../machinery/roles/index.js";
import { issueClientContext, mergeContext, parseSecrets, readNodectlConfig, writeGeneratedConfig, writeNodectlConfig, type NodectlConfig } from "../../machinery/client/index.js";
import { machineConfigJsonSchema } from "../../machinery/config/index.js";
import { configPath, globals } from "../context.js";
import { parseList } from "../parse-flags.js";

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new CairnError("INVALID_ARGUMENT", `${flag} ${path}: cannot read the file`);
  }
}

/** gen config | client | schema: secrets, configs and client identities. */
export function registerGen(program: Command): void {
  const gen = program.command("gen").description("generate configs, client identities and the config JSON Schema");
  gen
    .command("config <cluster>")
    .description("write secrets.yaml (the OS CA), node.yaml and nodectlconfig into a directory")
    .requiredOption("--output <dir>", "directory for the three files")
    .option("--hostname <name>", "machine.hostname of the node config")
    .option("--cert-sans <list>", "extra names and IPs for the node's serving certificate", parseList)
    .option("--force", "overwrite existing files")
    .action(async (cluster: string, flags: { output: string; hostname?: string; certSans?: string[]; force?: boolean }, cmd: Command) => {
      // -e/--endpoints is the global flag: the context's endpoints (default 127.0.0.1:50000).
      const endpoints = globals(cmd).endpoints;
      const paths = await writeGeneratedConfig(flags.output, cluster, {
        ...(endpoints ? { endpoints } : {}),
        ...(flags.hostname ? { hostname: flags.hostname } : {}),
        ...(flags.certSans ? { certSANs: flags.certSans } : {}),
        force: flags.force ?? false,
      });
      process.stdout.write(`wrote ${paths.secretsPath}\nwrote ${paths.nodeConfigPath}\nwrote ${paths.nodectlConfigPath}\n`);
    });
  gen
    .command("client")
    .description("mint a client identity from the cluster secrets into a nodectl config context")
    .requiredOption("--secrets <file>", "secrets.yaml from nodectl gen config")
    .requiredOption("--role <role>", "os:admin, os:operator or os:reader")
    .option("--name <context>", "context name (default <cluster>-<role>)")
    .option("--output <file>", "write a new nodectl config here instead of merging into --nodectlconfig")
    .action(async (flags: { secrets: string; role: string; name?: string; output?: string }, cmd: Command) => {
      if (!isRole(flags.role)) throw new CairnError("INVALID_ARGUMENT", `--role ${flags.role}: must be os:admin, os:operator or os:reader`);
      const secrets = parseSecrets(await readText(flags.secrets, "--secrets"), flags.secrets);
      const ctx = issueClientContext(secrets, { role: flags.role, endpoints: globals(cmd).endpoints ?? ["127.0.0.1:50000"] });
      const name = flags.name ?? `${secrets.cluster}-${flags.role.slice(3)}`;
      const target = flags.output ?? configPath(globals(cmd));
      const existing: NodectlConfig | undefined = flags.output ? undefined : await readNodectlConfig(target).catch(() => undefined);
      await writeNodectlConfig(target, mergeContext(existing, name, ctx, { setCurrent: true }));
      process.stdout.write(`context ${name} (${flags.role}) written to ${target}\n`);
    });
  gen
    .command("schema")
    .description("print the JSON Schema of MachineConfig (for editors)")
    .option("--output <file>", "write to a file instead of stdout")
    .action(async (flags: { output?: string }) => {
      const text = `${JSON.stringify(machineConfigJsonSchema(), null, 2)}\n`;
      if (flags.output) await writeFile(flags.output, text);
      else process.stdout.write(text);
    });
}

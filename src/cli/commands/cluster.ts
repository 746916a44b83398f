import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { generateClusterSecrets, issueClientContext, mergeContext, readNodectlConfig, renderNodeConfig, stringifySecrets, writeNodectlConfig } from "../../machinery/client/index.js";
import { writeFileAtomic } from "../../machinery/fs/index.js";
import { createCluster, destroyCluster, listClusters, resolveStateRoot } from "../../provision/index.js";
import { configPath, globals } from "../context.js";
import { structured, table } from "../output.js";
import { parseCount } from "../parse-flags.js";

/** cluster create | destroy | list: local QEMU nodes for development and tests. */
export function registerCluster(program: Command): void {
  const cluster = program.command("cluster").description("run local Cairn nodes in QEMU");
  cluster
    .command("create <name>")
    .description("boot nodes from a disk image and add a nodectl context for them")
    .requiredOption("--image <raw>", "dist/cairn-X-amd64.raw")
    // Not --nodes: the global -n/--nodes (target nodes) would swallow it and one node would boot.
    .option("--count <n>", "how many nodes (at least 1)", (v: string) => {
      const n = parseCount(v);
      if (n < 1) throw new InvalidArgumentError(`"${v}" must be at least 1`);
      return n;
    }, 1)
    .option("--memory <mib>", "memory per node in MiB", parseCount)
    .option("--maintenance", "boot without a config (nodes wait in maintenance mode for apply-config --insecure)")
    .option("--state-root <dir>", "where clusters live (env CAIRN_STATE_ROOT, default ~/.cairn/clusters)")
    .action(async (name: string, flags: { image: string; count: number; memory?: number; maintenance?: boolean; stateRoot?: string }, cmd: Command) => {
      const root = resolveStateRoot(flags.stateRoot);
      const secrets = generateClusterSecrets(name);
      // Secrets live beside (not inside) the cluster dir, which createCluster must create itself.
      const secretsPath = join(root, `${name}.secrets.yaml`);
      const nodeConfigPath = join(root, `${name}.node.yaml`);
      await writeFileAtomic(secretsPath, stringifySecrets(secrets), { mode: 0o600 });
      await writeFileAtomic(nodeConfigPath, renderNodeConfig(secrets, { hostname: undefined }), { mode: 0o600 });
      const state = await createCluster({
        name,
        image: flags.image,
        nodes: flags.count,
        stateRoot: root,
        ...(flags.memory ? { memoryMiB: flags.memory } : {}),
        ...(flags.maintenance ? {} : { configFile: nodeConfigPath }),
      });
      const endpoints = state.nodes.map((n) => n.apiEndpoint);
      const path = configPath(globals(cmd));
      const existing = await readNodectlConfig(path).catch(() => undefined);
      await writeNodectlConfig(path, mergeContext(existing, name, issueClientContext(secrets, { role: "os:admin", endpoints, nodes: endpoints }), { setCurrent: true }));
      process.stdout.write(`${table(["NODE", "API", "CONSOLE"], state.nodes.map((n) => [n.name, n.apiEndpoint, n.consoleLog]))}\ncontext ${name} written to ${path}\nnode config: ${nodeConfigPath}\n`);
    });
  cluster
    .command("destroy <name>")
    .description("stop every node of a cluster and remove its state")
    .option("--state-root <dir>", "where clusters live")
    .action(async (name: string, flags: { stateRoot?: string }) => {
      await destroyCluster(name, flags.stateRoot);
      process.stdout.write(`cluster ${name} destroyed\n`);
    });
  cluster
    .command("list")
    .description("list local clusters")
    .option("--state-root <dir>", "where clusters live")
    .action(async (flags: { stateRoot?: string }, cmd: Command) => {
      const all = await listClusters(flags.stateRoot);
      const g = globals(cmd);
      if (g.format !== "table") return void process.stdout.write(`${structured(g.format, all)}\n`);
      const rows = all.flatMap((c) => c.state.nodes.map((n) => [c.state.name, n.name, n.apiEndpoint, c.running[n.name] ? "running" : "stopped"]));
      process.stdout.write(`${table(["CLUSTER", "NODE", "API", "STATE"], rows)}\n`);
    });
}

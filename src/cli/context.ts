import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import {
  MachineClient,
  connectNode,
  contextCredentials,
  currentContext,
  fanOut,
  maintenanceChannelCredentials,
  mtlsChannelCredentials,
  readNodectlConfig,
  resolveNodes,
  type NodectlConfig,
  type NodeResult,
} from "../machinery/client/index.js";
import { reportFailures, type OutputFormat } from "./output.js";

/** The global flags every command shares. */
export interface GlobalFlags {
  nodes?: string[];
  endpoints?: string[];
  context?: string;
  nodectlconfig?: string;
  format: OutputFormat;
}

/** Where the client config lives: --nodectlconfig, then NODECTL_CONFIG, then ~/.nodectl/config. */
export function configPath(flags: GlobalFlags): string {
  return flags.nodectlconfig ?? process.env["NODECTL_CONFIG"] ?? join(homedir(), ".nodectl", "config");
}

export function globals(cmd: Command): GlobalFlags {
  return cmd.optsWithGlobals<GlobalFlags>();
}

async function loadConfig(flags: GlobalFlags, required: boolean): Promise<NodectlConfig | undefined> {
  try {
    return await readNodectlConfig(configPath(flags));
  } catch (e) {
    if (!required && (e as { code?: string }).code === "NOT_FOUND") return undefined;
    throw e;
  }
}

/**
 * Opens a fresh client to the same node with a short per-call deadline:
 * waiting for a node to come back polls with one of these per attempt, so
 * no grpc channel carries reconnect backoff from the previous boot. With
 * `maintenance`, maintenance TLS (a reset node has forgotten the cluster CA).
 */
export type Dial = (opts: { maintenance?: boolean; timeoutMs: number }) => MachineClient;

function dialer(node: string, cfg: NodectlConfig | undefined, flags: GlobalFlags, opts: { insecure?: boolean; certFingerprint?: string }): Dial {
  return ({ maintenance, timeoutMs }) => {
    if (maintenance || opts.insecure || !cfg) return new MachineClient(node, maintenanceChannelCredentials(opts.certFingerprint), timeoutMs);
    return new MachineClient(node, mtlsChannelCredentials(contextCredentials(currentContext(cfg, flags.context))), timeoutMs);
  };
}

/**
 * Runs `fn` on every target node in parallel and renders the results; the
 * process exits non-zero when any node failed.
 */
export async function onNodes<T>(
  cmd: Command,
  fn: (c: MachineClient, node: string, dial: Dial) => Promise<T>,
  render: (ok: { node: string; value: T }[], flags: GlobalFlags) => void,
  opts: { insecure?: boolean; certFingerprint?: string } = {},
): Promise<void> {
  const flags = globals(cmd);
  const cfg = await loadConfig(flags, !opts.insecure);
  const nodes = resolveNodes(flags, cfg, flags.context);
  const targets = { nodes, insecure: opts.insecure ?? false, certFingerprint: opts.certFingerprint };
  const results: NodeResult<T>[] = await fanOut(nodes, (n) => connectNode(n, targets, cfg, flags.context), (c, n) => fn(c, n, dialer(n, cfg, flags, opts)));
  const ok = results.flatMap((r) => (r.ok ? [{ node: r.node, value: r.value }] : []));
  if (ok.length > 0) render(ok, flags);
  if (reportFailures(results) > 0) process.exitCode = 1;
}

/**
 * The target nodes with a way to open each one, for commands that pace
 * nodes themselves (a rolling upgrade) instead of fanning out at once.
 */
export async function nodeHandles(cmd: Command): Promise<{ nodes: string[]; open: (node: string) => { client: MachineClient; dial: Dial } }> {
  const flags = globals(cmd);
  const cfg = await loadConfig(flags, true);
  const nodes = resolveNodes(flags, cfg, flags.context);
  const targets = { nodes, insecure: false, certFingerprint: undefined };
  return { nodes, open: (node) => ({ client: connectNode(node, targets, cfg, flags.context), dial: dialer(node, cfg, flags, {}) }) };
}

/**
 * The target nodes with a way to dial each, for commands that keep talking
 * to nodes over time (dashboard) instead of one fan-out: a fresh client per
 * dial, so a node that comes back is seen without grpc's reconnect backoff.
 */
export async function nodeDialers(cmd: Command): Promise<{ node: string; dial: Dial }[]> {
  const flags = globals(cmd);
  const cfg = await loadConfig(flags, true);
  return resolveNodes(flags, cfg, flags.context).map((node) => ({ node, dial: dialer(node, cfg, flags, {}) }));
}

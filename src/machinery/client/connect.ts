import { CairnError } from "../../errors/index.js";
import { maintenanceChannelCredentials, mtlsChannelCredentials } from "./credentials.js";
import { MachineClient } from "./machine-client.js";
import { contextCredentials, currentContext, type NodectlConfig } from "./nodectl-config.js";

/** Where and how to reach nodes, resolved from flags and the client config. */
export interface Targets {
  readonly nodes: readonly string[];
  readonly insecure: boolean;
  readonly certFingerprint?: string | undefined;
}

/**
 * Resolves the node list: --nodes wins, then the context's nodes, then its
 * endpoints. Cairn has no API proxy: every node is dialled directly.
 */
export function resolveNodes(flags: { nodes?: string[] | undefined; endpoints?: string[] | undefined }, cfg: NodectlConfig | undefined, contextName?: string): string[] {
  if (flags.nodes && flags.nodes.length > 0) return flags.nodes;
  const ctx = cfg ? currentContext(cfg, contextName) : undefined;
  if (ctx && ctx.nodes.length > 0) return [...ctx.nodes];
  if (flags.endpoints && flags.endpoints.length > 0) return flags.endpoints;
  if (ctx && ctx.endpoints.length > 0) return [...ctx.endpoints];
  throw new CairnError("INVALID_ARGUMENT", "no node given", { hint: "pass --nodes/-n host[:port], or set nodes or endpoints in the nodectl config context" });
}

/** Opens a client for one node: maintenance TLS when insecure, else mTLS from the context. */
export function connectNode(node: string, targets: Targets, cfg: NodectlConfig | undefined, contextName?: string): MachineClient {
  if (targets.insecure) return new MachineClient(node, maintenanceChannelCredentials(targets.certFingerprint));
  if (!cfg) throw new CairnError("FAILED_PRECONDITION", "no nodectl config: cannot authenticate to the node", { hint: "run nodectl gen config, or pass --nodectlconfig; use --insecure only for a node in maintenance mode" });
  return new MachineClient(node, mtlsChannelCredentials(contextCredentials(currentContext(cfg, contextName))));
}

/** One node's outcome in a fan-out. */
export type NodeResult<T> = { node: string; ok: true; value: T } | { node: string; ok: false; error: unknown };

/** Runs `fn` against every node in parallel; one failure never hides another node's result. */
export async function fanOut<T>(nodes: readonly string[], open: (node: string) => MachineClient, fn: (c: MachineClient, node: string) => Promise<T>): Promise<NodeResult<T>[]> {
  return Promise.all(
    nodes.map(async (node): Promise<NodeResult<T>> => {
      let client: MachineClient | undefined;
      try {
        client = open(node);
        return { node, ok: true, value: await fn(client, node) };
      } catch (error) {
        return { node, ok: false, error };
      } finally {
        client?.close();
      }
    }),
  );
}

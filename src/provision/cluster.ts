import { mkdir, readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CairnError } from "../errors/index.js";
import { detectAccel } from "./accel.js";
import { readClusterState, resolveStateRoot, validateClusterName, writeClusterState, type ClusterState } from "./cluster-state.js";
import { launchNode } from "./launch-node.js";
import { QemuNode, type NodeHandle } from "./node-handle.js";
import type { Accel, NodeState } from "./types.js";

/** Options of createCluster. */
export interface CreateClusterOptions {
  readonly name: string;
  /** Raw base disk image shared (read-only) by every node. */
  readonly image: string;
  readonly nodes: number;
  /** Default `CAIRN_STATE_ROOT`, else `~/.cairn/clusters`. */
  readonly stateRoot?: string;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  readonly diskSizeGiB?: number;
  /** The same machine config for every node, via fw_cfg. */
  readonly configFile?: string;
  readonly accel?: Accel;
}

/** A cluster as listClusters reports it: the record plus whether each node's QEMU still runs. */
export interface ClusterListing {
  readonly state: ClusterState;
  readonly running: Readonly<Record<string, boolean>>;
}

/** How long destroy lets QEMU honour QMP quit before SIGKILL. */
export const DESTROY_GRACE_MS = 2000;

/** Node names are `<cluster>-node-<n>`, n from 1, so they sort and read well in logs. */
export function nodeName(cluster: string, index: number): string {
  return `${cluster}-node-${index + 1}`;
}

/** Re-creates a handle for a node recorded in cluster.json (possibly by another process). */
export function attachNode(state: NodeState): NodeHandle {
  return new QemuNode(state);
}

/**
 * Launches `nodes` QEMU nodes over one base image and records them in
 * `<stateRoot>/<name>/cluster.json`. Nodes start one after another (each
 * takes ~0.2 s to reach QMP; booting runs in parallel afterwards). Refuses
 * an existing name; on any failure it kills what it started and removes the
 * directory, so a failed create leaves nothing behind.
 */
export async function createCluster(opts: CreateClusterOptions): Promise<ClusterState> {
  validateClusterName(opts.name);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1) {
    throw new CairnError("INVALID_ARGUMENT", `nodes must be a positive integer, got ${opts.nodes}`);
  }
  const root = resolveStateRoot(opts.stateRoot);
  const dir = join(root, opts.name);
  await mkdir(root, { recursive: true });
  try {
    await mkdir(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CairnError("ALREADY_EXISTS", `cluster "${opts.name}" already exists at ${dir}`, {
        cause,
        hint: `destroy it first (nodectl cluster destroy ${opts.name}) or pick another name`,
      });
    }
    throw CairnError.from(cause);
  }
  const accel = opts.accel ?? (await detectAccel());
  const image = resolve(opts.image);
  const handles: NodeHandle[] = [];
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const name = nodeName(opts.name, i);
      handles.push(
        await launchNode({
          name, baseImage: image, workDir: join(dir, name), accel,
          ...(opts.memoryMiB !== undefined && { memoryMiB: opts.memoryMiB }),
          ...(opts.cpus !== undefined && { cpus: opts.cpus }),
          ...(opts.diskSizeGiB !== undefined && { diskSizeGiB: opts.diskSizeGiB }),
          ...(opts.configFile !== undefined && { configFile: opts.configFile }),
        }),
      );
    }
    const state: ClusterState = {
      version: 1, name: opts.name, createdAt: new Date().toISOString(), image, accel, dir,
      nodes: handles.map((h) => h.state),
    };
    await writeClusterState(state);
    for (const h of handles) (await h.qmp()).close(); // free the single QMP slot for other processes
    return state;
  } catch (e) {
    await Promise.allSettled(handles.map((h) => h.kill()));
    await rm(dir, { recursive: true, force: true });
    throw CairnError.from(e);
  }
}

/** Lists every cluster under the state root with per-node liveness; unreadable records are skipped. */
export async function listClusters(stateRoot?: string): Promise<ClusterListing[]> {
  const root = resolveStateRoot(stateRoot);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
  const out: ClusterListing[] = [];
  for (const entry of entries) {
    try {
      const state = await readClusterState(join(root, entry));
      out.push({ state, running: Object.fromEntries(state.nodes.map((n) => [n.name, attachNode(n).isRunning()])) });
    } catch {
      // not a cluster directory (or a half-written one): not ours to report
    }
  }
  return out;
}

/**
 * Stops every node of a cluster and removes its directory: QMP quit first,
 * SIGKILL after DESTROY_GRACE_MS, and a pid that is still there afterwards
 * is an error (the directory is then kept so nothing is orphaned silently).
 * A pid whose command line no longer names the node's QMP socket is treated
 * as gone and never signalled.
 */
export async function destroyCluster(name: string, stateRoot?: string): Promise<void> {
  validateClusterName(name);
  const dir = join(resolveStateRoot(stateRoot), name);
  const state = await readClusterState(dir);
  const results = await Promise.allSettled(state.nodes.map((n) => stopNode(attachNode(n))));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${state.nodes[i]?.name}: ${String(r.reason)}`] : []));
  if (failed.length > 0) {
    throw new CairnError("INTERNAL", `could not stop every node of cluster "${name}"; kept ${dir}`, {
      details: failed.map((message) => ({ path: name, message })),
    });
  }
  await rm(dir, { recursive: true, force: true });
}

async function stopNode(node: NodeHandle): Promise<void> {
  if (!node.isRunning()) return;
  try {
    const qmp = await node.qmp();
    await qmp.quit();
  } catch {
    // QMP busy or dead: SIGKILL below
  }
  if (await node.waitForExit(DESTROY_GRACE_MS)) return;
  await node.kill();
}

import { readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { CairnError } from "../errors/index.js";

/** File name of the cluster record inside `<stateRoot>/<name>/`. */
export const CLUSTER_FILE = "cluster.json";

const NodeStateSchema = z.strictObject({
  name: z.string().min(1),
  pid: z.number().int().positive(),
  apiEndpoint: z.string().min(1),
  apiHostPort: z.number().int().min(1).max(65535),
  workDir: z.string().min(1),
  consoleLog: z.string().min(1),
  qmpSocket: z.string().min(1),
  pidFile: z.string().min(1),
  overlay: z.string().min(1),
  accel: z.enum(["kvm", "tcg"]),
  memoryMiB: z.number().int().positive(),
  cpus: z.number().int().positive(),
});

/** Schema of cluster.json, version 1. Strict: an unknown key means a newer writer, which we refuse to guess about. */
export const ClusterStateSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1),
  createdAt: z.string(),
  image: z.string().min(1),
  accel: z.enum(["kvm", "tcg"]),
  dir: z.string().min(1),
  nodes: z.array(NodeStateSchema),
});

/** What another process needs to list or destroy a cluster: every node's pid, ports and paths. */
export type ClusterState = z.infer<typeof ClusterStateSchema>;

/** The state root: the argument, else `CAIRN_STATE_ROOT`, else `~/.cairn/clusters`. */
export function resolveStateRoot(stateRoot?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["CAIRN_STATE_ROOT"];
  return resolve(stateRoot ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : join(homedir(), ".cairn", "clusters")));
}

/** Cluster names become directory names and node-name prefixes: keep them boring. */
export function validateClusterName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(name)) {
    throw new CairnError("INVALID_ARGUMENT", `cluster name "${name}" must be 1-40 of a-z, 0-9 and '-', starting with a letter or digit`);
  }
}

/** Writes cluster.json atomically (temp file + rename) so readers never see half a record. */
export async function writeClusterState(state: ClusterState): Promise<void> {
  const path = join(state.dir, CLUSTER_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(ClusterStateSchema.parse(state), null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Reads and validates `<dir>/cluster.json`; NOT_FOUND if absent, INTERNAL (with field paths) if malformed. */
export async function readClusterState(dir: string): Promise<ClusterState> {
  const path = join(dir, CLUSTER_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new CairnError("NOT_FOUND", `no cluster record at ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CairnError("INTERNAL", `${path} is not valid JSON`, { cause });
  }
  const parsed = ClusterStateSchema.safeParse(json);
  if (!parsed.success) {
    throw new CairnError("INTERNAL", `${path} is not a valid cluster record`, {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return parsed.data;
}

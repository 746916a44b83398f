import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { nodeError } from "./errno.js";

/** The cgroup v2 mount (see pseudo-mounts.ts). */
export const CGROUP_ROOT = "/sys/fs/cgroup";
/** Controllers workloads need: cpu and memory limits, pid counts, io. */
export const WORKLOAD_CONTROLLERS = ["cpu", "memory", "pids", "io"] as const;

/**
 * Enables the workload controllers in the root's cgroup.subtree_control, so
 * runc can delegate them to /cairn/<workload>. A controller the kernel lacks
 * is reported, not fatal: the workloads that do not use it still run.
 */
export async function enableCgroupControllers(log: Logger, root = CGROUP_ROOT): Promise<{ enabled: string[]; missing: string[] }> {
  let available: Set<string>;
  try {
    available = new Set((await readFile(join(root, "cgroup.controllers"), "utf8")).trim().split(/\s+/));
  } catch (e) {
    throw nodeError(`read ${join(root, "cgroup.controllers")} (is cgroup2 mounted?)`, e);
  }
  const enabled = WORKLOAD_CONTROLLERS.filter((c) => available.has(c));
  const missing = WORKLOAD_CONTROLLERS.filter((c) => !available.has(c));
  if (enabled.length > 0) {
    try {
      await writeFile(join(root, "cgroup.subtree_control"), enabled.map((c) => `+${c}`).join(" "));
    } catch (e) {
      throw nodeError(`enable cgroup controllers ${enabled.join(" ")}`, e);
    }
  }
  log.info({ enabled, missing }, "cgroup controllers enabled for workloads");
  return { enabled, missing };
}

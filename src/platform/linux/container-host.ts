import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import type { Logger } from "pino";
import type { ContainerHost, SupervisedChild } from "../platform.js";
import { enableCgroupControllers } from "./cgroups.js";
import { makeFifo } from "./fifo.js";
import type { OrphanReaper } from "./reaper.js";

/** Where the image ships containerd (Debian's package layout). */
export const CONTAINERD_BINARY = "/usr/bin/containerd";

/**
 * The metal node's container host: containerd from the image, its content
 * and snapshots on EPHEMERAL (/var/lib/containerd), its state and socket on
 * /run, workloads under the /cairn cgroup. Every child is registered with
 * the reaper in the tick it is spawned.
 */
export function linuxContainerHost(reaper: OrphanReaper, ephemeral: string): ContainerHost {
  const root = `${ephemeral}/lib/containerd`;
  return {
    launch: { kind: "spawn", binary: CONTAINERD_BINARY, root, state: "/run/containerd", socket: "/run/containerd/containerd.sock", configPath: "/run/containerd/config.toml" },
    namespace: "cairn",
    cgroupParent: "/cairn",
    fifoDir: "/run/cairn/workloads",
    async prepare(log: Logger): Promise<void> {
      await enableCgroupControllers(log);
      await mkdir(root, { recursive: true, mode: 0o711 });
      await mkdir("/run/containerd", { recursive: true, mode: 0o711 });
    },
    spawn(cmd: string, args: readonly string[], env: Readonly<Record<string, string>>): SupervisedChild {
      return reaper.trackChild(spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...env } })) as SupervisedChild;
    },
    makeFifo: (path) => makeFifo(path),
  };
}

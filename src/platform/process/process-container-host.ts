import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import type { ContainerHost, SupervisedChild } from "../platform.js";

/**
 * A process-mode node's container host: a containerd that already runs on
 * the host (the integration tests start one). The node never starts or
 * stops it; its workloads get a cgroup parent of their own, derived from
 * the node's directory, so two nodes on one host never share one.
 */
export function processContainerHost(socket: string, nodeDir: string): ContainerHost {
  const tag = createHash("sha256").update(resolve(nodeDir)).digest("hex").slice(0, 12);
  return {
    launch: { kind: "external", socket },
    namespace: "cairn",
    cgroupParent: `/cairn-process-${tag}`,
    fifoDir: join(nodeDir, "run", "workloads"),
    prepare: async () => undefined,
    spawn(cmd: string, args: readonly string[], env: Readonly<Record<string, string>>): SupervisedChild {
      return spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...env } }) as SupervisedChild;
    },
    async makeFifo(path: string): Promise<void> {
      // Node has no mkfifo; koffi loads here only for a node that runs workloads.
      const { makeFifo } = await import("../linux/fifo.js");
      await makeFifo(path);
    },
  };
}

import { attachNode, destroyCluster } from "./cluster.js";
import type { ClusterState } from "./cluster-state.js";
import type { NodeHandle } from "./node-handle.js";
import { isProcessFor } from "./process-liveness.js";

/** A test's registry of QEMU nodes that must not outlive it. */
export interface Cleanup {
  /** Registers a handle; returns it for chaining (`cleanup.track(await launchNode(...))`). */
  track<T extends NodeHandle>(handle: T): T;
  /** Registers an async teardown (e.g. `() => destroyCluster(name, root)`), run before handles are killed. */
  defer(fn: () => Promise<void>): void;
  /** Registers a cluster: destroyed by run(), its nodes SIGKILLed on exit if run() never happened. */
  trackCluster(state: ClusterState, stateRoot?: string): ClusterState;
  /** Runs deferred teardowns and SIGKILLs every tracked node still running; call it in afterAll. */
  run(): Promise<void>;
}

/**
 * Creates a Cleanup and hooks `process.on("exit")`: if a test run ends
 * without calling run() (a crash, a timeout, an interrupted run), every
 * tracked QEMU still gets a synchronous SIGKILL. QEMU runs in its own
 * session, so nothing else would take it down. The pid is only signalled
 * while its command line still names the node's QMP socket.
 * A worker killed by SIGKILL cannot run any hook; that case remains.
 */
export function cleanupOnExit(): Cleanup {
  const handles = new Set<NodeHandle>();
  const deferred: Array<() => Promise<void>> = [];
  const killAllSync = (): void => {
    for (const h of handles) {
      if (!isProcessFor(h.pid, h.qmpSocket)) continue;
      try {
        process.kill(h.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killAllSync();
    process.off(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.on("exit", killAllSync);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    track(handle) {
      handles.add(handle);
      return handle;
    },
    trackCluster(state, stateRoot) {
      for (const n of state.nodes) handles.add(attachNode(n));
      deferred.push(() => destroyCluster(state.name, stateRoot));
      return state;
    },
    defer(fn) {
      deferred.push(fn);
    },
    async run() {
      for (const fn of deferred.splice(0).reverse()) await fn().catch(() => undefined);
      await Promise.allSettled([...handles].map((h) => h.kill()));
      handles.clear();
      process.off("exit", killAllSync);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

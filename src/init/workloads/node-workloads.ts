import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import type { MachineConfig } from "../../machinery/config/index.js";
import type { ContainerHost } from "../../platform/index.js";
import { WorkloadController } from "../../workloads/controller.js";
import { registryAccessFromConfig, workloadSpecsFromConfig } from "../../workloads/from-config.js";
import { importOciArchive } from "../../workloads/image-import.js";
import { listImages, removeImage, type ImageSummary } from "../../workloads/images.js";
import { FifoLogSink } from "../../workloads/log-sink.js";
import type { WorkloadEvent, WorkloadStatus } from "../../workloads/workload-events.js";
import type { WorkloadSpec } from "../../workloads/workload-spec.js";
import type { EventBus } from "../event-bus.js";
import type { LogStore } from "../log-store.js";
import { ContainerdService } from "./containerd-service.js";

/**
 * An import failure as the API reports it: a malformed archive (not a tar,
 * not an OCI layout, a blob whose bytes do not match its name) is the
 * caller's INVALID_ARGUMENT, named by file; containerd being down keeps its code.
 */
export function archiveError(fileName: string, e: unknown): CairnError {
  if (e instanceof CairnError && !["INVALID_ARGUMENT", "FAILED_PRECONDITION"].includes(e.code)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new CairnError("INVALID_ARGUMENT", `${fileName}: ${e instanceof CairnError ? message : `not a valid OCI archive (${message})`}`, { cause: e });
}

/** The log-system service that holds one workload's output: /var/log/workload.<name>.log. */
export function workloadLogService(name: string): string {
  return `workload.${name}`;
}

/** A node event's text for one workload event. */
export function describeWorkloadEvent(e: WorkloadEvent): string {
  switch (e.type) {
    case "started":
      return `workload ${e.workload} started (pid ${e.pid})`;
    case "exited":
      return `workload ${e.workload} exited with status ${e.exitStatus}${e.oomKilled ? " (OOM-killed)" : ""}`;
    case "oom":
      return `workload ${e.workload}: the kernel OOM-killed a process (memory limit)`;
    case "restarting":
      return `workload ${e.workload} restarting in ${e.delayMs} ms`;
    case "failed":
      return `workload ${e.workload} failed: ${e.message ?? ""}`;
    case "detached":
      return `workload ${e.workload}: ${e.message ?? "lost containerd"}`;
    case "reattached":
      return `workload ${e.workload} re-attached after containerd came back (pid ${e.pid})`;
    default:
      return `workload ${e.workload} ${e.type}`;
  }
}

export interface NodeWorkloadsDeps {
  readonly host: ContainerHost;
  readonly logs: LogStore;
  readonly events: EventBus;
  readonly log: Logger;
}

/**
 * The node's workloads: containerd as a supervised service, and the
 * WorkloadController fed from machine.workloads and machine.registries. A
 * config apply only records what is wanted and returns; the controller
 * reconciles in the background (a pull may take minutes) and reports every
 * step as a `workload.*` event. Workload output goes to the log system.
 */
export class NodeWorkloads {
  readonly containerd: ContainerdService;
  #controller: WorkloadController | undefined;
  #wanted: { specs: WorkloadSpec[]; registries: MachineConfig["machine"]["registries"] } | undefined;
  #applying: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(private readonly deps: NodeWorkloadsDeps) {
    this.containerd = new ContainerdService(deps.host, { logs: deps.logs, log: deps.log.child({ subsystem: "containerd" }), events: deps.events });
  }

  /** Starts containerd, then the controller with the config applied so far. Never throws: failures are logged and shown by the service. */
  async start(): Promise<void> {
    try {
      await this.containerd.start();
    } catch (e) {
      this.deps.log.error({ err: e instanceof Error ? e.message : String(e) }, "containerd is not available: workloads do not run");
      return;
    }
    if (this.#closed) return;
    const { host, logs, events, log } = this.deps;
    const controller = new WorkloadController({
      ctd: this.containerd.client,
      logs: new FifoLogSink(host.fifoDir, (p) => host.makeFifo(p), (workload, stream, line) =>
        logs.append({ service: workloadLogService(workload), timeUnixMs: Date.now(), level: stream, message: line }),
      ),
      cgroupParent: host.cgroupParent,
      onEvent: (e) => {
        const fields: Record<string, string> = { workload: e.workload };
        if (e.pid !== undefined) fields["pid"] = String(e.pid);
        if (e.exitStatus !== undefined) fields["exitStatus"] = String(e.exitStatus);
        if (e.oomKilled !== undefined) fields["oomKilled"] = String(e.oomKilled);
        if (e.delayMs !== undefined) fields["delayMs"] = String(e.delayMs);
        if (e.message !== undefined) fields["message"] = e.message;
        events.publish(`workload.${e.type}`, describeWorkloadEvent(e), fields);
      },
    });
    controller.start();
    this.#controller = controller;
    log.info({}, "workload controller started");
    this.#reconcile();
  }

  /** Records machine.workloads and machine.registries and reconciles in the background. */
  configure(cfg: MachineConfig): void {
    this.#wanted = { specs: workloadSpecsFromConfig(cfg.machine.workloads), registries: cfg.machine.registries };
    this.#reconcile();
  }

  #reconcile(): void {
    const controller = this.#controller;
    const wanted = this.#wanted;
    if (!controller || !wanted) return;
    this.#applying = this.#applying.then(async () => {
      if (this.#closed || this.#wanted !== wanted) return; // a newer config supersedes this one
      controller.setRegistries(registryAccessFromConfig(wanted.registries));
      try {
        const { errors } = await controller.apply(wanted.specs);
        for (const e of errors) this.deps.log.warn({ workload: e.workload, err: e.message }, "workload not reconciled");
        this.deps.log.info({ workloads: wanted.specs.map((s) => s.name), errors: errors.length }, "workloads reconciled");
      } catch (e) {
        this.deps.log.error({ err: e instanceof Error ? e.message : String(e) }, "reconciling workloads failed");
      }
    });
  }

  #ready(): WorkloadController {
    if (!this.#controller) {
      const info = this.containerd.info();
      throw new CairnError("UNAVAILABLE", `containerd is not available on this node (${info.state}: ${info.message})`);
    }
    return this.#controller;
  }

  status(): WorkloadStatus[] {
    return this.#controller?.status() ?? [];
  }

  /** ContainerList: before containerd answers there is nothing supervised yet. */
  list(): WorkloadStatus[] {
    return this.status();
  }

  logService(name: string): string {
    return workloadLogService(name);
  }

  /** Whether `name` is a workload the node knows (declared and supervised). */
  has(name: string): boolean {
    return this.status().some((s) => s.name === name);
  }

  restart(name: string): Promise<void> {
    return this.#ready().restartWorkload(name);
  }

  listImages(): Promise<ImageSummary[]> {
    this.#ready();
    return listImages(this.containerd.client);
  }

  /** Imports an OCI layout archive; what is wrong with the archive is INVALID_ARGUMENT naming `fileName`. */
  async importImage(archive: Readable, name: string | undefined, fileName: string): Promise<string[]> {
    this.#ready();
    try {
      const names = await importOciArchive(this.containerd.client, archive, name ? { name } : {});
      this.deps.events.publish("image.imported", `imported ${names.join(", ")} from ${fileName}`, { images: names.join(","), file: fileName });
      return names;
    } catch (e) {
      throw archiveError(fileName, e);
    }
  }

  async removeImage(name: string): Promise<void> {
    this.#ready();
    const inUse = this.status().filter((s) => s.image === name).map((s) => s.name);
    if (inUse.length > 0) throw new CairnError("FAILED_PRECONDITION", `image ${name} is used by workload ${inUse.join(", ")}: remove the workload from the config first`);
    await removeImage(this.containerd.client, name);
    this.deps.events.publish("image.removed", `removed image ${name}`, { image: name });
  }

  /**
   * Ends the boot's part in workloads. A node that runs its own containerd
   * (metal) stops the workloads' tasks first, within `stopMs`: their shims
   * hold overlay mounts under /var, which must be unmounted next. With a
   * host containerd (process mode) they keep running and the next boot
   * adopts them, as after a machined restart.
   */
  async close(stopMs = 20_000): Promise<void> {
    this.#closed = true;
    const controller = this.#controller;
    if (controller && this.deps.host.launch.kind === "spawn") {
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        controller.stopAll().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), stopMs))),
      ]);
      clearTimeout(timer);
      this.deps.log.info({ ms: Date.now() - t0, timedOut }, timedOut ? "stopping workloads timed out before shutdown" : "workloads stopped before shutdown");
    }
    controller?.close();
    await this.containerd.close();
  }
}

import { CairnError } from "../errors/index.js";
import { TaskOOM, TaskStatus, type Container, type Envelope } from "./containerd/api.js";
import { hasCode, type ContainerdClient } from "./containerd/client.js";
import { withLease } from "./leases.js";
import { pullImage } from "./image-pull.js";
import { unpackByName, type ResolvedImage } from "./images.js";
import type { LogSink, StdioAttachment } from "./log-sink.js";
import { parseReference } from "./oci/reference.js";
import type { RegistryAccess } from "./registry/client.js";
import { buildRuntimeSpec, RUNTIME_SPEC_TYPE_URL } from "./runtime-spec.js";
import { stableHash } from "./stable-hash.js";
import { DEFAULT_SNAPSHOTTER, removeSnapshot } from "./unpack.js";
import type { WorkloadEvent, WorkloadState, WorkloadStatus } from "./workload-events.js";
import type { WorkloadSpec } from "./workload-spec.js";

const MANAGED_LABEL = "io.cairn.workload";
const HASH_LABEL = "io.cairn.workload.spec-hash";
const SIGTERM = 15;
const SIGKILL = 9;
/**
 * How long a SIGKILL exit waits for containerd's OOM event before it is
 * reported as a plain kill. On a quiet node the event comes first; on a TCG
 * guest at load it came 1.8 s after the exit (CI, 2026-12-05), so 1 s lost it.
 */
const OOM_EVENT_GRACE_MS = 5_000;
/** How often a workload that lost containerd asks for its task again. */
const REATTACH_POLL_MS = 1_000;
/** The exit status reported for a task that vanished with its shim (no status survives). */
const UNKNOWN_EXIT_STATUS = 255;

/** containerd is gone (its socket refuses or the connection dropped): it may come back. */
function lostContainerd(e: unknown): boolean {
  return hasCode(e, "UNAVAILABLE") || hasCode(e, "DEADLINE_EXCEEDED");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface WorkloadControllerOptions {
  readonly ctd: ContainerdClient;
  readonly logs: LogSink;
  readonly registries?: Readonly<Record<string, RegistryAccess>>;
  readonly snapshotter?: string;
  /** containerd runtime (shim) name. */
  readonly runtime?: string;
  /** cgroup parent of every workload. */
  readonly cgroupParent?: string;
  /** SIGTERM → SIGKILL grace when stopping. */
  readonly stopTimeoutMs?: number;
  /** First restart delay; doubles up to maxBackoffMs, resets after a run of 10 s. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly onEvent?: (e: WorkloadEvent) => void;
}

/** Per-workload bookkeeping while the controller supervises it. */
interface Managed {
  spec: WorkloadSpec;
  hash: string;
  state: WorkloadState;
  pid: number | undefined;
  run: number;
  restarts: number;
  backoffMs: number;
  startedAt: number;
  lastExitStatus: number | undefined;
  lastOomKilled: boolean;
  oomInRun: number;
  message: string | undefined;
  /** Set once removal or recreation began: no more restarts. */
  retired: boolean;
  /** A restart asked for over the API: the next exit restarts at once, whatever the policy. */
  restartRequested: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Resolves when the current task has exited and was deleted. */
  exited: Promise<void> | undefined;
}

/** Result of one apply, per workload: what failed is named, the rest went ahead. */
export interface ApplyResult {
  readonly errors: readonly { readonly workload: string; readonly message: string }[];
}

/**
 * Reconciles declared workloads with containerd: creates a container and a
 * task for each spec, restarts tasks per policy when they exit, recreates a
 * workload whose spec changed (a hash label on the container), and stops and
 * removes containers no longer declared. Containers it manages carry a label,
 * so a restarted controller adopts what is already running.
 */
export class WorkloadController {
  private readonly ctd: ContainerdClient;
  private readonly managed = new Map<string, Managed>();
  private queue: Promise<unknown> = Promise.resolve();
  private events: ReturnType<ContainerdClient["events"]["subscribe"]> | undefined;
  private closed = false;
  private readonly snapshotter: string;
  private registries: Readonly<Record<string, RegistryAccess>>;

  constructor(private readonly opts: WorkloadControllerOptions) {
    this.ctd = opts.ctd;
    this.snapshotter = opts.snapshotter ?? DEFAULT_SNAPSHOTTER;
    this.registries = opts.registries ?? {};
  }

  /** Registry access for later pulls (machine.registries applies live, at the next pull). */
  setRegistries(registries: Readonly<Record<string, RegistryAccess>>): void {
    this.registries = registries;
  }

  /**
   * Restarts one workload now, whatever its policy: a running task is stopped
   * (SIGTERM, SIGKILL after the grace) and started again; an exited or failed
   * one is started (a failed create is retried). Unknown names are NOT_FOUND.
   */
  restartWorkload(name: string): Promise<void> {
    const m = this.managed.get(name);
    if (!m || m.retired) return Promise.reject(new CairnError("NOT_FOUND", `no workload "${name}"`, { hint: `workloads: ${[...this.managed.keys()].join(", ") || "none"}` }));
    const next = this.queue.then(async () => {
      if (m.retired || this.managed.get(name) !== m) throw new CairnError("NOT_FOUND", `workload "${name}" was removed`);
      clearTimeout(m.timer);
      m.timer = undefined;
      if (m.state === "running" && m.exited) {
        m.restartRequested = true;
        const exited = m.exited;
        await this.stopTask(name, m);
        await exited;
        return;
      }
      m.restarts += 1;
      if (m.state === "failed") {
        await this.remove(name, undefined);
        await this.create(m.spec, m.hash);
      } else {
        await this.startTask(m);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Subscribes to OOM events (exits are watched per task with Tasks.Wait). */
  start(): void {
    this.subscribeOom();
  }

  /** Brings containerd in line with `specs`; serialized with other applies. */
  apply(specs: readonly WorkloadSpec[]): Promise<ApplyResult> {
    const next = this.queue.then(() => this.reconcile(specs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Every supervised workload, by name. */
  status(): WorkloadStatus[] {
    return [...this.managed.values()]
      .map((m) => ({
        name: m.spec.name,
        image: m.spec.image,
        state: m.state,
        pid: m.pid,
        restarts: m.restarts,
        lastExitStatus: m.lastExitStatus,
        lastOomKilled: m.lastOomKilled,
        message: m.message,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Stops every workload's task (SIGTERM, SIGKILL after the grace) and
   * supervises nothing more, but keeps the containers: the next controller
   * (after a reboot) adopts them and starts new tasks. For a node shutting
   * down, so no shim holds a mount under /var when it is unmounted.
   */
  stopAll(): Promise<void> {
    const next = this.queue.then(async () => {
      const all = [...this.managed.values()];
      for (const m of all) {
        m.retired = true;
        clearTimeout(m.timer);
      }
      await Promise.all(all.map((m) => this.stopTask(m.spec.name, m).catch(() => undefined)));
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops supervising (workloads keep running; containerd owns them). */
  close(): void {
    this.closed = true;
    this.events?.cancel();
    for (const m of this.managed.values()) clearTimeout(m.timer);
  }

  private emit(e: WorkloadEvent): void {
    this.opts.onEvent?.(e);
  }

  private async reconcile(specs: readonly WorkloadSpec[]): Promise<ApplyResult> {
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new CairnError("INVALID_ARGUMENT", `workload ${s.name} declared twice`);
      names.add(s.name);
    }
    const existing = await this.listManaged();
    const errors: { workload: string; message: string }[] = [];
    for (const [name] of existing) {
      if (!names.has(name)) await this.guard(name, errors, () => this.remove(name, "removed"));
    }
    for (const name of [...this.managed.keys()]) {
      if (!names.has(name) && !existing.has(name)) this.managed.delete(name);
    }
    for (const spec of specs) {
      const hash = stableHash(spec);
      const current = existing.get(spec.name);
      await this.guard(spec.name, errors, async () => {
        if (current && current.labels[HASH_LABEL] === hash) return this.adopt(spec, hash);
        if (current) {
          this.emit({ workload: spec.name, type: "recreating" });
          await this.remove(spec.name, undefined);
        }
        await this.create(spec, hash);
      });
    }
    return { errors };
  }

  private async guard(workload: string, errors: { workload: string; message: string }[], fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const message = errorText(e);
      errors.push({ workload, message });
      const m = this.managed.get(workload);
      if (m) {
        m.state = "failed";
        m.message = message;
      }
      this.emit({ workload, type: "failed", message });
    }
  }

  private async listManaged(): Promise<Map<string, Container>> {
    const { containers } = await this.ctd.call(this.ctd.containers.list.bind(this.ctd.containers), { filters: [] }, "list containers");
    return new Map(containers.filter((c) => c.labels[MANAGED_LABEL] === "true").map((c) => [c.id, c]));
  }

  private newManaged(spec: WorkloadSpec, hash: string): Managed {
    const m: Managed = {
      spec,
      hash,
      state: "creating",
      pid: undefined,
      run: 0,
      restarts: 0,
      backoffMs: this.opts.initialBackoffMs ?? 500,
      startedAt: 0,
      lastExitStatus: undefined,
      lastOomKilled: false,
      oomInRun: -1,
      message: undefined,
      retired: false,
      restartRequested: false,
      timer: undefined,
      exited: undefined,
    };
    const old = this.managed.get(spec.name);
    if (old) {
      old.retired = true;
      clearTimeout(old.timer);
    }
    this.managed.set(spec.name, m);
    return m;
  }

  /** Resolves the image locally, pulling it when absent, and unpacks it. */
  private async ensureImage(spec: WorkloadSpec): Promise<ResolvedImage & { chainId: string }> {
    const candidates = [...new Set([spec.image, parseReference(spec.image, `workload ${spec.name}: image`).name])];
    for (const name of candidates) {
      try {
        return await unpackByName(this.ctd, name, this.snapshotter);
      } catch (e) {
        if (!hasCode(e, "NOT_FOUND")) throw e;
      }
    }
    const pulled = await pullImage(this.ctd, spec.image, { registries: this.registries, snapshotter: this.snapshotter });
    return unpackByName(this.ctd, pulled.name, this.snapshotter);
  }

  private async create(spec: WorkloadSpec, hash: string): Promise<void> {
    const m = this.newManaged(spec, hash);
    try {
      const image = await this.ensureImage(spec);
      const runtimeSpec = buildRuntimeSpec(spec, image.config, { cgroupParent: this.opts.cgroupParent ?? "/cairn" });
      await removeSnapshot(this.ctd, this.snapshotter, spec.name); // a leftover of an interrupted create
      // Under a lease until the container refers to it: an unreferenced active
      // snapshot is fair game for containerd's GC, which another call's lease
      // deletion (an image pull ending) can start at any moment.
      await withLease(this.ctd, async (lease) => {
        await this.ctd.call(
          this.ctd.snapshots.prepare.bind(this.ctd.snapshots),
          { snapshotter: this.snapshotter, key: spec.name, parent: image.chainId, labels: {} },
          `prepare rootfs of ${spec.name}`,
          { lease },
        );
        await this.ctd.call(
          this.ctd.containers.create.bind(this.ctd.containers),
          {
            container: {
              id: spec.name,
              labels: { [MANAGED_LABEL]: "true", [HASH_LABEL]: hash },
              image: image.name,
              runtime: { name: this.opts.runtime ?? "io.containerd.runc.v2", options: undefined },
              spec: { typeUrl: RUNTIME_SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(runtimeSpec)) },
              snapshotter: this.snapshotter,
              snapshotKey: spec.name,
              createdAt: undefined,
              updatedAt: undefined,
              extensions: {},
            },
          },
          `create container ${spec.name}`,
          { lease },
        );
      });
      this.emit({ workload: spec.name, type: "created" });
      await this.startTask(m);
    } catch (e) {
      // A create that failed (registry down, bad image) is retried with back-off, like a crash.
      m.state = "failed";
      m.message = errorText(e);
      this.scheduleRetry(m, () => this.retryCreate(m));
      throw e;
    }
  }

  private async retryCreate(m: Managed): Promise<void> {
    if (m.retired || this.closed || this.managed.get(m.spec.name) !== m) return;
    await this.guard(m.spec.name, [], async () => {
      await this.remove(m.spec.name, undefined);
      await this.create(m.spec, m.hash);
    });
  }

  /** A container that already matches its spec: supervise it, starting a task if none runs. */
  private async adopt(spec: WorkloadSpec, hash: string): Promise<void> {
    const known = this.managed.get(spec.name);
    if (known && known.hash === hash && !known.retired) return; // already supervised
    const m = this.newManaged(spec, hash);
    try {
      const { process } = await this.ctd.call(this.ctd.tasks.get.bind(this.ctd.tasks), { containerId: spec.name, execId: "" }, `get task ${spec.name}`);
      if (process && process.status === TaskStatus.RUNNING) {
        m.state = "running";
        m.pid = process.pid;
        m.startedAt = Date.now();
        // Output of an adopted task keeps going to the fifos of the run that started it (a new controller cannot reopen them).
        m.exited = this.watch(m, m.run, undefined);
        return;
      }
      await this.deleteTask(spec.name);
    } catch (e) {
      if (!hasCode(e, "NOT_FOUND")) throw e;
    }
    await this.startTask(m);
  }

  private async startTask(m: Managed): Promise<void> {
    const name = m.spec.name;
    m.run += 1;
    const run = m.run;
    const stdio = await this.opts.logs.attach(name, run);
    try {
      const { mounts } = await this.ctd.call(
        this.ctd.snapshots.mounts.bind(this.ctd.snapshots),
        { snapshotter: this.snapshotter, key: name },
        `rootfs mounts of ${name}`,
      );
      await this.ctd.call(
        this.ctd.tasks.create.bind(this.ctd.tasks),
        { containerId: name, rootfs: mounts, stdin: "", stdout: stdio.stdout, stderr: stdio.stderr, terminal: false, checkpoint: undefined, options: undefined, runtimePath: "" },
        `create task ${name}`,
      );
      const { pid } = await this.ctd.call(this.ctd.tasks.start.bind(this.ctd.tasks), { containerId: name, execId: "" }, `start task ${name}`);
      m.state = "running";
      m.pid = pid;
      m.message = undefined;
      m.startedAt = Date.now();
      m.exited = this.watch(m, run, stdio);
      this.emit({ workload: name, type: "started", pid });
    } catch (e) {
      await this.deleteTask(name).catch(() => undefined);
      await stdio.close();
      throw e;
    }
  }

  /** Waits for the task to exit, cleans it up, then restarts it per policy unless retired. */
  private async watch(m: Managed, run: number, stdio: StdioAttachment | undefined): Promise<void> {
    const name = m.spec.name;
    let exitStatus: number;
    try {
      ({ exitStatus } = await this.ctd.call(this.ctd.tasks.wait.bind(this.ctd.tasks), { containerId: name, execId: "" }, `wait task ${name}`));
    } catch (e) {
      if (!this.closed && lostContainerd(e)) return this.reattach(m, run, stdio, e);
      await stdio?.close();
      if (!this.closed) this.fail(m, e);
      return;
    }
    return this.exited(m, run, stdio, exitStatus);
  }

  /**
   * containerd went away while the task ran (it crashed, or the node
   * restarted it): the shim keeps the task and still writes to this run's
   * fifos, so wait for containerd and watch the same task again. A task
   * that ended meanwhile is handled as an exit, per policy.
   */
  private async reattach(m: Managed, run: number, stdio: StdioAttachment | undefined, cause: unknown): Promise<void> {
    const name = m.spec.name;
    m.state = "unknown";
    m.message = `lost containerd (${errorText(cause)}); re-attaching when it answers again`;
    this.emit({ workload: name, type: "detached", message: m.message });
    for (;;) {
      await new Promise((r) => setTimeout(r, REATTACH_POLL_MS));
      if (this.closed || m.retired) return void (await stdio?.close());
      let task: Awaited<ReturnType<typeof this.getTask>>;
      try {
        task = await this.getTask(name);
      } catch (e) {
        if (lostContainerd(e)) continue;
        await stdio?.close();
        return this.fail(m, e);
      }
      if (task && task.status !== TaskStatus.STOPPED) {
        m.state = "running";
        m.pid = task.pid;
        m.message = undefined;
        this.emit({ workload: name, type: "reattached", pid: task.pid });
        return this.watch(m, run, stdio);
      }
      // Ended while containerd was away; a task containerd no longer knows (its shim died too) has no status to report.
      return this.exited(m, run, stdio, task?.exitStatus ?? UNKNOWN_EXIT_STATUS);
    }
  }

  /** The task's process, or undefined when containerd has no task for the container. */
  private async getTask(name: string): Promise<{ status: TaskStatus; pid: number; exitStatus: number } | undefined> {
    try {
      const { process } = await this.ctd.call(this.ctd.tasks.get.bind(this.ctd.tasks), { containerId: name, execId: "" }, `get task ${name}`, { timeoutMs: 5_000 });
      return process;
    } catch (e) {
      if (hasCode(e, "NOT_FOUND")) return undefined;
      throw e;
    }
  }

  private fail(m: Managed, e: unknown): void {
    m.state = "failed";
    m.message = errorText(e);
    this.emit({ workload: m.spec.name, type: "failed", message: m.message });
  }

  /** One run ended: clean up, report, then restart per policy unless retired. */
  private async exited(m: Managed, run: number, stdio: StdioAttachment | undefined, exitStatus: number): Promise<void> {
    const name = m.spec.name;
    // A closed controller leaves the exited task to whoever supervises now (a new controller adopts it).
    if (this.closed) return;
    await this.deleteTask(name).catch(() => undefined);
    await stdio?.close();
    // A SIGKILL exit may be the OOM killer: its event can trail the exit.
    if (exitStatus === 128 + SIGKILL) await this.waitFor(() => m.oomInRun === run, OOM_EVENT_GRACE_MS);
    const oomKilled = m.oomInRun === run;
    m.pid = undefined;
    m.lastExitStatus = exitStatus;
    m.lastOomKilled = oomKilled;
    m.state = "exited";
    this.emit({ workload: name, type: "exited", exitStatus, oomKilled });
    if (m.retired || this.closed) return;
    if (m.restartRequested) {
      // Asked for over the API: start again right away (stopTask emitted "stopped").
      m.restartRequested = false;
      m.backoffMs = this.opts.initialBackoffMs ?? 500;
      m.restarts += 1;
      this.queue = this.queue.then(() => this.guard(name, [], () => this.startTask(m))).catch(() => undefined);
      return;
    }
    const policy = m.spec.restart ?? "always";
    if (policy === "never" || (policy === "on-failure" && exitStatus === 0)) return;
    if (Date.now() - m.startedAt > 10_000) m.backoffMs = this.opts.initialBackoffMs ?? 500;
    this.scheduleRetry(m, () => this.restart(m));
  }

  private async waitFor(cond: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  }

  private scheduleRetry(m: Managed, fn: () => Promise<void>): void {
    if (m.retired || this.closed) return;
    const delayMs = m.backoffMs;
    m.backoffMs = Math.min(m.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    m.state = m.state === "failed" ? "failed" : "restarting";
    this.emit({ workload: m.spec.name, type: "restarting", delayMs });
    clearTimeout(m.timer);
    m.timer = setTimeout(() => {
      m.timer = undefined;
      // Through the queue, so a restart never races an apply that recreates or removes.
      this.queue = this.queue.then(fn).catch(() => undefined);
    }, delayMs);
  }

  private async restart(m: Managed): Promise<void> {
    if (m.retired || this.closed || this.managed.get(m.spec.name) !== m) return;
    m.restarts += 1;
    await this.guard(m.spec.name, [], () => this.startTask(m));
  }

  /** Stops the task (SIGTERM, then SIGKILL after the grace), deletes task, container and rootfs snapshot. */
  private async remove(name: string, event: "removed" | undefined): Promise<void> {
    const m = this.managed.get(name);
    if (m) {
      m.retired = true;
      m.state = "stopping";
      clearTimeout(m.timer);
    }
    await this.stopTask(name, m);
    await this.ctd
      .call(this.ctd.containers.delete.bind(this.ctd.containers), { id: name }, `delete container ${name}`)
      .catch((e: unknown) => {
        if (!hasCode(e, "NOT_FOUND")) throw e;
      });
    await removeSnapshot(this.ctd, this.snapshotter, name);
    this.managed.delete(name);
    if (event) this.emit({ workload: name, type: event });
  }

  private async stopTask(name: string, m: Managed | undefined): Promise<void> {
    const grace = this.opts.stopTimeoutMs ?? 10_000;
    for (const [signal, waitMs] of [[SIGTERM, grace], [SIGKILL, 30_000]] as const) {
      try {
        await this.ctd.call(this.ctd.tasks.kill.bind(this.ctd.tasks), { containerId: name, execId: "", signal, all: signal === SIGKILL }, `kill ${name}`);
      } catch (e) {
        if (hasCode(e, "NOT_FOUND")) break; // no task, or it already exited
        if (!hasCode(e, "FAILED_PRECONDITION")) throw e;
      }
      if (await this.exitedWithin(name, m, waitMs)) break;
    }
    if (m?.exited) await m.exited;
    await this.deleteTask(name);
    this.emit({ workload: name, type: "stopped" });
  }

  private async exitedWithin(name: string, m: Managed | undefined, ms: number): Promise<boolean> {
    if (m?.exited) {
      const done = await Promise.race([m.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      return done;
    }
    // Not supervised by us: poll the task's status.
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      try {
        const { process } = await this.ctd.call(this.ctd.tasks.get.bind(this.ctd.tasks), { containerId: name, execId: "" }, `get task ${name}`);
        if (!process || process.status === TaskStatus.STOPPED) return true;
      } catch (e) {
        if (hasCode(e, "NOT_FOUND")) return true;
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  private async deleteTask(name: string): Promise<void> {
    try {
      await this.ctd.call(this.ctd.tasks.delete.bind(this.ctd.tasks), { containerId: name }, `delete task ${name}`);
    } catch (e) {
      if (!hasCode(e, "NOT_FOUND")) throw e;
    }
  }

  /** containerd publishes /tasks/oom when the kernel OOM-kills inside a task's cgroup. */
  private subscribeOom(): void {
    if (this.closed) return;
    const stream = this.ctd.events.subscribe({ filters: ['topic=="/tasks/oom"'] }, this.ctd.metadata());
    this.events = stream;
    stream.on("data", (env: Envelope) => {
      if (env.namespace !== this.ctd.namespace || !env.event) return;
      const { containerId } = TaskOOM.decode(env.event.value);
      const m = this.managed.get(containerId);
      if (!m) return;
      m.oomInRun = m.run;
      this.emit({ workload: containerId, type: "oom" });
    });
    stream.on("error", () => undefined);
    stream.on("close", () => {
      if (!this.closed) setTimeout(() => this.subscribeOom(), 1000).unref();
    });
  }
}

import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { Logger } from "pino";
import type { ServiceInfo } from "../../api/index.js";
import type { ContainerHost, SupervisedChild } from "../../platform/index.js";
import { ContainerdClient } from "../../workloads/containerd/client.js";
import type { EventBus } from "../event-bus.js";
import type { LogStore } from "../log-store.js";
import type { SupervisedService } from "../node-services.js";
import { containerdConfigToml } from "./containerd-config.js";
import { parseContainerdLine } from "./containerd-log.js";

/** containerd finds containerd-shim-runc-v2 and the shim finds runc on PATH. */
const CHILD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
const HEALTH_POLL_MS = 250;
const READY_TIMEOUT_MS = 60_000;
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** A run this long resets the back-off. */
const STABLE_RUN_MS = 60_000;
/** How often a host containerd the node does not run is asked whether it still answers. */
const ATTACHED_WATCH_MS = 2_000;

type State = "Waiting" | "Running" | "Failed" | "Stopped";

/**
 * containerd as a supervised system service. On metal machined writes its
 * config.toml and runs it, restarting it with back-off when it exits; on a
 * process-mode node with a host containerd it only watches that one. Health
 * is containerd's Version answering over the socket. Its output goes to the
 * node's log system as service "containerd".
 */
export class ContainerdService implements SupervisedService {
  readonly id = "containerd";
  readonly client: ContainerdClient;
  #child: SupervisedChild | undefined;
  #state: State = "Waiting";
  #message = "starting";
  #since = Date.now();
  #restarts = 0;
  #backoffMs = MIN_BACKOFF_MS;
  #closed = false;
  #ready: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: ContainerHost,
    private readonly deps: { readonly logs: LogStore; readonly log: Logger; readonly events: EventBus },
  ) {
    this.client = new ContainerdClient({ socketPath: host.launch.socket, namespace: host.namespace });
  }

  /** Starts (or attaches to) containerd; resolves once it answers Version. */
  start(): Promise<void> {
    this.#ready ??= this.#start();
    return this.#ready;
  }

  info(): ServiceInfo {
    return { id: this.id, state: this.#state, health: this.#state === "Running" ? "ok" : this.#state === "Waiting" ? "unknown" : "unhealthy", message: this.#message, pid: this.#child?.pid ?? 0, restarts: this.#restarts, sinceUnixMs: this.#since };
  }

  /** Restarts a containerd the node runs (SIGTERM; the supervisor starts it again). Workloads keep running in their shims. */
  async restart(): Promise<void> {
    if (this.host.launch.kind !== "spawn") return;
    this.#backoffMs = 0;
    this.#child?.kill("SIGTERM");
  }

  /** Stops supervising; a containerd the node runs gets SIGTERM and up to `ms` to exit. */
  async close(ms = 10_000): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.client.close();
    const child = this.#child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, ms);
      child.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }

  #set(state: State, message: string): void {
    if (state !== this.#state) {
      this.#since = Date.now();
      this.deps.events.publish("service.state", `containerd ${state.toLowerCase()}: ${message}`, { service: this.id, state });
    }
    this.#state = state;
    this.#message = message;
  }

  async #start(): Promise<void> {
    const { launch } = this.host;
    if (launch.kind === "spawn") {
      await this.host.prepare(this.deps.log);
      await mkdir(dirname(launch.configPath), { recursive: true, mode: 0o711 });
      await writeFile(launch.configPath, containerdConfigToml(launch), { mode: 0o644 });
      this.#spawn();
    }
    await this.#waitHealthy(READY_TIMEOUT_MS);
    if (launch.kind !== "spawn") this.#watchAttached();
  }

  /**
   * A containerd the node did not start (process mode) has no exit to
   * observe: ask it regularly, so ServiceList says when it stops answering
   * and when it is back (workloads re-attach on their own).
   */
  #watchAttached(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.client
        .call(this.client.version.version.bind(this.client.version), {}, "version", { timeoutMs: ATTACHED_WATCH_MS })
        .then(
          (v) => {
            if (!this.#closed) this.#set("Running", `containerd ${v.version} on ${this.host.launch.socket}`);
          },
          (e: unknown) => {
            if (!this.#closed) this.#set("Failed", `not answering on ${this.host.launch.socket}: ${e instanceof Error ? e.message : String(e)}`);
          },
        )
        .finally(() => this.#watchAttached());
    }, ATTACHED_WATCH_MS);
    this.#timer.unref();
  }

  #spawn(): void {
    if (this.#closed || this.host.launch.kind !== "spawn") return;
    const { binary, configPath } = this.host.launch;
    const started = Date.now();
    const child = this.host.spawn(binary, ["--config", configPath], { PATH: CHILD_PATH });
    this.#child = child;
    this.#set("Waiting", `started (pid ${child.pid ?? "?"})`);
    this.deps.log.info({ pid: child.pid, configFile: configPath }, "containerd started");
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (raw) => {
        const l = parseContainerdLine(raw);
        this.deps.logs.append({ service: this.id, timeUnixMs: l.timeUnixMs, level: l.level, message: l.message });
      });
    }
    child.once("error", (err) => this.deps.log.error({ err: err.message }, "containerd could not be started"));
    child.once("exit", (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#closed) return;
      if (Date.now() - started > STABLE_RUN_MS) this.#backoffMs = MIN_BACKOFF_MS;
      const delay = this.#backoffMs;
      this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, MIN_BACKOFF_MS), MAX_BACKOFF_MS);
      this.#restarts += 1;
      this.#set("Failed", `exited (code ${code}, signal ${signal}); restarting in ${delay} ms`);
      this.deps.log.warn({ code, signal, delayMs: delay }, "containerd exited; restarting");
      this.#timer = setTimeout(() => {
        this.#spawn();
        void this.#waitHealthy(READY_TIMEOUT_MS).catch(() => undefined);
      }, delay);
    });
  }

  async #waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (!this.#closed) {
      try {
        const v = await this.client.call(this.client.version.version.bind(this.client.version), {}, "version", { timeoutMs: 2_000 });
        this.#set("Running", `containerd ${v.version} on ${this.host.launch.socket}`);
        return;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) {
        this.#set("Failed", `not answering on ${this.host.launch.socket}: ${last}`);
        throw new Error(`containerd did not answer within ${timeoutMs / 1000} s on ${this.host.launch.socket}: ${last}`);
      }
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
  }
}

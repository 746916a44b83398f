import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { CairnError } from "../errors/index.js";
import { isAlive, isProcessFor, waitForPidGone } from "./process-liveness.js";
import { QmpClient } from "./qmp-client.js";
import type { NodeState } from "./types.js";

/** How powerOff ended the VM: the guest honoured ACPI, QMP quit, SIGKILL, or it was not running. */
export type PowerOffOutcome = "acpi" | "quit" | "killed" | "already-off";

/** Measured launch times of one node, from spawn. */
export interface LaunchTimings {
  /** Overlay, VARS copy and port picking before spawn. */
  readonly prepareMs: number;
  /** Spawn until QMP answered the capabilities handshake. */
  readonly qmpReadyMs: number;
}

/**
 * A running (or recently running) QEMU node. Works both for a node this
 * process launched (exit is observed directly) and one re-attached from
 * cluster.json (liveness by pid and command line).
 */
export interface NodeHandle {
  readonly name: string;
  readonly pid: number;
  /** `127.0.0.1:PORT`, forwarded to the guest API port 50000. */
  readonly apiEndpoint: string;
  readonly consoleLog: string;
  readonly qmpSocket: string;
  readonly workDir: string;
  /** Everything cluster.json records about the node. */
  readonly state: NodeState;
  /** Present for nodes launched by this process. */
  readonly timings: LaunchTimings | undefined;
  /** True while the QEMU process exists (zombies count as gone). */
  isRunning(): boolean;
  /** Resolves true once QEMU has exited, false if still running after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<boolean>;
  /** SIGKILL (a power cut) and wait until the pid is gone; no-op if already gone. */
  kill(): Promise<void>;
  /** ACPI power button, then QMP quit, then SIGKILL; each step gets `graceMs` (default 5 s). */
  powerOff(graceMs?: number): Promise<PowerOffOutcome>;
  /** Hard reset via QMP system_reset; the QEMU process keeps running. */
  reset(): Promise<void>;
  /** The node's QMP client, connected on first use and shared; closed when QEMU exits. */
  qmp(): Promise<QmpClient>;
  /** Everything the guest wrote to its serial console so far. */
  consoleText(): string;
  /** Polls the console until `re` matches; throws DEADLINE_EXCEEDED (with the console tail) or if QEMU exits. */
  waitForConsole(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

/** NodeHandle implementation over a pid, a QMP socket and a console file. */
export class QemuNode implements NodeHandle {
  readonly state: NodeState;
  readonly timings: LaunchTimings | undefined;
  readonly #exited: Promise<void> | undefined;
  #hasExited = false;
  #qmp: Promise<QmpClient> | undefined;

  /** `child` is given when this process spawned QEMU; `qmp` may be a client already connected. */
  constructor(state: NodeState, opts: { child?: ChildProcess; qmp?: QmpClient; timings?: LaunchTimings } = {}) {
    this.state = state;
    this.timings = opts.timings;
    if (opts.qmp !== undefined) this.#qmp = Promise.resolve(opts.qmp);
    const child = opts.child;
    if (child !== undefined) {
      this.#hasExited = child.exitCode !== null || child.signalCode !== null;
      this.#exited = this.#hasExited
        ? Promise.resolve()
        : new Promise((resolve) => child.once("exit", () => resolve()));
      void this.#exited.then(() => {
        this.#hasExited = true;
        void this.#closeQmp();
      });
    }
  }

  get name(): string { return this.state.name; }
  get pid(): number { return this.state.pid; }
  get apiEndpoint(): string { return this.state.apiEndpoint; }
  get consoleLog(): string { return this.state.consoleLog; }
  get qmpSocket(): string { return this.state.qmpSocket; }
  get workDir(): string { return this.state.workDir; }

  isRunning(): boolean {
    if (this.#exited !== undefined) return !this.#hasExited && isAlive(this.pid);
    return isProcessFor(this.pid, this.qmpSocket);
  }

  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.#exited === undefined) return waitForPidGone(this.pid, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return gone;
  }

  async kill(): Promise<void> {
    if (!this.isRunning()) return;
    try {
      process.kill(this.pid, "SIGKILL");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw CairnError.from(e);
    }
    if (!(await this.waitForExit(5000))) {
      throw new CairnError("INTERNAL", `QEMU pid ${this.pid} (${this.name}) survived SIGKILL for 5 s`);
    }
    await this.#closeQmp();
  }

  async powerOff(graceMs = 5000): Promise<PowerOffOutcome> {
    if (!this.isRunning()) return "already-off";
    try {
      await (await this.qmp()).systemPowerdown();
      if (await this.waitForExit(graceMs)) return "acpi";
      await (await this.qmp()).quit();
      if (await this.waitForExit(graceMs)) return "quit";
    } catch {
      // QMP unreachable or QEMU died mid-command: fall through to SIGKILL.
    }
    await this.kill();
    return "killed";
  }

  async reset(): Promise<void> {
    await (await this.qmp()).systemReset();
  }

  qmp(): Promise<QmpClient> {
    if (this.#qmp === undefined) {
      const p = QmpClient.connect(this.qmpSocket, { timeoutMs: 5000 });
      this.#qmp = p;
      p.then((c) => c.once("close", () => { if (this.#qmp === p) this.#qmp = undefined; }),
        () => { if (this.#qmp === p) this.#qmp = undefined; });
    }
    return this.#qmp;
  }

  consoleText(): string {
    try {
      return readFileSync(this.consoleLog, "utf8");
    } catch {
      return "";
    }
  }

  async waitForConsole(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.consoleText();
      const m = text.match(re);
      if (m !== null) return m;
      const running = this.isRunning();
      if (!running || Date.now() >= deadline) {
        const tail = text.slice(-2000);
        throw new CairnError(
          running ? "DEADLINE_EXCEEDED" : "ABORTED",
          running ? `${this.name}: console did not match ${re} in ${timeoutMs} ms` : `${this.name}: QEMU exited before console matched ${re}`,
          { hint: `console tail (${this.consoleLog}):\n${tail}` },
        );
      }
      await sleep(100);
    }
  }

  async #closeQmp(): Promise<void> {
    const p = this.#qmp;
    this.#qmp = undefined;
    if (p !== undefined) {
      try { (await p).close(); } catch { /* never connected */ }
    }
  }
}

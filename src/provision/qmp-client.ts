import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CairnError } from "../errors/index.js";
import { QmpError } from "./qmp-error.js";

/** An asynchronous QMP event such as RESET, SHUTDOWN, POWERDOWN or STOP. */
export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
  readonly timestamp: { seconds: number; microseconds: number };
}

/** The answer of `query-status` (QEMU RunState: "running", "paused", "shutdown", ...). */
export interface QmpStatus {
  readonly status: string;
  readonly running: boolean;
}

/** Options for QmpClient.connect. */
export interface QmpConnectOptions {
  /** Keep retrying while the socket is missing or refuses, up to this long; default 10 s. */
  readonly timeoutMs?: number;
  /** Per-command timeout; default 10 s. */
  readonly commandTimeoutMs?: number;
}

interface Pending {
  readonly command: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A client for the QEMU Machine Protocol over a unix socket: greeting and
 * `qmp_capabilities` handshake on connect, id-tagged commands (so answers
 * can't be confused with events) and events as `"event"` emissions.
 * QEMU serves one QMP client per socket at a time: close() when done.
 */
export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  readonly #commandTimeoutMs: number;
  #buffer = "";
  #greeted!: () => void;
  #notGreeted!: (e: Error) => void;
  readonly #greeting = new Promise<void>((resolve, reject) => {
    this.#greeted = resolve;
    this.#notGreeted = reject;
  });
  #nextId = 1;
  #closed = false;

  private constructor(socket: Socket, commandTimeoutMs: number) {
    super();
    this.#socket = socket;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.#greeting.catch(() => undefined); // observed by #handshake; never an unhandled rejection
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#onData(chunk));
    socket.on("error", () => this.#onClose());
    socket.on("close", () => this.#onClose());
  }

  /** Connects (retrying until QEMU has created the socket) and completes the handshake. */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    let last: unknown;
    for (;;) {
      try {
        const socket = await openSocket(path);
        const client = new QmpClient(socket, opts.commandTimeoutMs ?? 10_000);
        await client.#handshake(Math.max(1000, deadline - Date.now()));
        return client;
      } catch (e) {
        last = e;
        if (Date.now() >= deadline) break;
        await sleep(50);
      }
    }
    throw new CairnError("UNAVAILABLE", `QMP socket ${path} not ready`, { cause: last });
  }

  /** True once the socket closed (QEMU exited or close() was called). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs one QMP command and returns its `return` value; throws QmpError on an error answer. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new CairnError("UNAVAILABLE", `QMP ${command}: connection closed`));
    }
    const id = `c${this.#nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CairnError("DEADLINE_EXCEEDED", `QMP ${command}: no answer in ${this.#commandTimeoutMs} ms`));
      }, this.#commandTimeoutMs);
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.#socket.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** Resolves with the next event named `name`, or throws DEADLINE_EXCEEDED. */
  waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (ev: QmpEvent): void => {
        if (ev.event !== name) return;
        clearTimeout(timer);
        this.off("event", onEvent);
        resolve(ev);
      };
      const timer = setTimeout(() => {
        this.off("event", onEvent);
        reject(new CairnError("DEADLINE_EXCEEDED", `QMP event ${name} not seen in ${timeoutMs} ms`));
      }, timeoutMs);
      this.on("event", onEvent);
    });
  }

  /** `query-status`: the VM run state. */
  queryStatus(): Promise<QmpStatus> {
    return this.execute<QmpStatus>("query-status");
  }

  /** `system_reset`: a hard reset, like pressing the reset button (the guest gets no warning). */
  async systemReset(): Promise<void> {
    await this.execute("system_reset");
  }

  /** `system_powerdown`: an ACPI power-button press; the guest decides what to do. */
  async systemPowerdown(): Promise<void> {
    await this.execute("system_powerdown");
  }

  /**
   * `quit`: QEMU exits at once (a power cut for the guest). QEMU may close the
   * socket before its answer arrives, so a close counts as success.
   */
  async quit(): Promise<void> {
    try {
      await this.execute("quit");
    } catch (e) {
      if (!this.#closed) throw e;
    }
  }

  /** Closes the connection; idempotent. Pending commands fail with UNAVAILABLE. */
  close(): void {
    this.#socket.destroy();
    this.#onClose();
  }

  async #handshake(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CairnError("DEADLINE_EXCEEDED", "no QMP greeting (another client connected?)")), timeoutMs);
    });
    try {
      await Promise.race([this.#greeting, timeout]);
      await this.execute("qmp_capabilities");
    } catch (e) {
      this.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let nl: number;
    while ((nl = this.#buffer.indexOf("\n")) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line !== "") this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // QMP only sends JSON objects; ignore anything else rather than crash
    }
    if ("QMP" in msg) {
      this.#greeted();
      return;
    }
    if (typeof msg["event"] === "string") {
      this.emit("event", msg as unknown as QmpEvent);
      return;
    }
    const id = msg["id"];
    const pending = typeof id === "string" ? this.#pending.get(id) : undefined;
    if (pending === undefined) return;
    this.#pending.delete(id as string);
    clearTimeout(pending.timer);
    const err = msg["error"] as { class?: string; desc?: string } | undefined;
    if (err !== undefined) pending.reject(new QmpError(pending.command, err.class ?? "GenericError", err.desc ?? ""));
    else pending.resolve(msg["return"]);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#notGreeted(new CairnError("UNAVAILABLE", "QMP closed before greeting"));
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new CairnError("UNAVAILABLE", `QMP ${p.command}: connection closed`));
    }
    this.emit("close");
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

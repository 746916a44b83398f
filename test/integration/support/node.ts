import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { MachineClient, maintenanceChannelCredentials } from "../../../src/machinery/client/index.js";
import { pollUntil } from "./poll.js";

/** The repository root: bin/ launches the tsc output in build/ (npm run build first). */
export const REPO = resolve(import.meta.dirname, "../../..");

/** A free TCP port on loopback, found by binding port 0 and letting it go again. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** How readiness is proven: Version over maintenance TLS, or over mTLS with these credentials. */
export type Readiness = { mode: "maintenance" } | { mode: "configured"; creds: ChannelCredentials };

export interface StartOptions {
  /** The node's directory (state and var); a fresh temp dir when omitted. */
  dir?: string;
  port?: number;
  /** Default: maintenance. A configured node must be proven over mTLS. */
  ready?: Readiness;
  /** Extra environment for machined (e.g. CAIRN_BLESS_GRACE_MS for this node only). */
  env?: Record<string, string>;
}

const live = new Set<NodeProcess>();
const ownedDirs = new Set<string>();

/**
 * One machined in process mode, as a child process. Its output is kept so a
 * failing test can show what the node said; `exited` settles when it dies.
 */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private exitedP: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  private out = "";
  private err = "";
  private errSinceStart = "";
  private recording: string[] | undefined;

  /** Extra environment for machined, read at every start (change it, then restart). */
  env: Record<string, string> = {};
  private readonly nodeArgs: readonly string[];

  /** `nodeArgs` go to node before bin/machined.js (e.g. a test probe with --import); `env` is the first value of the env field. */
  constructor(
    readonly dir: string,
    readonly port: number,
    launch: { nodeArgs?: readonly string[]; env?: Readonly<Record<string, string>> } = {},
  ) {
    this.nodeArgs = launch.nodeArgs ?? [];
    this.env = { ...launch.env };
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The maintenance certificate fingerprint printed by the current run, if any. */
  get fingerprint(): string | undefined {
    const all = [...this.errSinceStart.matchAll(/certificate fingerprint ([0-9A-F:]+)/g)];
    return all.at(-1)?.[1];
  }

  /** Everything the node wrote (stderr then the tail of stdout), for failure messages. */
  output(): string {
    return `[stderr]\n${this.err}\n[stdout tail]\n${this.out.slice(-6000)}`;
  }

  /** From now on, keep everything the node writes (across restarts), for tests that search all of it. */
  record(): void {
    this.recording ??= [];
  }

  /** Everything written since record(), untruncated. */
  recorded(): string {
    return (this.recording ?? []).join("");
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exitedP;
  }

  /** Spawns machined and resolves once it answers Version the way `ready` says. */
  async start(ready: Readiness = { mode: "maintenance" }): Promise<void> {
    if (this.running) throw new Error(`node ${this.address} is already running`);
    this.errSinceStart = "";
    const child = spawn(process.execPath, [...this.nodeArgs, "bin/machined.js", "--mode", "process", "--state", this.dir, "--listen", this.address], {
      cwd: REPO,
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    live.add(this);
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      this.out = (this.out + s).slice(-200_000);
      this.recording?.push(s);
    });
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      this.err = (this.err + s).slice(-50_000);
      this.errSinceStart += s;
      this.recording?.push(s);
    });
    this.exitedP = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
    await this.waitReady(ready, { fresh: true });
  }

  /** Polls Version until the node answers in the expected mode; fails fast if it dies or comes up in the other mode. */
  async waitReady(ready: Readiness, opts: { fresh?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const child = this.child;
    await pollUntil(
      `${this.address} to answer Version (${ready.mode})`,
      async () => {
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
          throw new FatalError(`machined exited (code ${child?.exitCode}, signal ${child?.signalCode})\n${this.output()}`);
        }
        // Fail fast when a freshly started node announces the other mode
        // (its first "machine API on port" line), rather than polling to the
        // timeout. After an apply the first line is still "maintenance".
        const first = /machine API on port \d+ \((mTLS|maintenance)\)/.exec(this.errSinceStart)?.[1];
        if (opts.fresh && first !== undefined && (first === "mTLS") !== (ready.mode === "configured")) {
          throw new FatalError(`node came up in ${first} mode, expected ${ready.mode}\n${this.output()}`);
        }
        const creds = ready.mode === "configured" ? ready.creds : maintenanceChannelCredentials();
        const c = new MachineClient(this.address, creds, 2_000);
        try {
          const v = await c.version();
          return v.maintenance === (ready.mode === "maintenance") ? v : undefined;
        } finally {
          c.close();
        }
      },
      { timeoutMs: opts.timeoutMs ?? 20_000, describe: () => this.output(), fatal: (e) => e instanceof FatalError },
    );
  }

  /** Sends `signal` and waits for the process to end. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.running) return;
    this.child?.kill(signal);
    await this.exitedP;
    live.delete(this);
  }

  /** SIGTERM, escalating to SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), 5_000);
    try {
      await this.kill("SIGTERM");
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the process and starts it again on the same directory and port. */
  async restart(ready: Readiness = { mode: "maintenance" }): Promise<void> {
    await this.stop();
    await this.start(ready);
  }
}

/** An error that ends polling at once (the node died), instead of being retried. */
export class FatalError extends Error {}

/** Starts a node on a free port in `dir` (default: a fresh temp dir, removed by stopAllNodes). */
export async function startNode(opts: StartOptions = {}): Promise<NodeProcess> {
  let dir = opts.dir;
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), "cairn-it-node-"));
    ownedDirs.add(dir);
  }
  const node = new NodeProcess(dir, opts.port ?? (await freePort()));
  if (opts.env) node.env = opts.env;
  await node.start(opts.ready);
  return node;
}

/** For afterAll: no machined outlives its test file. */
export async function stopAllNodes(): Promise<void> {
  await Promise.all([...live].map((n) => n.stop()));
  for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  ownedDirs.clear();
}

// Belt and braces: if the worker exits without afterAll (a crash), kill the children.
process.once("exit", () => {
  for (const n of live) {
    try {
      if (n.pid !== undefined) process.kill(n.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

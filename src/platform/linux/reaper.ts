import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { pino, type Logger } from "pino";
import { errnoName } from "./errno.js";
import { lastErrno, libc } from "./libc.js";

const P_ALL = 0;
const P_PID = 1;
const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
/** siginfo_t is 128 bytes; for SIGCHLD, si_pid is at 16, si_code at 8, si_status at 24 (x86_64 and arm64). */
const SIGINFO_SIZE = 128;
const CLD_EXITED = 1;
/** Bounds one sweep so a fork bomb of orphans cannot stall the event loop. */
const MAX_PER_SWEEP = 256;

/** One reaped orphan, for logs and tests. */
export interface ReapedProcess {
  readonly pid: number;
  readonly exitCode: number | undefined;
  readonly signal: number | undefined;
}

/** `pid (comm) S ppid …` from /proc/<pid>/stat; comm may hold spaces and parentheses. */
export function parseProcPidStat(text: string): { pid: number; state: string; ppid: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).split(" ");
  const pid = Number(text.slice(0, text.indexOf(" ")));
  const ppid = Number(rest[1]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !rest[0]) return undefined;
  return { pid, state: rest[0], ppid };
}

/**
 * Reaps orphans that the kernel re-parents to PID 1, without stealing
 * Node's own children: libuv waits for each child it spawned by pid, and a
 * child reaped by anyone else never gets its 'exit' event.
 *
 * A sweep peeks with waitid(P_ALL, WNOWAIT) and reaps the zombie only if
 * its pid is not tracked. When the peek shows a tracked child (libuv has
 * not collected it yet) the sweep falls back to scanning /proc for our
 * other zombie children, because waitid keeps returning the same one.
 *
 * Every pid spawned through child_process must be registered with `track`
 * or `trackChild` in the same tick as spawn() returns: the reaper runs only
 * on the event loop, so it cannot see the child before that.
 */
export class OrphanReaper {
  readonly #known = new Set<number>();
  #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #onSigchld = (): void => this.#safeSweep();

  /** The logger may come later, with start(): children can be tracked before boot has a logger. */
  constructor(log?: Logger, opts: { intervalMs?: number } = {}) {
    this.#log = log ?? pino({ enabled: false });
    this.#intervalMs = opts.intervalMs ?? 1000;
  }

  /** Marks a pid as Node's own child: the reaper never waits for it. */
  track(pid: number): void {
    this.#known.add(pid);
  }

  untrack(pid: number): void {
    this.#known.delete(pid);
  }

  /** Tracks a ChildProcess until Node has reaped it ('exit' fires after libuv's waitpid). */
  trackChild(child: ChildProcess): ChildProcess {
    const pid = child.pid;
    if (pid === undefined) return child; // spawn failed: there is no process to protect
    this.track(pid);
    child.once("exit", () => this.untrack(pid));
    return child;
  }

  /** Starts sweeping on SIGCHLD and on a timer (a signal can coalesce or arrive before a listener exists). Idempotent. */
  start(log?: Logger): void {
    if (log) this.#log = log;
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#safeSweep(), this.#intervalMs);
    this.#timer.unref();
    process.on("SIGCHLD", this.#onSigchld);
  }

  /** Stops both triggers. Idempotent. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    process.off("SIGCHLD", this.#onSigchld);
  }

  /** One sweep; returns what it reaped. Throws nothing a timer could not handle: see #safeSweep. */
  sweep(): ReapedProcess[] {
    const reaped: ReapedProcess[] = [];
    const info = Buffer.alloc(SIGINFO_SIZE);
    while (reaped.length < MAX_PER_SWEEP) {
      info.fill(0);
      const ret = libc().waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT);
      if (ret < 0) {
        const err = errnoName(lastErrno());
        if (err !== "ECHILD" && err !== "EINTR") this.#log.warn({ error: err }, "waitid peek failed");
        break;
      }
      const pid = info.readInt32LE(16);
      if (pid === 0) break; // children exist, none has exited
      if (this.#known.has(pid)) {
        for (const z of this.#zombieChildren()) {
          const r = this.#reap(z);
          if (r) reaped.push(r);
        }
        break;
      }
      const r = this.#reap(pid);
      if (!r) break;
      reaped.push(r);
    }
    for (const r of reaped) this.#log.debug({ pid: r.pid, exitCode: r.exitCode, signal: r.signal }, "reaped orphan");
    return reaped;
  }

  #reap(pid: number): ReapedProcess | undefined {
    const info = Buffer.alloc(SIGINFO_SIZE);
    if (libc().waitid(P_PID, pid, info, WEXITED | WNOHANG) < 0) return undefined;
    if (info.readInt32LE(16) !== pid) return undefined;
    const code = info.readInt32LE(8);
    const status = info.readInt32LE(24);
    return { pid, exitCode: code === CLD_EXITED ? status : undefined, signal: code === CLD_EXITED ? undefined : status };
  }

  /** Zombies whose parent is this process and that Node did not spawn. */
  #zombieChildren(): number[] {
    const out: number[] = [];
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      return out;
    }
    for (const e of entries) {
      if (!/^\d+$/.test(e) || this.#known.has(Number(e))) continue;
      try {
        const s = parseProcPidStat(readFileSync(`/proc/${e}/stat`, "utf8"));
        if (s && s.state === "Z" && s.ppid === process.pid) out.push(s.pid);
      } catch {
        // the process went away between readdir and read
      }
    }
    return out;
  }

  #safeSweep(): void {
    try {
      this.sweep();
    } catch (err) {
      // PID 1: an exception escaping a timer would panic the kernel.
      this.#log.error({ err }, "reaper sweep failed");
    }
  }
}

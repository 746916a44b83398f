// Readiness probes of the boot benchmark: "Cairn's Version RPC answers" and
// "Debian's sshd sends its banner". Both go through QEMU user networking, whose
// host side accepts a TCP connection before the guest does: a connect alone
// proves nothing, and an attempt to a guest that is not listening yet can hang
// until its timeout. So attempts overlap: a new one starts every `everyMs`
// whatever the others are doing (at most `maxInFlight` at once), and the first
// success wins, keeping the resolution near `everyMs` instead of at the attempt
// timeout. The cap matters: with 16 open attempts, sshd in a 256 MiB guest
// forked (and re-exec'd) one child per connection, ran out of memory headroom,
// never sent a banner within 1.5 s, and the boot itself stalled. So an SSH
// attempt may wait long for its banner (`attemptMs`) but stops blocking new
// attempts after `youngMs`: attempts made before the guest had an address hang
// in QEMU's user network stack and must not hold every slot.
import { setMaxListeners } from "node:events";
import { connect } from "node:net";
import { performance } from "node:perf_hooks";

/** When the probe first succeeded (performance.now() ms) and what it got. */
export interface ProbeHit<T> {
  readonly atMs: number;
  readonly value: T;
  readonly attempts: number;
}

export interface ProbeOptions {
  /** Give up (reject) after this long. */
  readonly timeoutMs: number;
  /** Start a new attempt this often. */
  readonly everyMs?: number;
  /** Per-attempt deadline. */
  readonly attemptMs?: number;
  /** At most this many attempts younger than `youngMs` at once. */
  readonly maxInFlight?: number;
  /** An attempt older than this stops counting against maxInFlight (default attemptMs). */
  readonly youngMs?: number;
  /** At most this many attempts open at all (each open connection costs the guest). */
  readonly maxOpen?: number;
  /** Rejects early, e.g. when QEMU exited; checked on every tick. */
  readonly abort?: () => string | undefined;
}

/** Runs overlapping `attempt`s until one resolves; see the file comment. */
export function pollOverlapping<T>(attempt: (deadlineMs: number, signal: AbortSignal) => Promise<T>, opts: ProbeOptions): Promise<ProbeHit<T>> {
  const stop = new AbortController(); // aborts the attempts still open once one won (or the probe gave up)
  setMaxListeners(64, stop.signal); // one listener per open attempt
  const every = opts.everyMs ?? 200;
  const attemptMs = opts.attemptMs ?? 2500;
  const maxInFlight = opts.maxInFlight ?? 5;
  const youngMs = opts.youngMs ?? attemptMs;
  const maxOpen = opts.maxOpen ?? maxInFlight;
  const open = new Set<number>(); // start times of unsettled attempts
  const t0 = performance.now();
  let attempts = 0;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      stop.abort();
      f();
    };
    const tick = () => {
      const why = opts.abort?.();
      if (why !== undefined) return finish(() => reject(new Error(why)));
      if (performance.now() - t0 > opts.timeoutMs) return finish(() => reject(new Error(`no answer within ${opts.timeoutMs} ms (${attempts} attempts)`)));
      const now = performance.now();
      const young = [...open].filter((t) => now - t < youngMs).length;
      if (young >= maxInFlight || open.size >= maxOpen) return;
      attempts++;
      const id = now + attempts * 1e-6; // unique key
      open.add(id);
      attempt(attemptMs, stop.signal).then(
        (value) => finish(() => resolve({ atMs: performance.now(), value, attempts })),
        () => undefined,
      ).finally(() => open.delete(id));
    };
    const timer = setInterval(tick, every);
    tick();
  });
}

/** Connects to 127.0.0.1:port and resolves with the first line if it starts with `SSH-2.0-`. */
export function sshBannerOnce(port: number, deadlineMs: number, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("aborted"));
    const sock = connect({ host: "127.0.0.1", port });
    let got = "";
    const onAbort = () => end(new Error("aborted"));
    const end = (err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(got.split("\r\n")[0] ?? got);
    };
    const timer = setTimeout(() => end(new Error("timeout")), deadlineMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes("\n")) end(got.startsWith("SSH-2.0-") ? undefined : new Error(`not an SSH banner: ${got.slice(0, 40)}`));
    });
    sock.on("error", (e) => end(e));
    sock.on("close", () => end(new Error("closed before a banner")));
  });
}

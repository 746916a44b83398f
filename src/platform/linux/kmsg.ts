import { closeSync, openSync, readSync, writeSync, constants } from "node:fs";
import type { KernelLogRecord } from "../platform.js";
import { nodeError, nodeErrorCode } from "./errno.js";
import { parseKmsgRecord } from "./kmsg-record.js";

/** How often follow mode looks for new records once the buffer is drained. */
const FOLLOW_POLL_MS = 250;
/** The kernel caps one record at about 1 KiB of text plus dictionary; 8 KiB is safe. */
const RECORD_BUFFER = 8192;

/**
 * Reads kernel log records from /dev/kmsg: every record still in the ring
 * buffer, then (follow) new ones until the signal aborts. The fd is
 * non-blocking and polled on a timer rather than read blockingly, because a
 * blocking read would pin one of libuv's four pool threads per follower.
 */
export async function* readKernelLog(opts: {
  follow: boolean;
  signal: AbortSignal;
  /** > 0: only the last N records already in the buffer, then new ones. */
  tail?: number;
  path?: string;
}): AsyncGenerator<KernelLogRecord> {
  const tail = opts.tail ?? 0;
  // The backlog is held until the first EAGAIN (caught up); then its last N go out.
  const backlog: KernelLogRecord[] = [];
  let caughtUp = tail <= 0;
  for await (const r of readRecords(opts)) {
    if (r === CAUGHT_UP) {
      if (!caughtUp) yield* backlog.splice(0);
      caughtUp = true;
    } else if (caughtUp) {
      yield r;
    } else {
      backlog.push(r);
      if (backlog.length > tail) backlog.shift();
    }
  }
  yield* backlog;
}

/** Marks the moment a reader has drained the kernel's buffer. */
const CAUGHT_UP = Symbol("caught-up");

/** Appends one line to the kernel log at level info; dropped when /dev/kmsg cannot be written. */
export function writeKernelLogLine(line: string, path = "/dev/kmsg"): void {
  // A fresh fd per line: the kernel rate-limits /dev/kmsg writers per open
  // file (10 lines per 5 s), and node events are rare but come in bursts at boot.
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, `<6>${line.replace(/\n/g, " ")}\n`);
  } catch {
    // Best effort: the line is also in machined's own log.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function* readRecords(opts: { follow: boolean; signal: AbortSignal; path?: string }): AsyncGenerator<KernelLogRecord | typeof CAUGHT_UP> {
  const path = opts.path ?? "/dev/kmsg";
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw nodeError(`open ${path}`, e);
  }
  const buf = Buffer.alloc(RECORD_BUFFER);
  try {
    while (!opts.signal.aborted) {
      let n: number;
      try {
        // libuv opens every fd with O_CLOEXEC. Each read(2) on /dev/kmsg returns exactly one record.
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = nodeErrorCode(e);
        // EPIPE: records were overwritten while we lagged; the next read resumes.
        if (code === "EPIPE") continue;
        if (code !== "EAGAIN") throw nodeError(`read ${path}`, e);
        yield CAUGHT_UP;
        if (!opts.follow) return;
        await sleep(FOLLOW_POLL_MS, opts.signal);
        continue;
      }
      if (n === 0) return;
      const rec = parseKmsgRecord(buf.toString("utf8", 0, n));
      if (rec) yield rec;
    }
  } finally {
    closeSync(fd);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

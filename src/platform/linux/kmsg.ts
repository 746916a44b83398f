import { closeSync, openSync, readSync, constants } from "node:fs";
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
  path?: string;
}): AsyncGenerator<KernelLogRecord> {
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

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Size of a file, 0 when it does not exist yet. */
export function fileSize(path: string): number {
  try {
    const fd = openSync(path, "r");
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Waits for a whole line matching `re` to appear in a growing file (a VM's
 * serial console) after byte `from`, polling every 10 ms so a caller can
 * act (cut the power) within a few tens of milliseconds of the guest
 * writing it. Returns the line and the offset just past it. Fails after
 * `timeoutMs`, or as soon as `alive()` turns false, with the last lines read.
 */
export async function waitForLine(path: string, re: RegExp, opts: { from: number; timeoutMs: number; alive?: () => boolean }): Promise<{ line: string; end: number }> {
  const deadline = Date.now() + opts.timeoutMs;
  let offset = opts.from;
  let partial = "";
  let seen: string[] = [];
  for (;;) {
    const chunk = readFrom(path, offset);
    if (chunk.length > 0) {
      // latin1: one character per byte, so lengths are file offsets.
      let at = offset - partial.length;
      offset += chunk.length;
      const lines = (partial + chunk.toString("latin1")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        at += line.length + 1;
        if (re.test(line)) return { line, end: at };
      }
      seen = [...seen, ...lines].slice(-15);
    }
    if (Date.now() > deadline || (opts.alive && !opts.alive())) {
      const why = Date.now() > deadline ? `not within ${opts.timeoutMs / 1000} s` : "QEMU exited";
      throw new Error(`console line ${re} did not appear after byte ${opts.from} (${why}); last lines:\n${[...seen, partial].join("\n")}`);
    }
    await sleep(10);
  }
}

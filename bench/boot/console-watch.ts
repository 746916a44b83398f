// Host-side timestamps for serial console lines. The guest boots with `quiet`,
// so the kernel's own printk times are not on the console; instead the file
// QEMU writes the serial port to is read incrementally and every line is
// stamped with the host clock when it first appears. Resolution: the poll
// interval (default 10 ms) plus QEMU's write latency.
import { open, type FileHandle } from "node:fs/promises";
import { performance } from "node:perf_hooks";

/** One console line and the host time (performance.now() ms) it was first seen. */
export interface StampedLine {
  readonly atMs: number;
  readonly text: string;
}

/** Escape sequences OVMF writes to clear the screen; stripped so markers match at line start. */
const ANSI = /\x1b\[[0-9;=?]*[A-Za-z]/g;

/**
 * Tails `path` (which may not exist yet) until stop(). A partial last line is
 * stamped when its first bytes arrive, not when its newline does, so a line
 * such as a login prompt that never ends still counts.
 */
export class ConsoleWatch {
  readonly lines: StampedLine[] = [];
  #fh: FileHandle | undefined;
  #offset = 0;
  #partial = "";
  #partialAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(private readonly path: string, private readonly intervalMs = 10) {}

  start(): this {
    this.#timer = setInterval(() => void this.#poll(), this.intervalMs);
    return this;
  }

  /** Reads what is left, stops polling and closes the file. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#busy) await new Promise((r) => setTimeout(r, 5));
    await this.#poll();
    if (this.#partial !== "") this.#push(this.#partial, this.#partialAt);
    this.#partial = "";
    await this.#fh?.close();
    this.#fh = undefined;
  }

  /** The first line matching `re` (complete or still partial), or undefined. */
  first(re: RegExp): StampedLine | undefined {
    const hit = this.lines.find((l) => re.test(l.text));
    if (hit !== undefined) return hit;
    return re.test(this.#partial) ? { atMs: this.#partialAt, text: this.#partial } : undefined;
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.#fh === undefined) {
        try {
          this.#fh = await open(this.path, "r");
        } catch {
          return; // QEMU has not created it yet
        }
      }
      const now = performance.now();
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await this.#fh.read(buf, 0, buf.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        this.#ingest(buf.subarray(0, bytesRead).toString("latin1"), now);
      }
    } finally {
      this.#busy = false;
    }
  }

  #ingest(chunk: string, now: number): void {
    if (this.#partial === "") this.#partialAt = now;
    const parts = (this.#partial + chunk).split(/\r?\n|\r/);
    this.#partial = parts.pop() ?? "";
    for (const p of parts) {
      this.#push(p, this.#partialAt);
      this.#partialAt = now;
    }
  }

  #push(text: string, atMs: number): void {
    const clean = text.replace(ANSI, "").trim();
    if (clean !== "") this.lines.push({ atMs, text: clean });
  }
}

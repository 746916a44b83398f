import cliProgress from "cli-progress";

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

/** Counts bytes per node and turns them into the numbers a progress line shows. */
class Meter {
  sent = 0;
  private readonly started = performance.now();
  constructor(readonly total: number) {}
  add(n: number): void {
    this.sent += n;
  }
  get percent(): number {
    return this.total === 0 ? 100 : Math.floor((this.sent / this.total) * 100);
  }
  get speed(): string {
    const secs = (performance.now() - this.started) / 1000;
    return secs > 0 ? mb(this.sent / secs) : "-";
  }
}

/**
 * Upload progress of `nodectl upgrade`, one per node. On a terminal it is a
 * cli-progress multibar (one bar per node); otherwise (CI logs, pipes) plain
 * lines with percent and MB/s, at most one a second per node plus the last.
 * It writes to stderr, like the bar library does, so stdout stays the
 * command's result (parseable with -o json); the TTY check is on that stream.
 */
export class UploadProgress {
  private readonly multi: cliProgress.MultiBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    if (!out.isTTY) return;
    this.multi = new cliProgress.MultiBar(
      { stream: out, hideCursor: true, clearOnComplete: false, barsize: 24, format: "{node} [{bar}] {percentage}% | {sentMb}/{totalMb} MB | {speed} MB/s" },
      cliProgress.Presets.shades_classic,
    );
  }

  /** The node's bar, added to the multibar when its upload starts. */
  private barFor(node: string): cliProgress.SingleBar | undefined {
    let bar = this.bars.get(node);
    if (this.multi && !bar) {
      bar = this.multi.create(this.total, 0, { node: node.padEnd(21), sentMb: "0.0", totalMb: mb(this.total), speed: "-" });
      this.bars.set(node, bar);
    }
    return bar;
  }

  /** Passes `chunks` through, reporting each one as sent to `node`. */
  async *track(node: string, chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const meter = new Meter(this.total);
    const bar = this.barFor(node);
    let lastLine = 0;
    for await (const chunk of chunks) {
      yield chunk;
      meter.add(chunk.byteLength);
      if (bar) bar.update(meter.sent, { sentMb: mb(meter.sent), speed: meter.speed });
      else if (meter.sent >= this.total || Date.now() - lastLine >= 1_000) {
        lastLine = Date.now();
        this.out.write(`${node}: uploaded ${meter.percent}% (${mb(meter.sent)}/${mb(this.total)} MB, ${meter.speed} MB/s)\n`);
      }
    }
  }

  /** A line above the bars (or a plain line without them). */
  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.out.write(`${line}\n`);
  }

  /** Leaves the bars as they are and gives the terminal back. */
  stop(): void {
    this.multi?.stop();
  }
}

import { Writable } from "node:stream";
import { LogFiles } from "./log-files.js";

/** One kept log line of one service. */
export interface LogLine {
  readonly service: string;
  readonly timeUnixMs: number;
  readonly level: string;
  readonly message: string;
}

const PINO_LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/**
 * Ring buffers of recent log lines per service, with live subscribers: Logs
 * must work before /var is mounted. Once it is, `persistTo` also writes
 * every service's lines (early boot included) to /var/log/<service>.log.
 */
export class LogStore {
  private readonly rings = new Map<string, LogLine[]>();
  private readonly subscribers = new Set<(l: LogLine) => void>();
  private files: LogFiles | undefined;

  /**
   * `routes` sends a pino record to another service's log by its
   * `component` (e.g. the API server's records to "apid"): machined and the
   * API run in one process, yet each has a log of its own.
   */
  constructor(
    private readonly capacity = 2000,
    private readonly routes: Readonly<Record<string, string>> = {},
  ) {}

  append(line: LogLine): void {
    let ring = this.rings.get(line.service);
    if (!ring) this.rings.set(line.service, (ring = []));
    ring.push(line);
    if (ring.length > this.capacity) ring.shift();
    this.files?.write(line.service, line.message);
    for (const fn of this.subscribers) fn(line);
  }

  /**
   * Persists every service's log under `dir` (/var/log once EPHEMERAL is
   * mounted): what the rings kept since early boot is written first, then
   * every new line as it comes. A later call with the same directory (a
   * process-mode reboot) keeps the open files.
   */
  async persistTo(dir: string): Promise<void> {
    if (this.files?.dir === dir) return;
    await this.files?.close();
    const files = await LogFiles.open(dir);
    for (const [service, ring] of this.rings) for (const l of ring) files.write(service, l.message);
    this.files = files;
  }

  /** Flushes and closes the log files, before /var is unmounted; lines keep going to the rings. */
  async closeFiles(): Promise<void> {
    const f = this.files;
    this.files = undefined;
    await f?.close();
  }

  services(): string[] {
    return [...this.rings.keys()].sort();
  }

  tail(service: string, n: number): LogLine[] {
    const ring = this.rings.get(service) ?? [];
    return n > 0 ? ring.slice(-n) : [...ring];
  }

  subscribe(fn: (l: LogLine) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /**
   * A pino destination: keeps each JSON record under `service` and passes the
   * raw bytes on to `forward` (the console) unchanged.
   */
  sink(service: string, forward?: NodeJS.WritableStream): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        const text = chunk.toString("utf8");
        for (const raw of text.split("\n")) {
          if (!raw) continue;
          let level = "";
          let time = Date.now();
          let target = service;
          try {
            const rec = JSON.parse(raw) as { level?: number; time?: number; component?: string };
            level = PINO_LEVELS[rec.level ?? 30] ?? "";
            time = rec.time ?? time;
            target = (rec.component && this.routes[rec.component]) || service;
          } catch {
            // Not JSON: keep the plain text.
          }
          this.append({ service: target, timeUnixMs: time, level, message: raw });
        }
        if (forward) forward.write(chunk, () => done());
        else done();
      },
    });
  }
}

import { Writable } from "node:stream";

/** One kept log line of one service. */
export interface LogLine {
  readonly service: string;
  readonly timeUnixMs: number;
  readonly level: string;
  readonly message: string;
}

const PINO_LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/**
 * Ring buffers of recent log lines per service, with live subscribers: the
 * node has no disk-backed journal in its read-only root, and Logs must work
 * before /var is mounted.
 */
export class LogStore {
  private readonly rings = new Map<string, LogLine[]>();
  private readonly subscribers = new Set<(l: LogLine) => void>();

  constructor(private readonly capacity = 2000) {}

  append(line: LogLine): void {
    let ring = this.rings.get(line.service);
    if (!ring) this.rings.set(line.service, (ring = []));
    ring.push(line);
    if (ring.length > this.capacity) ring.shift();
    for (const fn of this.subscribers) fn(line);
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
          try {
            const rec = JSON.parse(raw) as { level?: number; time?: number };
            level = PINO_LEVELS[rec.level ?? 30] ?? "";
            time = rec.time ?? time;
          } catch {
            // Not JSON: keep the plain text.
          }
          this.append({ service, timeUnixMs: time, level, message: raw });
        }
        if (forward) forward.write(chunk, () => done());
        else done();
      },
    });
  }
}

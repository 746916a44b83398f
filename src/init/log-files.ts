import { createWriteStream, openSync, renameSync, statSync, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/** A service's log file is rotated to `<service>.log.1` past this size (one old file is kept). */
export const MAX_LOG_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Per-service append-only log files under one directory (/var/log on the
 * node): `<service>.log`, one line per record as the ring keeps it. Writes
 * are queued on Node's write streams, so a slow disk never blocks logging.
 * Rotation is by size with one old file, so /var cannot fill up with logs.
 */
export class LogFiles {
  private readonly files = new Map<string, { stream: WriteStream; bytes: number }>();
  private closed = false;

  private constructor(readonly dir: string, private readonly maxBytes: number) {}

  static async open(dir: string, maxBytes = MAX_LOG_FILE_BYTES): Promise<LogFiles> {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return new LogFiles(dir, maxBytes);
  }

  /** Appends one line to the service's file, opening (or rotating) it as needed. */
  write(service: string, line: string): void {
    if (this.closed || !/^[\w.-]+$/.test(service)) return;
    let f = this.files.get(service);
    if (!f) {
      // Synchronous, once per service: lines must reach the file in the order they were logged.
      const path = join(this.dir, `${service}.log`);
      let bytes = 0;
      try {
        bytes = statSync(path).size;
      } catch {
        // a new file
      }
      try {
        f = { stream: this.openStream(path), bytes };
      } catch {
        return; // an unwritable /var/log: the ring buffer still has the line
      }
      this.files.set(service, f);
    }
    const data = `${line}\n`;
    if (f.bytes + data.length > this.maxBytes && f.bytes > 0) this.rotate(service, f);
    f.bytes += Buffer.byteLength(data);
    f.stream.write(data);
  }

  /** Flushes and closes every file (before /var is unmounted). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.all(all.map((f) => new Promise<void>((resolve) => f.stream.end(() => resolve()))));
  }

  private openStream(path: string): WriteStream {
    // Opened synchronously so the file exists at once (rotation renames it by path).
    const s = createWriteStream(path, { fd: openSync(path, "a", 0o640) });
    // A full or failed disk must not crash PID 1: the ring buffer still has the lines.
    s.on("error", () => undefined);
    return s;
  }

  private rotate(service: string, f: { stream: WriteStream; bytes: number }): void {
    const path = join(this.dir, `${service}.log`);
    // Lines still queued on the old stream land in the renamed file: its fd follows the inode.
    try {
      renameSync(path, `${path}.1`);
    } catch {
      return; // keep appending to the current file rather than lose lines
    }
    f.stream.end();
    try {
      f.stream = this.openStream(path);
    } catch {
      this.files.delete(service);
      return;
    }
    f.bytes = 0;
  }
}

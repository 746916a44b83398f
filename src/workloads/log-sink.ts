import { closeSync, constants, mkdirSync, openSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";

/** Where one run of a workload writes its output (paths the containerd shim opens). */
export interface StdioAttachment {
  readonly stdout: string;
  readonly stderr: string;
  /** Called once the task has exited and been deleted: drains what is left, then releases. */
  close(): Promise<void>;
}

/** Receives the output of workload tasks. */
export interface LogSink {
  attach(workload: string, run: number): Promise<StdioAttachment>;
}

export type LogLineHandler = (workload: string, stream: "stdout" | "stderr", line: string) => void;

/** How long a pipe must stay quiet after the task ended before it is closed (the shim may still be copying). */
const DRAIN_IDLE_MS = 150;
const DRAIN_MAX_MS = 2_000;

/**
 * A log sink over named pipes in `dir`: one fifo per stream per run, read
 * line by line into `onLine` (the node will hand them to its log system).
 * The read end is opened O_RDWR so it neither blocks on open nor sees EOF
 * before the shim has opened its write end.
 */
export class FifoLogSink implements LogSink {
  constructor(
    private readonly dir: string,
    private readonly makeFifo: (path: string) => Promise<void>,
    private readonly onLine: LogLineHandler,
  ) {}

  async attach(workload: string, run: number): Promise<StdioAttachment> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const readers: FifoReader[] = [];
    const paths = { stdout: "", stderr: "" };
    try {
      for (const stream of ["stdout", "stderr"] as const) {
        const path = join(this.dir, `${workload}.${run}.${stream}`);
        rmSync(path, { force: true });
        await this.makeFifo(path);
        paths[stream] = path;
        readers.push(new FifoReader(path, (line) => this.onLine(workload, stream, line)));
      }
    } catch (e) {
      await Promise.all(readers.map((r) => r.close()));
      throw e;
    }
    return { ...paths, close: async () => void (await Promise.all(readers.map((r) => r.close()))) };
  }
}

class FifoReader {
  private readonly socket: Socket;
  private pending = "";
  private lastData = Date.now();

  constructor(
    private readonly path: string,
    private readonly emit: (line: string) => void,
  ) {
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      this.socket = new Socket({ fd, readable: true, writable: false });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      this.lastData = Date.now();
      const lines = (this.pending + chunk).split("\n");
      this.pending = lines.pop() ?? "";
      for (const l of lines) this.emit(l);
    });
    this.socket.on("error", () => undefined);
  }

  async close(): Promise<void> {
    const start = Date.now();
    while (Date.now() - this.lastData < DRAIN_IDLE_MS && Date.now() - start < DRAIN_MAX_MS) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.pending) this.emit(this.pending);
    this.pending = "";
    this.socket.destroy();
    rmSync(this.path, { force: true });
  }
}

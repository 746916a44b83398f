import { createConnection, type Socket } from "node:net";
import type { LogEndpoint } from "./endpoint.js";
import type { LogSender, NoticeListener, SenderStatus } from "./sender.js";

export interface TcpSenderOptions {
  /** Bytes of lines kept while the collector is away or slow (default 1 MiB); the oldest go first. */
  readonly maxQueueBytes?: number;
  /** First reconnect delay; doubles per failure up to maxBackoffMs (defaults 250 ms, 30 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A connect attempt that takes longer is abandoned (default 10 s). */
  readonly connectTimeoutMs?: number;
  readonly onNotice?: NoticeListener;
}

interface Queued {
  readonly text: string;
  readonly bytes: number;
}

/** Most bytes handed to the socket at once: the socket's own buffer stays this small. */
const BATCH_BYTES = 64 * 1024;

/**
 * Ships JSON lines over one TCP connection. PID 1 must never block or grow
 * without bound because a collector is down or slow, so lines wait in a
 * byte-bounded queue (oldest dropped and counted), at most one batch sits in
 * the socket's buffer, and a lost connection is retried with exponential
 * backoff and jitter. Lines already written to a connection that then breaks
 * are lost (TCP gives no per-line acknowledgement); `sent` counts them.
 */
export class TcpLogSender implements LogSender {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private socket: Socket | undefined;
  private state: SenderStatus["state"] = "connecting";
  private blocked = false;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private dropped = 0;
  private dropNoticed = false;
  private lastError = "";
  private readonly maxQueueBytes: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(readonly endpoint: LogEndpoint, private readonly opts: TcpSenderOptions = {}) {
    this.maxQueueBytes = opts.maxQueueBytes ?? 1024 * 1024;
    this.minBackoffMs = opts.minBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.backoffMs = this.minBackoffMs;
    this.connect();
  }

  send(line: string): void {
    if (this.state === "closed") return;
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxQueueBytes) return this.drop(1);
    this.queue.push({ text, bytes });
    this.queuedBytes += bytes;
    let over = 0;
    while (this.queuedBytes > this.maxQueueBytes) {
      this.queuedBytes -= this.queue.shift()!.bytes;
      over += 1;
    }
    if (over > 0) this.drop(over);
    this.flush();
  }

  status(): SenderStatus {
    return { endpoint: this.endpoint.text, state: this.state, sent: this.sent, dropped: this.dropped, queued: this.queue.length, lastError: this.lastError };
  }

  async close(flushMs = 1000): Promise<void> {
    if (this.state === "closed") return;
    const socket = this.state === "connected" ? this.socket : undefined;
    this.flush();
    this.state = "closed";
    clearTimeout(this.timer);
    if (!socket) return void this.socket?.destroy();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => socket.destroy(), flushMs);
      socket.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      socket.end();
    });
  }

  private drop(n: number): void {
    this.dropped += n;
    if (this.dropNoticed) return;
    this.dropNoticed = true;
    this.opts.onNotice?.("dropping", this.status());
  }

  private flush(): void {
    const socket = this.socket;
    if (this.state !== "connected" || this.blocked || !socket) return;
    while (this.queue.length > 0) {
      let batch = "";
      let lines = 0;
      while (this.queue.length > 0 && batch.length < BATCH_BYTES) {
        const item = this.queue.shift()!;
        this.queuedBytes -= item.bytes;
        batch += item.text;
        lines += 1;
      }
      this.sent += lines;
      if (!socket.write(batch)) {
        this.blocked = true;
        socket.once("drain", () => {
          this.blocked = false;
          this.flush();
        });
        return;
      }
    }
  }

  private connect(): void {
    if (this.state === "closed") return;
    this.state = "connecting";
    const socket = createConnection({ host: this.endpoint.host, port: this.endpoint.port });
    this.socket = socket;
    socket.setTimeout(this.opts.connectTimeoutMs ?? 10_000);
    socket.on("timeout", () => socket.destroy(new Error("connect timed out")));
    socket.on("connect", () => {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      this.backoffMs = this.minBackoffMs;
      this.state = "connected";
      this.dropNoticed = false;
      this.opts.onNotice?.("connected", this.status());
      this.flush();
    });
    // A collector may answer; its bytes are read and discarded so they never pile up.
    socket.resume();
    socket.on("error", (e) => {
      this.lastError = e.message;
    });
    socket.on("close", () => {
      const wasConnected = this.state === "connected";
      this.socket = undefined;
      this.blocked = false;
      if (this.state === "closed") return;
      if (wasConnected) this.opts.onNotice?.("disconnected", this.status());
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    this.state = "backoff";
    // Jitter spreads the reconnects of many nodes after a collector restart.
    const delay = this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }
}

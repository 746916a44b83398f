import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { LogEndpoint } from "./endpoint.js";
import type { LogSender, NoticeListener, SenderStatus } from "./sender.js";

export interface UdpSenderOptions {
  /** Datagrams waiting in the socket's send queue before new ones are dropped (default 1000). */
  readonly maxInFlight?: number;
  readonly onNotice?: NoticeListener;
}

/**
 * Ships each JSON line as one UDP datagram (newline-terminated, so a
 * collector that reads a stream of them still sees lines). Fire and forget:
 * nothing is retried, and datagrams beyond `maxInFlight` are dropped and
 * counted, so an unresolvable or slow destination never grows memory.
 */
export class UdpLogSender implements LogSender {
  private readonly socket: Socket;
  private closed = false;
  private sent = 0;
  private dropped = 0;
  private dropNoticed = false;
  private lastError = "";
  private readonly maxInFlight: number;

  constructor(readonly endpoint: LogEndpoint, private readonly opts: UdpSenderOptions = {}) {
    this.maxInFlight = opts.maxInFlight ?? 1000;
    this.socket = createSocket(isIPv6(endpoint.host) ? "udp6" : "udp4");
    this.socket.on("error", (e) => {
      this.lastError = e.message;
    });
    this.socket.unref();
  }

  send(line: string): void {
    if (this.closed) return;
    if (this.socket.getSendQueueCount() >= this.maxInFlight) return this.drop(`send queue full (${this.maxInFlight})`);
    this.socket.send(`${line}\n`, this.endpoint.port, this.endpoint.host, (err) => {
      if (err) return this.drop(err.message);
      this.sent += 1;
      this.dropNoticed = false;
    });
  }

  status(): SenderStatus {
    return { endpoint: this.endpoint.text, state: this.closed ? "closed" : "ready", sent: this.sent, dropped: this.dropped, queued: 0, lastError: this.lastError };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private drop(why: string): void {
    this.dropped += 1;
    this.lastError = why;
    if (this.dropNoticed) return;
    this.dropNoticed = true;
    this.opts.onNotice?.("dropping", this.status());
  }
}

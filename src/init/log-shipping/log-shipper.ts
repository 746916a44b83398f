import type { Logger } from "pino";
import type { LogLine, LogStore } from "../log-store.js";
import { parseLogEndpoint, type LogEndpoint } from "./endpoint.js";
import { toJsonLine } from "./json-line.js";
import type { LogSender, NoticeListener, SenderStatus } from "./sender.js";
import { TcpLogSender } from "./tcp-sender.js";
import { UdpLogSender } from "./udp-sender.js";

/** One entry of machine.logging.destinations. */
export interface LogDestination {
  readonly endpoint: string;
  readonly format: "json_lines";
}

export interface LogShipperOptions {
  readonly log: Logger;
  /** Test seam: how a sender is made (default: TCP or UDP by the endpoint's scheme). */
  readonly createSender?: (endpoint: LogEndpoint, onNotice: NoticeListener) => LogSender;
}

/**
 * The log shipping controller: sends every log line of the node (machined
 * and each service) to the configured destinations as JSON lines. It is
 * reconfigured live on every config change: destinations that stay keep
 * their connection and queue, removed ones are flushed briefly and closed.
 */
export class LogShipper {
  private readonly senders = new Map<string, LogSender>();
  private unsubscribe: (() => void) | undefined;
  private node = "";

  constructor(private readonly logs: LogStore, private readonly opts: LogShipperOptions) {}

  /**
   * Makes the running senders match `destinations` (parsed by the config
   * schema already). `node` is the hostname of the config being applied,
   * shipped in every line: the apply's own lines already carry the new name.
   */
  configure(destinations: readonly LogDestination[], node: string): void {
    this.node = node;
    const wanted = new Set(destinations.map((d) => d.endpoint));
    // Subscribed before anything is logged, so this change's own lines are shipped too.
    if (wanted.size > 0 && !this.unsubscribe) this.unsubscribe = this.logs.subscribe((l) => this.ship(l));
    for (const [key, sender] of this.senders) {
      if (wanted.has(key)) continue;
      this.senders.delete(key);
      void sender.close(500);
      this.opts.log.info({ endpoint: key }, "log destination removed");
    }
    for (const key of wanted) {
      if (this.senders.has(key)) continue;
      this.senders.set(key, this.create(parseLogEndpoint(key)));
      this.opts.log.info({ endpoint: key }, "log destination added");
    }
    if (this.senders.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  status(): SenderStatus[] {
    return [...this.senders.values()].map((s) => s.status());
  }

  /** Stops shipping; each sender gets up to `flushMs` to send what it holds. */
  async close(flushMs = 1000): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const senders = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(senders.map((s) => s.close(flushMs)));
  }

  private ship(line: LogLine): void {
    const text = toJsonLine(line, this.node);
    for (const sender of this.senders.values()) sender.send(text);
  }

  private create(endpoint: LogEndpoint): LogSender {
    // Only transitions are logged: a line per shipped line would ship itself forever.
    const onNotice: NoticeListener = (notice, s) => {
      const fields = { endpoint: s.endpoint, sent: s.sent, dropped: s.dropped, ...(s.lastError ? { error: s.lastError } : {}) };
      if (notice === "connected") this.opts.log.info(fields, "log destination connected");
      else if (notice === "disconnected") this.opts.log.warn(fields, "log destination disconnected: reconnecting with backoff");
      else this.opts.log.warn(fields, "log destination is dropping lines");
    };
    if (this.opts.createSender) return this.opts.createSender(endpoint, onNotice);
    return endpoint.transport === "tcp" ? new TcpLogSender(endpoint, { onNotice }) : new UdpLogSender(endpoint, { onNotice });
  }
}

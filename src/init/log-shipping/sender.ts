import type { LogEndpoint } from "./endpoint.js";

/** What a sender is doing, as ServiceList and the tests see it. */
export interface SenderStatus {
  readonly endpoint: string;
  /** tcp: connecting | connected | backoff; udp: ready; both: closed. */
  readonly state: "connecting" | "connected" | "backoff" | "ready" | "closed";
  /** Lines handed to the kernel (TCP: written to the socket; UDP: datagrams sent). */
  readonly sent: number;
  /** Lines dropped because the queue was full or the send failed. */
  readonly dropped: number;
  /** Lines waiting in the sender's queue. */
  readonly queued: number;
  readonly lastError: string;
}

/** A change worth one log line: never one per shipped line (that would ship itself). */
export type SenderNotice = "connected" | "disconnected" | "dropping";

/** One log destination: accepts lines without ever blocking the caller. */
export interface LogSender {
  readonly endpoint: LogEndpoint;
  /** Queues one JSON line (without newline); drops it when the queue is full. */
  send(line: string): void;
  status(): SenderStatus;
  /** Stops the sender, giving queued lines up to `flushMs` to leave. Idempotent. */
  close(flushMs?: number): Promise<void>;
}

export type NoticeListener = (notice: SenderNotice, status: SenderStatus) => void;

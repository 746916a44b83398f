/** One node event, as the Events RPC streams it. */
export interface NodeEvent {
  readonly id: string;
  readonly seq: number;
  readonly timeUnixMs: number;
  readonly type: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * An in-memory, bounded event log with subscribers. Ids are
 * "<bootId>:<seq>" so a client can resume after the last id it saw.
 */
export class EventBus {
  private readonly events: NodeEvent[] = [];
  private readonly subscribers = new Set<(e: NodeEvent) => void>();
  private seq = 0;

  constructor(private readonly bootId: string, private readonly capacity = 1000) {}

  publish(type: string, message: string, fields: Record<string, string> = {}): NodeEvent {
    this.seq += 1;
    const event = { id: `${this.bootId}:${this.seq}`, seq: this.seq, timeUnixMs: Date.now(), type, message, fields };
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.shift();
    for (const fn of this.subscribers) fn(event);
    return event;
  }

  /** Kept events after `sinceId` (all when it is from another boot), else the last `tail`. */
  replay(opts: { sinceId?: string; tail?: number }): NodeEvent[] {
    if (opts.sinceId) {
      const [boot, seqText] = opts.sinceId.split(":");
      const after = boot === this.bootId ? Number(seqText) : 0;
      return this.events.filter((e) => e.seq > after);
    }
    const tail = opts.tail ?? 0;
    return tail > 0 ? this.events.slice(-tail) : [];
  }

  subscribe(fn: (e: NodeEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

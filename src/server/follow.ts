import { CairnError } from "../errors/index.js";

/**
 * How many live items a follower may fall behind before its stream is ended
 * with RESOURCE_EXHAUSTED. A client that stops reading (or reads slower than
 * the node logs) would otherwise grow this queue without bound in PID 1.
 * docs/reliability.md has the test (test/integration/api-abuse.test.ts).
 */
export const MAX_FOLLOW_BACKLOG = 2048;

/**
 * Sends what is kept, then (when following) what arrives, until the caller
 * goes away. Subscribes before replaying so no item falls in the gap; items
 * that arrive while a send waits on back-pressure are queued in order, up
 * to `maxBacklog` (then the stream ends: the client is told to reconnect).
 *
 * Every wait (a send on back-pressure, or the wait for the next item) gets
 * a resolver of its own that overflow and abort call. Not `Promise.race`
 * against promises that live as long as the stream: each race leaves a
 * reaction on them that is only freed when they settle, about 300 bytes per
 * item sent, so a follower that streamed for days grew PID 1's heap
 * without bound (follow.test.ts measures it).
 */
export async function replayAndFollow<T>(opts: {
  replay: () => T[];
  subscribe: (fn: (item: T) => void) => () => void;
  follow: boolean;
  signal: AbortSignal;
  send: (item: T) => Promise<void>;
  maxBacklog?: number;
}): Promise<void> {
  const queue: T[] = [];
  const maxBacklog = opts.maxBacklog ?? MAX_FOLLOW_BACKLOG;
  let overflowed = false;
  // The one pending wait; `forItems` when a new item should end it too (not during a send).
  let pending: { resolve: () => void; forItems: boolean } | undefined;
  const wakeUp = (byItem: boolean): void => {
    if (!pending || (byItem && !pending.forItems)) return;
    const { resolve } = pending;
    pending = undefined;
    resolve();
  };
  const wait = (forItems: boolean, sending?: Promise<void>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const self = { resolve, forItems };
      pending = self;
      sending?.then(
        () => {
          if (pending === self) pending = undefined;
          resolve();
        },
        (e: unknown) => {
          if (pending === self) pending = undefined;
          reject(e);
        },
      );
    });
  const stopped = (): boolean => overflowed || opts.signal.aborted;
  const onAbort = (): void => wakeUp(false);
  opts.signal.addEventListener("abort", onAbort, { once: true });
  const unsubscribe = opts.follow
    ? opts.subscribe((item) => {
        if (overflowed) return;
        if (queue.length >= maxBacklog) {
          overflowed = true;
          queue.length = 0;
          wakeUp(false);
          return;
        }
        queue.push(item);
        wakeUp(true);
      })
    : () => undefined;
  try {
    for (const item of opts.replay()) {
      if (stopped()) break;
      await wait(false, opts.send(item));
    }
    while (opts.follow && !stopped()) {
      while (queue.length > 0 && !stopped()) await wait(false, opts.send(queue.shift() as T));
      if (!stopped()) await wait(true);
    }
    if (overflowed && !opts.signal.aborted) {
      throw new CairnError("RESOURCE_EXHAUSTED", `the client fell more than ${maxBacklog} items behind the live stream`, {
        hint: "read faster, or reconnect (Events: with since_id to resume)",
      });
    }
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}

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
  let wake: (() => void) | undefined;
  // Resolves on overflow, so a send stuck on back-pressure stops waiting.
  let onOverflow: () => void = () => undefined;
  const overflow = new Promise<void>((resolve) => (onOverflow = resolve));
  const unsubscribe = opts.follow
    ? opts.subscribe((item) => {
        if (overflowed) return;
        if (queue.length >= maxBacklog) {
          overflowed = true;
          queue.length = 0;
          onOverflow();
        } else queue.push(item);
        wake?.();
      })
    : () => undefined;
  try {
    for (const item of opts.replay()) await opts.send(item);
    if (!opts.follow) return;
    const aborted = new Promise<void>((resolve) => opts.signal.addEventListener("abort", () => resolve(), { once: true }));
    while (!opts.signal.aborted) {
      while (queue.length > 0 && !opts.signal.aborted && !overflowed) await Promise.race([opts.send(queue.shift() as T), overflow]);
      if (overflowed) {
        throw new CairnError("RESOURCE_EXHAUSTED", `the client fell more than ${maxBacklog} items behind the live stream`, {
          hint: "read faster, or reconnect (Events: with since_id to resume)",
        });
      }
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
      wake = undefined;
    }
  } finally {
    unsubscribe();
  }
}

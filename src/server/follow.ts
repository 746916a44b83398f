/**
 * Sends what is kept, then (when following) what arrives, until the caller
 * goes away. Subscribes before replaying so no item falls in the gap; items
 * that arrive while a send waits on back-pressure are queued in order.
 */
export async function replayAndFollow<T>(opts: {
  replay: () => T[];
  subscribe: (fn: (item: T) => void) => () => void;
  follow: boolean;
  signal: AbortSignal;
  send: (item: T) => Promise<void>;
}): Promise<void> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = opts.follow
    ? opts.subscribe((item) => {
        queue.push(item);
        wake?.();
      })
    : () => undefined;
  try {
    for (const item of opts.replay()) await opts.send(item);
    if (!opts.follow) return;
    const aborted = new Promise<void>((resolve) => opts.signal.addEventListener("abort", () => resolve(), { once: true }));
    while (!opts.signal.aborted) {
      while (queue.length > 0 && !opts.signal.aborted) await opts.send(queue.shift() as T);
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
      wake = undefined;
    }
  } finally {
    unsubscribe();
  }
}

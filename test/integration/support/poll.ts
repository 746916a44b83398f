/**
 * Polls `probe` until it returns a value other than undefined, or throws
 * with the last error and `describe()` (e.g. the node's output) on timeout.
 * Errors for which `fatal` returns true end the wait at once.
 * Tests wait on observable state this way, never on a fixed sleep.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => string; fatal?: (e: unknown) => boolean } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (opts.fatal?.(e)) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : last === undefined ? "condition never held" : String(last);
      throw new Error(`timed out waiting for ${what}: ${why}${opts.describe ? `\n--- node output ---\n${opts.describe()}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** Resolves at `unixMs` (a deadline the node reported, not a guessed duration). */
export function until(unixMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, unixMs - Date.now())));
}

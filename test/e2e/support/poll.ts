/**
 * Calls `fn` every second until `ok` accepts its answer (a throw counts as
 * not yet); fails after `budgetMs` naming `what` and the last answer or error.
 */
export async function pollFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, budgetMs: number): Promise<T> {
  const deadline = performance.now() + budgetMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      last = await fn();
      if (ok(last as T)) return last as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not within ${budgetMs / 1000} s; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

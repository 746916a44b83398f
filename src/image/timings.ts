/**
 * Wall-clock timing of build steps, printed at the end of a build so a slow
 * step (and the "rebuild in under a minute" budget) is visible at a glance.
 */
export class StepTimer {
  private readonly steps: { name: string; ms: number }[] = [];
  private readonly started = performance.now();

  /** Times one (sync or async) step and records it under `name`. */
  async step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.steps.push({ name, ms: performance.now() - t0 });
    }
  }

  /** Total elapsed milliseconds since the timer was created. */
  totalMs(): number {
    return performance.now() - this.started;
  }

  /** One line per step plus the total, for the end-of-build report. */
  report(): string {
    const width = Math.max(...this.steps.map((s) => s.name.length), 5);
    const lines = this.steps.map((s) => `  ${s.name.padEnd(width)}  ${(s.ms / 1000).toFixed(2)} s`);
    lines.push(`  ${"total".padEnd(width)}  ${(this.totalMs() / 1000).toFixed(2)} s`);
    return lines.join("\n");
  }
}

/** Human-readable byte count (MiB with two decimals). */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

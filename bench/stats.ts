// Summary statistics of latency samples.

/** Nearest-rank percentile (0 < p <= 100) of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Concatenates and sorts samples (pooling the rounds of one configuration). */
export function pooledSorted(samples: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(samples.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of samples) {
    out.set(s, at);
    at += s.length;
  }
  return out.sort();
}

/** Median of a few numbers (per-round throughputs). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

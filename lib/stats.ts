// The suite's one percentile: every figure that quotes a quantile of samples (the merge of N
// runners, make report, make harness, make bench-models) computes it here, the way k6's own Trend
// does, so a percentile means the same in every file the suite writes. Pure TypeScript (both runtimes).
// How far such a percentile can be from the true one (intervals, thresholds decided with confidence,
// ratios, stability) is lib/confidence.ts, the layer above this one.

/**
 * q in [0, 1] of already sorted values, interpolated linearly between the closest ranks (k6's
 * TrendSink.P, numpy's default, R type 7). Throws on no values: a percentile of nothing is a bug in
 * the caller, never zero.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile of no values');
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Sorts a copy ascending (numbers, not strings). */
export function sortedCopy(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The q-quantile of unsorted values. */
export function quantile(values: Iterable<number>, q: number): number {
  return quantileSorted(sortedCopy(values), q);
}

export function median(values: Iterable<number>): number {
  return quantile(values, 0.5);
}

// The small statistics the report rests on: median, quartiles and spread of repeated measurements,
// and speedups as paired ratios (the implementation's run over the baseline's run of the same round,
// which ran next to it in time), so a slow minute of the machine hits both sides of a ratio.
import { quantileSorted } from '../../lib/stats.ts';

/** A repeated measurement: its median and spread. Quartiles interpolate linearly between ranks
 * (numpy's default, R type 7), so n = 3 gives q1/q3 halfway between neighbours. */
export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  values: number[];
}

const round = (n: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Median and spread of finite values; null when there are none. */
export function spread(values: readonly number[]): Spread | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: round(quantileSorted(sorted, 0.5)),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!),
    q1: round(quantileSorted(sorted, 0.25)),
    q3: round(quantileSorted(sorted, 0.75)),
    values: finite.map((v) => round(v)),
  };
}

/**
 * Ratios a[r] / b[r] for each round r both sides measured (keys are round numbers). Rounds where
 * either side is missing or the denominator is not positive are left out, never guessed.
 */
export function pairedRatios(numerator: ReadonlyMap<number, number>, denominator: ReadonlyMap<number, number>): { round: number; ratio: number }[] {
  const out: { round: number; ratio: number }[] = [];
  for (const [r, a] of [...numerator].sort((x, y) => x[0] - y[0])) {
    const b = denominator.get(r);
    if (b === undefined || !(b > 0) || !Number.isFinite(a)) continue;
    out.push({ round: r, ratio: a / b });
  }
  return out;
}

/** "1.42x (1.38-1.47, n=3)": the median ratio with its min-max range. */
export function formatRatio(s: Spread | null): string {
  if (!s) return 'n/a';
  return s.n === 1 ? `${s.median.toFixed(2)}x (n=1)` : `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)}, IQR ${s.q1.toFixed(2)}-${s.q3.toFixed(2)}, n=${s.n})`;
}

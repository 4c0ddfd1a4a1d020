// Confidence intervals for percentiles from k6's aggregates. k6's handleSummary (and the merge of N
// runners, which rebuilds the same data) sees no samples, only the statistics that
// options.summaryTrendStats asks for. So the suite asks, besides the percentiles it reports, for a
// fixed grid of quantile levels around each of them (QUANTILE_GRID), and reads the distribution-free
// interval of lib/confidence.ts off that grid, conservatively: the order-statistic ranks l, u come
// from quantileRanks(n, p); the lower bound is k6's quantile at the largest grid level g with
// g (n - 1) <= l - 1, so it is <= X_(l), and the upper bound the quantile at the smallest level with
// g (n - 1) >= u - 1, so it is >= X_(u) (k6 interpolates linearly between the sorted samples at
// position g (n - 1), as lib/stats.ts does). min and max are the levels 0 and 1. The interval read
// off the grid therefore holds the exact one, and its coverage is at least the exact one's.
// Pure TypeScript: k6 and Node both use it.
import { quantileRanks, type QuantileInterval, type Sides } from './confidence.ts';

/** The reported percentiles (as fractions): each gets an interval, and the grid is built around them. */
export const REPORTED_PERCENTILES = [0.5, 0.9, 0.95, 0.99] as const;

/**
 * The quantile levels (fractions, ascending) k6 is asked for, besides min and max. Around each
 * reported percentile p: p +- d sqrt(p (1 - p)) / 0.5 for d = 0.0025, 0.0025 x 1.3, ... up to 0.25,
 * rounded to 0.01 %. An interval's half-width in levels is about 1.96 sqrt(p (1 - p) / n), so the
 * offsets are geometric (fine where intervals are narrow, coarse where they are wide) and scaled
 * like the intervals (p99's are 5 times narrower than p50's). Then p5 to p20 for the lower bound of a
 * p50 on a few dozen samples, and the far tail (p99.9, p99.95, p99.99). With these 145 levels the
 * interval read off the grid is at most 1.3 times as wide (in levels) as the exact order-statistic
 * interval from 50 to 30,000 samples, 1.35 times to 100,000 (the unit test sweeps it).
 */
export const QUANTILE_GRID: readonly number[] = (() => {
  const levels = new Set<number>([0.05, 0.1, 0.15, 0.2, 0.999, 0.9995, 0.9999]);
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  for (const p of REPORTED_PERCENTILES) {
    levels.add(p);
    const scale = Math.sqrt(p * (1 - p)) / 0.5;
    for (let d = 0.0025; d <= 0.25 * 1.0001; d *= 1.3) for (const g of [round(p - d * scale), round(p + d * scale)]) if (g > 0.25 && g < 1) levels.add(g);
  }
  return Object.freeze([...levels].sort((a, b) => a - b));
})();

/** k6's name of a quantile level: 0.9995 -> 'p(99.95)'. */
export const statOf = (level: number): string => `p(${+(level * 100).toFixed(3)})`;

/** The trend statistics the summary shows per metric (summary.json `metrics`, junit's system-out). */
export const SHOWN_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'] as const;

/** options.summaryTrendStats: what the summary shows, then the grid (k6 computes each from its sorted samples). */
export const SUMMARY_TREND_STATS: readonly string[] = [...SHOWN_TREND_STATS, ...QUANTILE_GRID.map(statOf).filter((s) => !(SHOWN_TREND_STATS as readonly string[]).includes(s))];

/** One quantile level of a trend with k6's value at it. */
export interface GridPoint {
  level: number;
  value: number;
}

const PERCENTILE = /^p\(\s*(\d+(?:\.\d+)?)\s*\)$/;

/**
 * The quantiles k6 reported for one trend, ascending by level: every `p(N)` present (the grid, or
 * whatever a script asked for), `med` as 0.5, `min` as 0 and `max` as 1. Works on any set of
 * statistics: fewer levels only make the intervals read off them wider.
 */
export function gridPoints(values: Readonly<Record<string, number>>): GridPoint[] {
  const byLevel = new Map<number, number>();
  const put = (level: number, v: number | undefined) => {
    if (typeof v === 'number' && Number.isFinite(v) && level >= 0 && level <= 1) byLevel.set(level, v);
  };
  put(0, values['min']);
  put(1, values['max']);
  put(0.5, values['med']);
  for (const [k, v] of Object.entries(values)) {
    const m = PERCENTILE.exec(k);
    if (m) put(Math.round(Number(m[1]) * 1e3) / 1e5, v);
  }
  return [...byLevel].map(([level, value]) => ({ level, value })).sort((a, b) => a.level - b.level);
}

/** Tolerance on g (n - 1) against a rank: the levels are decimal fractions, not exact in binary. */
const EPS = 1e-9;

/** The grid's value at or below the order statistic X_(rank) (1-based): null when the grid has no level low enough. */
export function valueAtOrBelow(points: readonly GridPoint[], n: number, rank: number): number | null {
  let out: number | null = null;
  for (const p of points) if (p.level * (n - 1) <= rank - 1 + EPS) out = p.value;
  return out;
}

/** The grid's value at or above X_(rank): null when the grid has no level high enough. */
export function valueAtOrAbove(points: readonly GridPoint[], n: number, rank: number): number | null {
  for (const p of points) if (p.level * (n - 1) >= rank - 1 - EPS) return p.value;
  return null;
}

/**
 * The confidence interval of the p-quantile of n samples, read off k6's grid (see the file's head):
 * quantileRanks' ranks, coverage and minimum sample count, with `lower`/`upper` the grid's conservative
 * values (null where n cannot bound that side, or the grid lacks the level) and `estimate` k6's own
 * p-quantile (NaN when k6 did not report it). formatQuantileInterval prints it.
 */
export function gridInterval(points: readonly GridPoint[], n: number, p: number, confidence = 0.95, sides: Sides = 'two-sided'): QuantileInterval {
  const r = quantileRanks(n, p, confidence, sides);
  const at = points.find((g) => Math.abs(g.level - p) < 1e-9);
  const lower = r.lowerRank === null ? null : valueAtOrBelow(points, n, r.lowerRank);
  const upper = r.upperRank === null ? null : valueAtOrAbove(points, n, r.upperRank);
  const lowerMissing = sides !== 'upper' && lower === null;
  const upperMissing = sides !== 'lower' && upper === null;
  const unbounded = lowerMissing && upperMissing ? 'both' : lowerMissing ? 'lower' : upperMissing ? 'upper' : null;
  return { ...r, unbounded, estimate: at?.value ?? NaN, lower, upper };
}

/**
 * About the share of the samples below x, from the grid (linear between its levels): what the
 * projections of an undecided threshold start from. Only a guide (the grid interpolates between
 * samples and between levels), never a verdict.
 */
export function shareBelow(points: readonly GridPoint[], x: number): number {
  if (points.length === 0) return NaN;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (x <= first.value) return first.level;
  if (x > last.value) return last.level;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (x <= b.value) return b.value === a.value ? a.level : a.level + ((x - a.value) / (b.value - a.value)) * (b.level - a.level);
  }
  return last.level;
}

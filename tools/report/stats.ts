// The small statistics the report rests on: median, quartiles and spread of repeated measurements,
// and speedups as paired ratios (the implementation's run over the baseline's run of the same round,
// which ran next to it in time), so a slow minute of the machine hits both sides of a ratio; each
// ratio with a 95 % interval over the rounds and a verdict in words (ratioOverRounds).
import { formatWithInterval, geometricMeanInterval, minSamplesFor, quantileInterval } from '../../lib/confidence.ts';
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

/** The confidence of every interval the report prints. */
export const REPORT_CONFIDENCE = 0.95;
/** Fewest paired rounds for the t interval of the typical ratio (2 degrees of freedom). */
export const T_MIN_ROUNDS = 3;
/** Fewest paired rounds for the distribution-free interval of the median ratio: 6 at 95 %. */
export const ORDER_MIN_ROUNDS = minSamplesFor(0.5, REPORT_CONFIDENCE);

/** Which way is better for the row on top of the ratio: more requests/s, or less latency. */
export type Better = 'higher' | 'lower';

/** What a ratio says: 'faster' / 'slower' where its interval excludes 1 (the row on top against
 * the reference), 'not distinguishable' where it includes 1, 'no interval' with too few rounds. */
export type RatioVerdict = 'faster' | 'slower' | 'not distinguishable' | 'no interval';

/** A paired ratio over rounds (its spread, as before) with its 95 % interval and verdict. */
export interface RatioOverRounds extends Spread {
  /** The typical ratio the interval is about: the median (order statistics, or fewer than
   * T_MIN_ROUNDS rounds) or the geometric mean (t). */
  estimate: number;
  lower: number | null;
  upper: number | null;
  confidence: number;
  /** order-statistics: the median's distribution-free interval (>= ORDER_MIN_ROUNDS rounds);
   * t-log: Student's t on the log ratios (T_MIN_ROUNDS up to ORDER_MIN_ROUNDS - 1); none: too few rounds. */
  method: 'order-statistics' | 't-log' | 'none';
  verdict: RatioVerdict;
  /** Why there is no interval, and what gives one; null when there is one. */
  note: string | null;
}

const round6 = (n: number): number => Number(n.toPrecision(6));

/**
 * The report's ratio over paired rounds: from ORDER_MIN_ROUNDS rounds the median ratio with its exact
 * distribution-free interval (order statistics: no assumption on how rounds scatter); from
 * T_MIN_ROUNDS the geometric mean with Student's t on the log ratios (assumes they scatter about
 * normally; the t quantile pays for estimating the spread from so few); below that no interval,
 * and a note that says so. Null when no round paired.
 */
export function ratioOverRounds(ratios: readonly number[], better: Better, confidence = REPORT_CONFIDENCE): RatioOverRounds | null {
  const values = ratios.filter((r) => r > 0 && Number.isFinite(r));
  const s = spread(values);
  if (!s) return null;
  const n = values.length;
  const verdictOf = (lower: number, upper: number): RatioVerdict => {
    if (lower <= 1 && upper >= 1) return 'not distinguishable';
    const higher = lower > 1;
    return higher === (better === 'higher') ? 'faster' : 'slower';
  };
  if (n >= ORDER_MIN_ROUNDS) {
    const ci = quantileInterval([...values].sort((a, b) => a - b), 0.5, confidence);
    return { ...s, estimate: round6(ci.estimate), lower: round6(ci.lower!), upper: round6(ci.upper!), confidence, method: 'order-statistics', verdict: verdictOf(ci.lower!, ci.upper!), note: null };
  }
  if (n >= T_MIN_ROUNDS) {
    const ci = geometricMeanInterval(values, confidence);
    return { ...s, estimate: round6(ci.estimate), lower: round6(ci.lower), upper: round6(ci.upper), confidence, method: 't-log', verdict: verdictOf(ci.lower, ci.upper), note: null };
  }
  const note = `${n} round${n === 1 ? '' : 's'}: no interval; REPEATS=${T_MIN_ROUNDS} for one`;
  return { ...s, estimate: round6(quantileSorted([...values].sort((a, b) => a - b), 0.5)), lower: null, upper: null, confidence, method: 'none', verdict: 'no interval', note };
}

/** "1.22x [1.15, 1.29] faster", "1.02x [0.91, 1.14] not distinguishable" (the digits follow the
 * interval), "1.22x (2 rounds: no interval; REPEATS=3 for one)"; "n/a" when nothing paired. */
export function formatRatio(r: RatioOverRounds | null): string {
  if (!r) return 'n/a';
  if (r.lower === null || r.upper === null) return `${r.estimate.toFixed(2)}x (${r.note})`;
  return `${formatWithInterval(r.estimate, r.lower, r.upper, 'x')} ${r.verdict}`;
}

/** The method behind a report's intervals, in one sentence for its readers (report.md, the console). */
export function ratioMethodText(confidence = REPORT_CONFIDENCE): string {
  const pct = `${+(confidence * 100).toFixed(2)} %`;
  return `ratios are paired per round; [lower, upper] is a ${pct} interval over the rounds: from ${ORDER_MIN_ROUNDS} rounds the median ratio's distribution-free interval (order statistics), from ${T_MIN_ROUNDS} to ${ORDER_MIN_ROUNDS - 1} the geometric mean's Student t interval on the log ratios, none below ${T_MIN_ROUNDS}; "not distinguishable" where it includes 1`;
}

const METHOD_WORDS: Record<RatioOverRounds['method'], string> = {
  'order-statistics': "the median ratio's distribution-free interval (order statistics)",
  't-log': "the geometric mean's Student t interval on the log ratios",
  none: `no interval (fewer than ${T_MIN_ROUNDS} rounds)`,
};

/** The methods some ratios were taken with, in words: "ratios over 3 paired rounds, 95 % intervals: the
 * geometric mean's ...; "not distinguishable": ...", or that there are none and what gives them. */
export function ratioMethodsUsed(ratios: readonly (RatioOverRounds | null)[]): string {
  const present = ratios.filter((x): x is RatioOverRounds => x !== null);
  const rounds = [...new Set(present.map((x) => x.n))].sort((a, b) => a - b);
  const methods = [...new Set(present.map((x) => x.method))];
  const pct = present[0] ? `${+(present[0].confidence * 100).toFixed(2)} %` : `${+(REPORT_CONFIDENCE * 100).toFixed(2)} %`;
  const over = `ratios over ${rounds.join(' or ')} paired round${rounds.length === 1 && rounds[0] === 1 ? '' : 's'}`;
  if (methods.every((m) => m === 'none')) return `${over}: no interval (fewer than ${T_MIN_ROUNDS} rounds; REPEATS=${T_MIN_ROUNDS} for Student t intervals, ${ORDER_MIN_ROUNDS} for distribution-free ones)`;
  return `${over}, ${pct} intervals: ${methods.map((m) => METHOD_WORDS[m]).join('; ')}; "not distinguishable": the interval includes 1`;
}

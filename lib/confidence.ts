// Confidence for the suite's figures: how far a sample's quantile can be from the true one (order
// statistics, exact binomial), thresholds decided with confidence (met / broken / undecided), ratios
// of repeated measurements with a bootstrap interval or Student's t on their logarithms (the
// typical ratio of a few paired rounds), figures printed with the digits their
// interval supports, and perf_analyzer's stability rule. lib/stats.ts holds the quantiles themselves;
// this file is the layer above them. Pure TypeScript: no Node or k6 imports, no packages (both
// runtimes, and k6's handleSummary runs it on up to ~10^5 samples, so everything here is cheap).
import { mulberry32 } from './rng.ts';

import { quantileSorted } from './stats.ts';

// ---------------------------------------------------------------------------------------------
// The binomial distribution, exactly

/** Probabilities below this (relative to the most likely count) are treated as zero. */
const NEGLIGIBLE = 1e-20;

/** A tail probability within this relative distance of its limit counts as at the limit, so a tie
 * that is exact on paper (p = 0.95, n = 1: P(B = 0) = 0.05 = alpha) is decided the same way by
 * every function here whichever way the floating point happens to round it. */
const atMost = (a: number): number => a * (1 + 1e-12);

/**
 * Binomial(n, p) over the counts that carry its mass: cdf[i] = P(B <= lo + i) and
 * sf[i] = P(B >= lo + i). Below lo the CDF is 0 and above hi the survival is 0 (each < 1e-20).
 * Method: the probabilities are built outward from the mode with the ratio recurrence
 * pmf(k+1)/pmf(k) = (n-k)/(k+1) * p/(1-p), unnormalised (the mode is 1, so nothing under- or
 * overflows, no factorials, no lgamma), then normalised by their sum; both tails are summed from
 * their own end so a small tail is never 1 minus something close to 1. The work is about
 * 20 * sqrt(n p (1-p)) multiplications (about 10^4 for n = 10^6, p = 0.5; 600 for p = 0.999),
 * so it stays exact for every n this suite sees: no normal approximation decides anything here
 * (projectSamples uses one only as the first guess of a search that it then checks exactly).
 */
interface Binomial {
  n: number;
  lo: number;
  hi: number;
  cdf: Float64Array;
  sf: Float64Array;
}

function binomial(n: number, p: number): Binomial {
  if (!Number.isInteger(n) || n < 0) throw new Error(`binomial: n must be a whole number >= 0, got ${n}`);
  if (!(p > 0 && p < 1)) throw new Error(`binomial: p must be in (0, 1), got ${p}`);
  const odds = p / (1 - p);
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const up: number[] = [];
  for (let k = mode, t = 1; k < n; k++) {
    t *= ((n - k) / (k + 1)) * odds;
    if (t < NEGLIGIBLE) break;
    up.push(t);
  }
  const down: number[] = [];
  for (let k = mode, t = 1; k > 0; k--) {
    t *= (k / (n - k + 1)) / odds;
    if (t < NEGLIGIBLE) break;
    down.push(t);
  }
  const lo = mode - down.length;
  const size = down.length + 1 + up.length;
  const pmf = new Float64Array(size);
  for (let i = 0; i < down.length; i++) pmf[down.length - 1 - i] = down[i]!;
  pmf[down.length] = 1;
  for (let i = 0; i < up.length; i++) pmf[down.length + 1 + i] = up[i]!;
  let total = 0;
  for (let i = 0; i < size; i++) total += pmf[i]!;
  const cdf = new Float64Array(size);
  const sf = new Float64Array(size);
  for (let i = 0, s = 0; i < size; i++) cdf[i] = (s += pmf[i]!) / total;
  for (let i = size - 1, s = 0; i >= 0; i--) sf[i] = (s += pmf[i]!) / total;
  return { n, lo, hi: lo + size - 1, cdf, sf };
}

/** P(B <= k). */
function cdfAt(b: Binomial, k: number): number {
  if (k < b.lo) return 0;
  if (k >= b.hi) return 1;
  return b.cdf[k - b.lo]!;
}

/** P(B >= k). */
function sfAt(b: Binomial, k: number): number {
  if (k <= b.lo) return 1;
  if (k > b.hi) return 0;
  return b.sf[k - b.lo]!;
}

/** Largest k in [-1, n] with P(B <= k) <= a (-1 when even P(B = 0) exceeds a). */
function largestWithCdfAtMost(b: Binomial, a: number): number {
  let k = b.hi;
  while (k >= b.lo && cdfAt(b, k) > atMost(a)) k--;
  return k;
}

/** Smallest k in [0, n + 1] with P(B >= k) <= a (n + 1 when even P(B = n) exceeds a). */
function smallestWithSfAtMost(b: Binomial, a: number): number {
  let k = b.lo;
  while (k <= b.hi && sfAt(b, k) > atMost(a)) k++;
  return k;
}

const percentLabel = (x: number): string => String(+(x * 100).toFixed(4));

function checkConfidence(confidence: number): number {
  if (!(confidence > 0.5 && confidence < 1)) throw new Error(`confidence must be in (0.5, 1), got ${confidence}`);
  return 1 - confidence;
}

// ---------------------------------------------------------------------------------------------
// Confidence intervals for a quantile (order statistics)

/** Which bounds are asked for: both ('two-sided', alpha split evenly), or only an upper bound (what
 * an SLO "p99 < X" needs) or only a lower bound. */
export type Sides = 'two-sided' | 'upper' | 'lower';

/** The ranks (1-based, into the sorted sample) that bound the p-quantile, and what they achieve. */
export interface QuantileRanks {
  n: number;
  p: number;
  confidence: number;
  sides: Sides;
  /** X_(lowerRank) <= q_p with the confidence asked; null when not asked for or not available. */
  lowerRank: number | null;
  /** X_(upperRank) >= q_p; null when not asked for or not available. */
  upperRank: number | null;
  /** Exact probability, for any continuous distribution, that the stated interval holds q_p (a
   * missing bound counts as infinite); at least `confidence` whenever `unbounded` is null. */
  coverage: number;
  /** The bounds that were asked for but that n samples cannot give; null when all were given. */
  unbounded: 'lower' | 'upper' | 'both' | null;
  /** The fewest samples that give every bound asked for: minSamplesFor(p, confidence, sides). */
  minSamples: number;
}

/** The interval itself: the ranks, the sample's values at them, and the point estimate. */
export interface QuantileInterval extends QuantileRanks {
  /** The interpolated quantile, as k6 and lib/stats.ts compute it. */
  estimate: number;
  lower: number | null;
  upper: number | null;
}

/**
 * The ranks of a distribution-free confidence interval for the p-quantile of n samples.
 * Method: the number B of samples at or below the true quantile q_p is Binomial(n, p) whatever the
 * (continuous) distribution, so P(X_(l) <= q_p) = P(B >= l) and P(X_(u) >= q_p) = P(B <= u - 1).
 * The lower rank is the largest l with P(B <= l - 1) <= tail and the upper rank the smallest u with
 * P(B >= u) <= tail, where tail = alpha / 2 for a two-sided interval (equal tails) and alpha for a
 * one-sided bound; the coverage P(l <= B <= u - 1) is exact (computed from the exact binomial,
 * see binomial() above), never a normal approximation, and at least 1 - alpha. For ties
 * (discrete data) the interval is conservative. Why this method: it assumes nothing about the
 * latency distribution (tails are what we measure, and they are neither normal nor symmetric), it
 * needs only the sorted sample, and it says honestly when n is too small: the upper bound of a
 * high quantile needs P(B = n) = p^n <= tail (p99 at 95 % two-sided: n >= 368; one-sided: 299).
 */
export function quantileRanks(n: number, p: number, confidence = 0.95, sides: Sides = 'two-sided'): QuantileRanks {
  const alpha = checkConfidence(confidence);
  const tail = sides === 'two-sided' ? alpha / 2 : alpha;
  const b = binomial(n, p);
  let lowerRank: number | null = null;
  let upperRank: number | null = null;
  if (sides !== 'upper') {
    const l = largestWithCdfAtMost(b, tail) + 1;
    if (l >= 1) lowerRank = l;
  }
  if (sides !== 'lower') {
    const u = smallestWithSfAtMost(b, tail);
    if (u <= n) upperRank = u;
  }
  // A missing lower rank is -infinity (P(B <= -1) = 0), a missing upper one +infinity (P(B >= n + 1) = 0).
  const coverage = 1 - (lowerRank === null ? 0 : cdfAt(b, lowerRank - 1)) - (upperRank === null ? 0 : sfAt(b, upperRank));
  const lowerMissing = sides !== 'upper' && lowerRank === null;
  const upperMissing = sides !== 'lower' && upperRank === null;
  const unbounded = lowerMissing && upperMissing ? 'both' : lowerMissing ? 'lower' : upperMissing ? 'upper' : null;
  return { n, p, confidence, sides, lowerRank, upperRank, coverage, unbounded, minSamples: minSamplesFor(p, confidence, sides) };
}

/**
 * Confidence interval for the p-quantile (p in (0, 1), e.g. 0.99 for p99) of an ascending sorted
 * sample: quantileRanks() read off the sample. Throws on no samples (as quantileSorted does).
 */
export function quantileInterval(sorted: ArrayLike<number>, p: number, confidence = 0.95, sides: Sides = 'two-sided'): QuantileInterval {
  const estimate = quantileSorted(sorted, p);
  const r = quantileRanks(sorted.length, p, confidence, sides);
  return {
    ...r,
    estimate,
    lower: r.lowerRank === null ? null : sorted[r.lowerRank - 1]!,
    upper: r.upperRank === null ? null : sorted[r.upperRank - 1]!,
  };
}

/** One-sided upper confidence bound of the p-quantile: the smallest rank u with
 * P(X_(u) >= q_p) >= confidence (upper is null, unbounded 'upper', while p^n > 1 - confidence). */
export function quantileUpperBound(sorted: ArrayLike<number>, p: number, confidence = 0.95): QuantileInterval {
  return quantileInterval(sorted, p, confidence, 'upper');
}

/** One-sided lower confidence bound of the p-quantile: the largest rank l with P(X_(l) <= q_p) >= confidence. */
export function quantileLowerBound(sorted: ArrayLike<number>, p: number, confidence = 0.95): QuantileInterval {
  return quantileInterval(sorted, p, confidence, 'lower');
}

/** Smallest n >= 1 with r^n <= a (0 < r < 1), from logarithms, then checked on the powers themselves. */
function smallestPower(r: number, a: number): number {
  let n = Math.max(1, Math.ceil(Math.log(a) / Math.log(r)));
  while (n > 1 && Math.pow(r, n - 1) <= atMost(a)) n--;
  while (Math.pow(r, n) > atMost(a)) n++;
  return n;
}

/**
 * The fewest samples for which the order statistics give every bound asked for: an upper bound of
 * the p-quantile exists once p^n <= tail (all n samples below q_p has become unlikely enough), a
 * lower bound once (1 - p)^n <= tail, with tail = alpha / 2 two-sided and alpha one-sided.
 * E.g. p99 at 95 %: 299 for the one-sided upper bound, 368 for the two-sided interval; p50: 6.
 */
export function minSamplesFor(p: number, confidence = 0.95, sides: Sides = 'two-sided'): number {
  const alpha = checkConfidence(confidence);
  if (!(p > 0 && p < 1)) throw new Error(`p must be in (0, 1), got ${p}`);
  const tail = sides === 'two-sided' ? alpha / 2 : alpha;
  const forUpper = sides === 'lower' ? 0 : smallestPower(p, tail);
  const forLower = sides === 'upper' ? 0 : smallestPower(1 - p, tail);
  return Math.max(forUpper, forLower);
}

// ---------------------------------------------------------------------------------------------
// Thresholds decided with confidence

/** A latency threshold p(P) < X or p(P) <= X, as k6 writes them. */
export type ThresholdOp = '<' | '<=';

export type Verdict = 'met' | 'broken' | 'undecided';

/** A decision and the counts it rests on. */
export interface CountDecision {
  verdict: Verdict;
  n: number;
  /** Samples on the wrong side of the threshold: >= X for '<', > X for '<='. */
  exceeding: number;
  /** At this n the threshold is met iff exceeding <= this; null: no count can meet it yet (too few samples). */
  maxExceedingToMeet: number | null;
  /** At this n the threshold is broken iff exceeding >= this; null: no count can break it yet. */
  minExceedingToBreak: number | null;
  /** When undecided: about how many samples would decide it if the observed fraction exceeding
   * held (null when decided, when that fraction sits exactly on 1 - p, or beyond 10^7 samples). A
   * guide, not a promise: the fraction itself is uncertain, and near the answer whether n samples
   * decide flips back and forth as the fraction's count rounds (about +-5 % at 100 exceeding). */
  neededSamples: number | null;
  /** Which way those samples would decide it. */
  neededFor: 'met' | 'broken' | null;
}

export interface ThresholdDecision extends CountDecision {
  p: number;
  threshold: number;
  op: ThresholdOp;
  confidence: number;
}

/** Beyond this many samples a projection is not worth quoting (and would cost too much in k6). */
const MAX_PROJECTED = 1e7;

function verdictAt(n: number, exceeding: number, p: number, alpha: number): { verdict: Verdict; maxMeet: number | null; minBreak: number | null } {
  const b = binomial(n, p);
  const u = smallestWithSfAtMost(b, alpha); // met iff at least u samples are within the threshold
  const k = largestWithCdfAtMost(b, alpha); // broken iff at most k samples are within it
  const maxMeet = u <= n ? n - u : null;
  const minBreak = k >= 0 ? n - k : null;
  const verdict: Verdict = maxMeet !== null && exceeding <= maxMeet ? 'met' : minBreak !== null && exceeding >= minBreak ? 'broken' : 'undecided';
  return { verdict, maxMeet, minBreak };
}

/**
 * About the smallest n' > n at which the observed fraction f exceeding would decide `want`
 * (exceeding rounded up for 'met', down for 'broken'). The normal approximation with the z of the
 * exact bound, n' = (z sqrt(p (1 - p)) / |f - (1 - p)|)^2, only seeds the search; every answer is
 * checked with the exact binomial: the bracket is moved by doubling or halving until its top decides
 * and its bottom does not, then bisected to 0.1 % (a projection needs no more, and in k6 each exact
 * check of a few million samples costs milliseconds). Null beyond MAX_PROJECTED.
 */
function projectSamples(n: number, f: number, p: number, alpha: number, want: 'met' | 'broken', z: number): number | null {
  const decides = (m: number): boolean => {
    const e = want === 'met' ? Math.ceil(f * m - 1e-9) : Math.floor(f * m + 1e-9);
    return verdictAt(m, Math.min(m, Math.max(0, e)), p, alpha).verdict === want;
  };
  if (n >= MAX_PROJECTED) return null;
  const guess = ((z * Math.sqrt(p * (1 - p))) / Math.abs(f - (1 - p))) ** 2;
  let lo = n; // does not decide (the caller's n is undecided)
  let hi = Math.min(MAX_PROJECTED, Math.max(n + 1, Math.ceil(guess)));
  while (!decides(hi)) {
    if (hi >= MAX_PROJECTED) return null;
    lo = hi;
    hi = Math.min(MAX_PROJECTED, hi * 2);
  }
  for (let m = Math.floor(hi / 2); m > lo; m = Math.floor(m / 2)) {
    if (!decides(m)) {
      lo = m;
      break;
    }
    hi = m;
  }
  while (hi - lo > Math.max(1, Math.floor(hi / 1000))) {
    const mid = Math.floor((lo + hi) / 2);
    if (decides(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The decision from counts alone: n samples, `exceeding` of them on the wrong side of X.
 * Method (MLPerf LoadGen's early stopping is the same binomial bound on the tail): let W = n -
 * exceeding be the samples within the threshold and B ~ Binomial(n, p). If the true p-quantile were
 * on the wrong side of X, W would be at most Binomial(n, p) in distribution, so 'met' when
 * P(B >= W) <= alpha, which is exactly "the one-sided upper confidence bound of the quantile
 * (quantileRanks, sides 'upper') is within X"; symmetrically 'broken' when P(B <= W) <= alpha, "the
 * one-sided lower bound is beyond X"; else 'undecided'. Exact for any distribution (ties included),
 * cost O(sqrt(n)), no sorting. The projection for an undecided one assumes the observed fraction
 * holds (see projectSamples).
 */
export function decideCounts(n: number, exceeding: number, p: number, confidence = 0.95): CountDecision {
  const alpha = checkConfidence(confidence);
  if (!Number.isInteger(exceeding) || exceeding < 0 || exceeding > n) throw new Error(`exceeding must be a whole number in [0, n], got ${exceeding} of ${n}`);
  const at = verdictAt(n, exceeding, p, alpha);
  let neededSamples: number | null = null;
  let neededFor: 'met' | 'broken' | null = null;
  if (at.verdict === 'undecided') {
    if (n === 0) {
      neededFor = 'met';
      neededSamples = minSamplesFor(p, confidence, 'upper');
    } else {
      const f = exceeding / n;
      const allowed = 1 - p;
      if (Math.abs(f - allowed) > 1e-12) {
        const want = f < allowed ? 'met' : 'broken';
        // The z of this n's exact bound (its distance from n p in standard deviations) seeds the search.
        const sd = Math.sqrt(n * p * (1 - p));
        const z = want === 'met' ? (at.maxMeet === null ? NaN : (n - at.maxMeet - n * p) / sd) : at.minBreak === null ? NaN : (n * p - (n - at.minBreak)) / sd;
        neededSamples = projectSamples(n, f, p, alpha, want, z > 0 && Number.isFinite(z) ? z : 2);
        neededFor = neededSamples === null ? null : want;
      }
    }
  }
  return { verdict: at.verdict, n, exceeding, maxExceedingToMeet: at.maxMeet, minExceedingToBreak: at.minBreak, neededSamples, neededFor };
}

/**
 * Decides a threshold p(P) < X (op '<') or p(P) <= X (op '<=') on the samples (in any order; p as
 * a fraction, 0.99 for p(99)): 'met' when the quantile is within X with the given confidence,
 * 'broken' when it is beyond X with that confidence, else 'undecided'. See decideCounts. A
 * sample that is not a number (NaN) counts as exceeding: it cannot show the threshold met.
 */
export function decideThreshold(samples: ArrayLike<number>, p: number, threshold: number, op: ThresholdOp = '<', confidence = 0.95): ThresholdDecision {
  let exceeding = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (op === '<' ? !(v < threshold) : !(v <= threshold)) exceeding++;
  }
  return { ...decideCounts(samples.length, exceeding, p, confidence), p, threshold, op, confidence };
}

// ---------------------------------------------------------------------------------------------
// Ratios of repeated measurements (bootstrap)


export type Statistic = 'median' | 'mean';

export interface RatioOptions {
  statistic?: Statistic;
  confidence?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  seed?: number;
}

export interface RatioInterval {
  estimate: number;
  lower: number;
  upper: number;
  /** The interval excludes 1. */
  distinguishable: boolean;
  /** Values behind each side (for a paired ratio: the rounds, on both). */
  nA: number;
  nB: number;
  statistic: Statistic;
  confidence: number;
  resamples: number;
}

function statisticOf(values: number[], statistic: Statistic): number {
  if (statistic === 'mean') {
    let s = 0;
    for (const v of values) s += v;
    return s / values.length;
  }
  return quantileSorted(values.sort((x, y) => x - y), 0.5);
}

function resample(values: readonly number[], rand: () => number, into: number[]): number[] {
  for (let i = 0; i < values.length; i++) into[i] = values[Math.floor(rand() * values.length)]!;
  return into;
}

function checkPositive(values: readonly number[], name: string): void {
  if (values.length === 0) throw new Error(`ratio: no values for ${name}`);
  for (const v of values) if (!(v > 0 && Number.isFinite(v))) throw new Error(`ratio: ${name} has ${v}; ratios are of positive, finite measurements`);
}

function percentileInterval(estimate: number, ratios: number[], o: Required<RatioOptions>, nA: number, nB: number): RatioInterval {
  const tail = (1 - o.confidence) / 2;
  ratios.sort((x, y) => x - y);
  const lower = quantileSorted(ratios, tail);
  const upper = quantileSorted(ratios, 1 - tail);
  return { estimate, lower, upper, distinguishable: lower > 1 || upper < 1, nA, nB, statistic: o.statistic, confidence: o.confidence, resamples: o.resamples };
}

function ratioOptions(opts: RatioOptions): Required<RatioOptions> {
  const o = { statistic: opts.statistic ?? 'median', confidence: opts.confidence ?? 0.95, resamples: opts.resamples ?? 2000, seed: opts.seed ?? 1 };
  checkConfidence(o.confidence);
  if (!Number.isInteger(o.resamples) || o.resamples < 1) throw new Error(`ratio: resamples must be a whole number >= 1, got ${o.resamples}`);
  return o;
}

/**
 * Confidence interval for statistic(a) / statistic(b) of two independent sets of per-round values
 * (e.g. throughput of implementation A over baseline B). Method: percentile bootstrap, each side
 * resampled with replacement on its own (seeded mulberry32, so a report is reproducible), the
 * interval the alpha/2 and 1 - alpha/2 quantiles of the resampled ratios. Why: no assumption about
 * the shape of either side, and a ratio's interval comes out asymmetric as it should. Caveat: a
 * percentile bootstrap is too narrow on few values (it can only resample what was seen): with two
 * identically distributed lognormal sides (10 % noise, 400 seeded trials) it called them
 * distinguishable 10 % (medians) and 17 % (means) of the time at 3 values a side, 3 to 6 % for
 * medians and 7 to 11 % for means at 5 to 20, against a nominal 5 %: read `distinguishable` on
 * fewer than ~10 values a side as a hint, not a 95 % claim.
 */
export function ratioInterval(a: readonly number[], b: readonly number[], opts: RatioOptions = {}): RatioInterval {
  const o = ratioOptions(opts);
  checkPositive(a, 'a');
  checkPositive(b, 'b');
  const rand = mulberry32(o.seed);
  const ra: number[] = new Array(a.length);
  const rb: number[] = new Array(b.length);
  const ratios: number[] = new Array(o.resamples);
  for (let i = 0; i < o.resamples; i++) ratios[i] = statisticOf(resample(a, rand, ra), o.statistic) / statisticOf(resample(b, rand, rb), o.statistic);
  const estimate = statisticOf([...a], o.statistic) / statisticOf([...b], o.statistic);
  return percentileInterval(estimate, ratios, o, a.length, b.length);
}

/**
 * Confidence interval for the statistic (median by default) of the per-round ratios a[r] / b[r]
 * (a and b measured in the same rounds, next to each other in time, so a slow minute of the machine
 * hits both sides of a ratio: make report's speedups). Method: percentile bootstrap over rounds
 * (a round's pair stays together), seeded. Caveat, stronger than for ratioInterval: on 3 rounds the
 * interval is the range of the 3 ratios, so it excludes 1 whenever all three fall on one side, 25 %
 * of the time at a true ratio of 1; about 9 % at 10 rounds, 5 % at 20 (medians, measured as there).
 * For a median of few rounds the exact, distribution-free alternative is the order-statistic
 * interval of the sorted per-round ratios, quantileInterval(sortedRatios, 0.5), which needs 6
 * rounds for a 95 % interval and says so below that. make report takes that one from 6 rounds and
 * geometricMeanInterval (t on the log ratios) from 3 to 5 (tools/report/stats.ts: ratioOverRounds).
 */
export function pairedRatioInterval(a: readonly number[], b: readonly number[], opts: RatioOptions = {}): RatioInterval {
  const o = ratioOptions(opts);
  if (a.length !== b.length) throw new Error(`paired ratio: ${a.length} values against ${b.length}; pairs are per round`);
  checkPositive(a, 'a');
  checkPositive(b, 'b');
  const per = a.map((v, i) => v / b[i]!);
  const rand = mulberry32(o.seed);
  const r: number[] = new Array(per.length);
  const ratios: number[] = new Array(o.resamples);
  for (let i = 0; i < o.resamples; i++) ratios[i] = statisticOf(resample(per, rand, r), o.statistic);
  return percentileInterval(statisticOf([...per], o.statistic), ratios, o, per.length, per.length);
}

// ---------------------------------------------------------------------------------------------
// The typical ratio of a few paired rounds (Student's t on logarithms)

/**
 * P(|T| <= t) for Student's t with df degrees of freedom (a whole number >= 1): the finite series of
 * Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df) in theta = atan(t / sqrt(df)), exact up
 * to rounding (df - 2 terms at most; no incomplete beta function, no approximation).
 */
function studentCentral(t: number, df: number): number {
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df));
  const c2 = Math.cos(theta) ** 2;
  if (df % 2 === 1) {
    if (df === 1) return (2 / Math.PI) * theta;
    let term = 1;
    let sum = 1;
    for (let k = 3; k <= df - 2; k += 2) sum += term *= ((k - 1) / k) * c2;
    return (2 / Math.PI) * (theta + Math.sin(theta) * Math.cos(theta) * sum);
  }
  let term = 1;
  let sum = 1;
  for (let k = 2; k <= df - 2; k += 2) sum += term *= ((k - 1) / k) * c2;
  return Math.sin(theta) * sum;
}

/**
 * The p-quantile (p in (0.5, 1)) of Student's t with df degrees of freedom (a whole number >= 1):
 * bisection on the exact CDF above. studentTQuantile(0.975, 2) = 4.303, (0.975, 5) = 2.571.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1)) throw new Error(`studentTQuantile: p must be in (0.5, 1), got ${p}`);
  if (!Number.isInteger(df) || df < 1) throw new Error(`studentTQuantile: df must be a whole number >= 1, got ${df}`);
  const central = 2 * p - 1;
  let lo = 0;
  let hi = 1;
  while (studentCentral(hi, df) < central) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentCentral(mid, df) < central) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface GeometricMeanInterval {
  /** exp(mean(log x)): for ratios, the typical ratio. */
  estimate: number;
  lower: number;
  upper: number;
  /** The interval excludes 1 (read it for ratios). */
  distinguishable: boolean;
  n: number;
  /** The t quantile used (n - 1 degrees of freedom). */
  t: number;
  confidence: number;
}

/**
 * Confidence interval for the geometric mean of positive values, e.g. the per-round ratios a[r] / b[r]
 * of make report's paired rounds. Method: Student's t on the logarithms,
 * exp(mean(log x) +- t(1 - alpha/2, n - 1) * sd(log x) / sqrt(n)), so a ratio and its inverse get
 * the same interval inverted. Why: with 3 to 5 rounds no distribution-free interval of 95 % exists (the
 * order statistics need 6, see quantileRanks; a bootstrap resamples too few values and comes out too
 * narrow, see pairedRatioInterval), while t pays for the spread that few rounds estimate through its
 * wide quantile (4.30 at 3 rounds, 2.78 at 5). Assumption: the log values are independent and about
 * normal; a round that went wrong widens the interval (it inflates sd), it does not narrow it.
 * Needs n >= 2 (throws below): with one value there is no spread to scale.
 */
export function geometricMeanInterval(values: readonly number[], confidence = 0.95): GeometricMeanInterval {
  const alpha = checkConfidence(confidence);
  if (values.length < 2) throw new Error(`geometricMeanInterval: needs 2 values or more, got ${values.length}`);
  for (const v of values) if (!(v > 0 && Number.isFinite(v))) throw new Error(`geometricMeanInterval: got ${v}; the values must be positive and finite`);
  const logs = values.map((v) => Math.log(v));
  const n = logs.length;
  const mean = logs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const t = studentTQuantile(1 - alpha / 2, n - 1);
  const half = (t * sd) / Math.sqrt(n);
  const lower = Math.exp(mean - half);
  const upper = Math.exp(mean + half);
  return { estimate: Math.exp(mean), lower, upper, distinguishable: lower > 1 || upper < 1, n, t, confidence };
}

// ---------------------------------------------------------------------------------------------
// Figures printed with the digits their interval supports

/** "ms" after a space, "x" and "%" attached: "3600 ms", "1.42x". */
const withUnit = (text: string, unit: string): string => (unit === '' ? text : unit === 'x' || unit === '%' ? `${text}${unit}` : `${text} ${unit}`);

function roundTo(v: number, step: number, mode: 'round' | 'floor' | 'ceil'): string {
  const decimals = Math.max(0, -Math.round(Math.log10(step)));
  const q = v / step;
  const k = mode === 'round' ? Math.round(q) : mode === 'floor' ? Math.floor(q + 1e-9) : Math.ceil(q - 1e-9);
  const out = (k * step).toFixed(decimals);
  return out === '-0' || /^-0\.0*$/.test(out) ? out.slice(1) : out;
}

/** The step of the last digit worth printing of a single value: three significant digits. */
const stepOfValue = (v: number): number => (v !== 0 && Number.isFinite(v) ? 10 ** (Math.floor(Math.log10(Math.abs(v))) - 2) : 1);

/**
 * "3600 ms [2900, 4100]": the estimate and its interval, printed to two significant digits of the
 * interval's width (the digits beyond are noise), but never so coarse that the estimate loses its
 * first digit; the bounds are rounded outward so the printed interval still holds the computed one.
 * A tight interval keeps its decimals: 12.3456 in [12.30, 12.39] -> "12.346 ms [12.300, 12.390]".
 * A zero-width interval prints three significant digits.
 */
export function formatWithInterval(estimate: number, lower: number, upper: number, unit = ''): string {
  const width = upper - lower;
  let step = width > 0 && Number.isFinite(width) ? 10 ** (Math.floor(Math.log10(width)) - 1) : stepOfValue(estimate);
  if (estimate !== 0 && Number.isFinite(estimate)) step = Math.min(step, 10 ** Math.floor(Math.log10(Math.abs(estimate))));
  return `${withUnit(roundTo(estimate, step, 'round'), unit)} [${roundTo(lower, step, 'floor')}, ${roundTo(upper, step, 'ceil')}]`;
}

/**
 * A quantile's interval in words: formatWithInterval when every bound asked for is there, else the
 * bound there is, rounded outward, and why the other is missing:
 * ">= 2900 ms (too few samples for an upper bound: n=78, needs 368 for a 95% interval on p99)".
 * One-sided: "<= 4100 ms (95% upper bound on p99, n=500)".
 */
export function formatQuantileInterval(ci: QuantileInterval, unit = ''): string {
  const q = `p${percentLabel(ci.p)}`;
  const conf = `${percentLabel(ci.confidence)}%`;
  const what = ci.sides === 'two-sided' ? `a ${conf} interval on ${q}` : `a ${conf} ${ci.sides} bound on ${q}`;
  const needs = `n=${ci.n}, needs ${ci.minSamples} for ${what}`;
  const lo = ci.lower === null ? null : withUnit(roundTo(ci.lower, stepOfValue(ci.lower), 'floor'), unit);
  const hi = ci.upper === null ? null : withUnit(roundTo(ci.upper, stepOfValue(ci.upper), 'ceil'), unit);
  if (ci.unbounded === 'both' || (ci.unbounded !== null && ci.sides !== 'two-sided')) return `unbounded (too few samples: ${needs})`;
  if (ci.unbounded === 'upper') return `>= ${lo} (too few samples for an upper bound: ${needs})`;
  if (ci.unbounded === 'lower') return `<= ${hi} (too few samples for a lower bound: ${needs})`;
  if (ci.sides === 'upper') return `<= ${hi} (${conf} upper bound on ${q}, n=${ci.n})`;
  if (ci.sides === 'lower') return `>= ${lo} (${conf} lower bound on ${q}, n=${ci.n})`;
  return formatWithInterval(ci.estimate, ci.lower!, ci.upper!, unit);
}

// ---------------------------------------------------------------------------------------------
// Stability of consecutive measurement windows

/** One measurement window's figures (perf_analyzer prints one per window). */
export interface WindowFigures {
  rps: number;
  p50: number;
}

export interface Stability {
  stable: boolean;
  /** The windows judged (0-based, inclusive): the last `last` of them, or all when fewer. */
  from: number;
  to: number;
  /** max / min - 1 of each figure over those windows (Infinity when a minimum is <= 0 and the maximum is not). */
  spread: { rps: number; p50: number };
  tolerance: number;
  /** Why not stable, in words; null when stable. */
  reason: string | null;
}

function relativeSpread(values: number[]): number {
  if (values.some((v) => !Number.isFinite(v))) return Infinity;
  const max = Math.max(...values);
  const min = Math.min(...values);
  if (max === min) return 0;
  return min > 0 ? max / min - 1 : Infinity;
}

/**
 * Whether the last K windows (default 3) agree: both their requests/s and their p50 have
 * max / min <= 1 + tolerance (default 10 %). This is perf_analyzer's own rule (--stability-percentage
 * over its last 3 measurements, throughput and latency both), so a figure we quote after it is held
 * to the same bar; fewer than K windows is never stable.
 */
export function stability(windows: readonly WindowFigures[], last = 3, tolerance = 0.1): Stability {
  if (!Number.isInteger(last) || last < 2) throw new Error(`stability: last must be a whole number >= 2, got ${last}`);
  const from = Math.max(0, windows.length - last);
  const judged = windows.slice(from);
  const spread = judged.length === 0 ? { rps: NaN, p50: NaN } : { rps: relativeSpread(judged.map((w) => w.rps)), p50: relativeSpread(judged.map((w) => w.p50)) };
  const pct = (x: number): string => `${+(x * 100).toFixed(1)}%`;
  const bad: string[] = [];
  if (!(spread.rps <= tolerance)) bad.push(`requests/s differ by ${pct(spread.rps)}`);
  if (!(spread.p50 <= tolerance)) bad.push(`p50 differs by ${pct(spread.p50)}`);
  const reason =
    judged.length < last
      ? `only ${judged.length} of ${last} windows`
      : bad.length === 0
        ? null
        : `${bad.join(', ')} over windows ${from}-${windows.length - 1} (tolerance ${pct(tolerance)})`;
  return { stable: reason === null, from, to: windows.length - 1, spread, tolerance, reason };
}

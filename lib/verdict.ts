// How sure a run's verdicts are: each latency threshold decided with confidence (met / broken /
// undecided, beside k6's own ok/failed), and each level VALID or INVALID with reasons and the advice
// that would fix them, after MLPerf LoadGen (minimum duration, minimum sample count for the tail
// claimed, no dropped arrivals). Everything here reads k6's aggregates through the quantile grid
// (lib/quantile-grid.ts), so it works in k6's handleSummary, on a merge of N runners and on a
// summary.json read back. Pure TypeScript (both runtimes).
import { decideCounts, minSamplesFor, type Verdict } from './confidence.ts';
import { duration, int, knob, num, oneOf } from './knobs.ts';
import { gridInterval, gridPoints, shareBelow } from './quantile-grid.ts';
import type { ScenarioKind } from './scenarios.ts';

/** The confidence of every interval and decision the summary prints. */
export const CONFIDENCE = 0.95;

export type UndecidedPolicy = 'pass' | 'fail';
/** VALIDITY: report an INVALID level (exit unchanged) or fail the run with it (exit 96). */
export type ValidityPolicy = 'report' | 'fail';

/** Read by k6's handleSummary (lib/k6-config.ts) and by the bench (tools/bench/config.ts), same names. */
export const VERDICT_KNOBS = {
  minDuration_s: knob({ env: 'MIN_DURATION', tier: 'expert', default: 10, defaultText: '10s', ...duration, doc: "a level measured for less is INVALID (MLPerf LoadGen's servers: 600s)" }),
  undecided: knob<UndecidedPolicy>({
    env: 'UNDECIDED', tier: 'expert', default: 'pass', ...oneOf(['pass', 'fail'] as const),
    doc: "a latency threshold 95% confidence can neither meet nor break: pass (k6's own verdict stands) or fail (exit 99)",
  }),
  validity: knob<ValidityPolicy>({
    env: 'VALIDITY', tier: 'expert', default: 'report', ...oneOf(['report', 'fail'] as const),
    doc: 'an INVALID level (too few samples, too short, dropped arrivals, unstable): report it (the exit code stands) or fail the run (exit 96) when nothing else failed',
  }),
  stabilityWindows: knob({
    env: 'STABILITY_WINDOWS', tier: 'expert', default: 5, ...int(0, 12),
    doc: 'timed levels are judged in this many consecutive windows (the last 3 must agree, as perf_analyzer asks; 0: not judged)',
  }),
  stabilityTolerance: knob({ env: 'STABILITY_TOLERANCE', tier: 'expert', default: 10, defaultText: '10 (%)', ...num(0, 1000), doc: 'how far (%) the last 3 windows\' req/s and p50 may differ for a stable level' }),
};

/** How the summary judges: recorded in summary.json (`judging`). */
export interface Judging {
  confidence: number;
  min_duration_s: number;
  undecided: UndecidedPolicy;
  /** Windows per timed level (lib/stability.ts) and the tolerance of the last 3 (a fraction); absent in
   * summaries written before them. */
  stability_windows?: number;
  stability_tolerance?: number;
}

export const DEFAULT_JUDGING: Judging = {
  confidence: CONFIDENCE,
  min_duration_s: VERDICT_KNOBS.minDuration_s.default,
  undecided: VERDICT_KNOBS.undecided.default,
  stability_windows: VERDICT_KNOBS.stabilityWindows.default,
  stability_tolerance: VERDICT_KNOBS.stabilityTolerance.default / 100,
};

// ---------------------------------------------------------------------------------------------
// Thresholds decided with confidence

/** A latency threshold's decision at `confidence`, beside k6's own ok/failed (which judges the point estimate). */
export interface GateDecision {
  verdict: Verdict;
  /** Samples of the sub-metric behind it. */
  n: number;
  confidence: number;
  /** The percentile, as a fraction (0.99 for p(99)). */
  p: number;
  /** The bound that can meet the threshold: 'upper' for a ceiling p(N)<X, 'lower' for a floor p(N)>=X. */
  side: 'upper' | 'lower';
  /** The one-sided bounds of the percentile at `confidence`, read off the grid (null: n cannot give it). */
  lower: number | null;
  upper: number | null;
  /** The fewest samples for which the bound that can meet it exists at all (minSamplesFor, one-sided). */
  min_samples: number;
  /** When undecided: about how many samples would decide it, and which way, if the share of samples
   * beyond the threshold (estimated from the grid) held; null when not projected. A guide. */
  needed_samples: number | null;
  needed_for: 'met' | 'broken' | null;
}

const PERCENTILE_BOUND = /^\s*p\(\s*(\d+(?:\.\d+)?)\s*\)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i;

/** `p(99)<300` as its parts; null for any other expression (counts, rates, max, ...). */
export function parsePercentileBound(expression: string): { p: number; op: '<' | '<=' | '>' | '>='; x: number } | null {
  const m = PERCENTILE_BOUND.exec(expression);
  if (!m) return null;
  const p = Number(m[1]) / 100;
  if (!(p > 0 && p < 1)) return null;
  return { p, op: m[2] as '<' | '<=' | '>' | '>=', x: Number(m[3]) };
}

/**
 * Decides `p(N) op X` on one trend's k6 values (its grid) and its sample count n. A ceiling (< or <=)
 * is 'met' when the one-sided upper confidence bound of the N-th percentile is below X, 'broken' when
 * the one-sided lower bound is at or above it; a floor (> or >=) the other way round; else
 * 'undecided'. The bounds are the grid's conservative reading of the order statistics
 * (quantile-grid.ts), so a decision read off the grid is one the samples themselves would also give
 * (the same binomial bound as decideCounts and MLPerf LoadGen's early stopping). Null for an
 * expression that is not a percentile bound, and for n = 0 (nothing to decide; k6 passes it).
 */
export function decideOnGrid(values: Readonly<Record<string, number>>, n: number, expression: string, confidence = CONFIDENCE): GateDecision | null {
  const t = parsePercentileBound(expression);
  if (!t || !(n > 0)) return null;
  const points = gridPoints(values);
  const upper = gridInterval(points, n, t.p, confidence, 'upper').upper;
  const lower = gridInterval(points, n, t.p, confidence, 'lower').lower;
  const ceiling = t.op === '<' || t.op === '<=';
  const within = (v: number): boolean => (t.op === '<' ? v < t.x : t.op === '<=' ? v <= t.x : t.op === '>' ? v > t.x : v >= t.x);
  const verdict: Verdict = ceiling
    ? upper !== null && within(upper) ? 'met' : lower !== null && !within(lower) ? 'broken' : 'undecided'
    : lower !== null && within(lower) ? 'met' : upper !== null && !within(upper) ? 'broken' : 'undecided';
  let needed_samples: number | null = null;
  let needed_for: 'met' | 'broken' | null = null;
  if (verdict === 'undecided') {
    // decideCounts' projection from the share beyond X that the grid suggests. A floor p(N) >= X is
    // the ceiling p(100 - N) <= -X of the negated samples: the wrong side is then below X.
    const below = shareBelow(points, t.x);
    const wrong = ceiling ? 1 - below : below;
    const exceeding = Math.min(n, Math.max(0, Math.round(wrong * n)));
    const c = decideCounts(n, exceeding, ceiling ? t.p : 1 - t.p, confidence);
    if (c.verdict === 'undecided') {
      needed_samples = c.neededSamples;
      needed_for = c.neededFor;
    }
  }
  return { verdict, n, confidence, p: t.p, side: ceiling ? 'upper' : 'lower', lower, upper, min_samples: minSamplesFor(t.p, confidence, ceiling ? 'upper' : 'lower'), needed_samples, needed_for };
}

const pct = (p: number): string => `p${+(p * 100).toFixed(4)}`;
const conf = (c: number): string => `${+(c * 100).toFixed(4)}%`;

/** Three significant digits, rounded away from the interval's inside (a bound stays a bound). */
function outward(v: number, mode: 'floor' | 'ceil'): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const exp = Math.floor(Math.log10(Math.abs(v))) - 2;
  const step = 10 ** exp;
  const k = mode === 'floor' ? Math.floor(v / step + 1e-9) : Math.ceil(v / step - 1e-9);
  return (k * step).toFixed(Math.max(0, -exp));
}

/**
 * The decision in words, for summary.txt and junit: "met at 95%: p99 <= 4100 (n=3000)",
 * "broken at 95%: p99 >= 70000 (n=900)", "undecided at 95%: n=78, a 95% upper bound on p99 needs
 * >= 299 samples; about 299 would decide it (met), DURATION=130s at the observed 2.6/s".
 * `advice` turns a sample count into the knob that gets it (see sampleAdvice), when known.
 */
export function decisionText(d: GateDecision, threshold: number, unit = '', advice?: (samples: number) => string | null): string {
  const u = unit ? ` ${unit}` : '';
  const q = pct(d.p);
  const head = `${d.verdict} at ${conf(d.confidence)}`;
  if (d.verdict === 'met') return d.side === 'upper' ? `${head}: ${q} <= ${outward(d.upper!, 'ceil')}${u} (n=${d.n})` : `${head}: ${q} >= ${outward(d.lower!, 'floor')}${u} (n=${d.n})`;
  if (d.verdict === 'broken') return d.side === 'upper' ? `${head}: ${q} >= ${outward(d.lower!, 'floor')}${u} (n=${d.n})` : `${head}: ${q} <= ${outward(d.upper!, 'ceil')}${u} (n=${d.n})`;
  const bound = d.side === 'upper' ? d.upper : d.lower;
  let why: string;
  if (bound === null && d.n < d.min_samples) why = `n=${d.n}, a ${conf(d.confidence)} ${d.side} bound on ${q} needs >= ${d.min_samples} samples`;
  else {
    const lo = d.lower === null ? '?' : outward(d.lower, 'floor');
    const hi = d.upper === null ? '?' : outward(d.upper, 'ceil');
    why = `${q} between ${lo} and ${hi}${u}, either side of ${threshold} (n=${d.n})`;
  }
  if (d.needed_samples !== null && d.needed_for !== null) {
    const how = advice?.(d.needed_samples);
    why += `; about ${d.needed_samples} samples would decide it (${d.needed_for})${how ? `: ${how}` : ''}`;
  }
  return `${head}: ${why}`;
}

// ---------------------------------------------------------------------------------------------
// Validity per level (MLPerf LoadGen: VALID or INVALID, with reasons and what would fix them)

export interface ValidityReason {
  code: 'no_samples' | 'too_few_samples' | 'too_short' | 'dropped_arrivals' | 'incomplete' | 'unstable' | 'stability_unresolved';
  detail: string;
  advice: string;
}

export interface Validity {
  verdict: 'VALID' | 'INVALID';
  reasons: ValidityReason[];
}

/** What validityOf reads of a level's row (lib/summary.ts LevelRow has these). */
export interface LevelFigures {
  level: string;
  /** Seconds measured (cut short when the server was lost). */
  duration_s: number;
  /** Accepted requests. */
  requests: number;
  /** Arrivals k6 could not send for want of a free VU (open-loop scenarios); absent elsewhere. */
  dropped?: number;
  /** Its windows' verdict (lib/stability.ts); absent where not judged. */
  stability?: { stable: boolean; verdict?: 'stable' | 'unstable' | 'unresolved'; reason: string | null; windows: readonly unknown[] };
}

/** The rest of what a level is judged on. */
export interface LevelContext {
  kind: ScenarioKind;
  /** The level's planned measured seconds (duration_s is less when the run was cut short). */
  planned_s: number;
  /** The level's percentile thresholds and their decisions. */
  gates: { expression: string; decision: GateDecision }[];
  /** The run lost its server. */
  incomplete?: boolean;
}

/** Counted scenarios send a number of requests, not for a time: no minimum duration there. */
const COUNTED: readonly ScenarioKind[] = ['smoke', 'coldstart'];
/** Open loop where arrivals can be dropped (mix: with MIX_LOOP=open; a closed mix drops none, so its count stays 0). */
const OPEN_LOOP: readonly ScenarioKind[] = ['rate', 'capacity', 'mix'];

/** Seconds rounded up to a duration a user would type: 5 s steps to a minute, 10 s to 10 minutes, then minutes. */
export function niceDuration(s: number): string {
  if (s <= 60) return `${Math.max(5, Math.ceil(s / 5) * 5)}s`;
  if (s <= 600) return `${Math.ceil(s / 10) * 10}s`;
  return `${Math.ceil(s / 60)}m`;
}

/** The knob that sets how long a level of this kind is measured. */
const durationKnob = (kind: ScenarioKind): string => (kind === 'capacity' ? 'STEP' : 'DURATION');

/**
 * The setting that gets `samples` samples at a level whose sub-metric gathered `rate` per second:
 * "DURATION=130s at the observed 2.67/s" (10 % margin: the rate of the next run varies), or for counted
 * scenarios the count itself. Null when nothing was observed to extrapolate from.
 */
export function sampleAdvice(kind: ScenarioKind, level: string, samples: number, rate: number): string | null {
  if (kind === 'smoke') return `SMOKE_REQUESTS=${samples}`;
  if (kind === 'coldstart') return level === 'first' ? 'the first request is one sample per server start: judge it over repeated runs' : `REQUESTS=${samples + 1}`;
  if (!(rate > 0)) return null;
  return `${durationKnob(kind)}=${niceDuration((samples / rate) * 1.1)} at the observed ${+rate.toPrecision(3)}/s`;
}

/**
 * VALID, or INVALID with every reason and the advice that fixes it: no accepted requests; a
 * thresholded percentile with fewer samples than its one-sided 95 % bound needs (minSamplesFor: 299
 * for p(99)<X, 5 for p(50)>=X); measured for less than MIN_DURATION (timed scenarios); arrivals
 * dropped (open-loop scenarios: their latency is missing from the percentiles, coordinated omission);
 * the server lost before the level's end; its last 3 windows disagree (unstable, lib/stability.ts).
 */
export function validityOf(row: LevelFigures, ctx: LevelContext, judging: Pick<Judging, 'min_duration_s'> = DEFAULT_JUDGING): Validity {
  const reasons: ValidityReason[] = [];
  const counted = COUNTED.includes(ctx.kind);
  if (ctx.incomplete && row.duration_s < ctx.planned_s) {
    reasons.push({ code: 'incomplete', detail: `the server was lost ${+row.duration_s.toFixed(1)} s into this level's ${ctx.planned_s} s`, advice: 'fix what stopped the server (server.log, INCOMPLETE) and run again' });
  }
  if (row.requests === 0) reasons.push({ code: 'no_samples', detail: 'no accepted requests', advice: 'see the refused and failed columns and server.log' });
  const rateOf = (n: number): number => (row.duration_s > 0 ? n / row.duration_s : 0);
  for (const g of ctx.gates) {
    const d = g.decision;
    if (d.n >= d.min_samples) continue;
    const advice = sampleAdvice(ctx.kind, row.level, d.min_samples, rateOf(d.n)) ?? `${d.min_samples} samples`;
    reasons.push({ code: 'too_few_samples', detail: `${g.expression} needs >= ${d.min_samples} samples for its ${conf(d.confidence)} ${d.side} bound, has ${d.n}`, advice });
  }
  if (!counted && row.duration_s < judging.min_duration_s && !(ctx.incomplete && row.duration_s < ctx.planned_s)) {
    reasons.push({ code: 'too_short', detail: `measured ${row.duration_s} s, under MIN_DURATION=${judging.min_duration_s}s`, advice: `${durationKnob(ctx.kind)}=${niceDuration(judging.min_duration_s)}` });
  }
  if (OPEN_LOOP.includes(ctx.kind) && (row.dropped ?? 0) > 0) {
    reasons.push({
      code: 'dropped_arrivals',
      detail: `k6 dropped ${ctx.kind === 'capacity' ? 'about ' : ''}${row.dropped} arrival(s) for want of a free VU: the slowest would-be requests are missing from the percentiles`,
      advice: ctx.kind === 'capacity' ? 'raise MAX_VUS, or end RATES below this step' : ctx.kind === 'mix' ? "raise MAX_VUS, or lower this stream's rate in MIX to what the server sustains beside the others" : 'raise MAX_VUS, or lower RATE to what the server sustains (SCENARIO=capacity finds it)',
    });
  }
  // Unstable (perf_analyzer: the last 3 windows disagree). Not repeated when the level had no requests
  // or was cut short: those reasons already say why its windows differ.
  const st = row.stability;
  if (st && !st.stable && row.requests > 0 && !(ctx.incomplete && row.duration_s < ctx.planned_s)) {
    const longer = `${durationKnob(ctx.kind)}=${niceDuration(Math.max(2 * ctx.planned_s, judging.min_duration_s))}`;
    // Unresolved: the windows differ only within their sampling error, so more requests per window
    // decide it; unstable: the level did change, so it needs time to settle.
    const unresolved = st.verdict === 'unresolved';
    reasons.push({
      code: unresolved ? 'stability_unresolved' : 'unstable',
      detail: `${unresolved ? 'stability unresolved' : 'unstable'}: ${st.reason ?? 'its last windows disagree'}`,
      advice:
        st.windows.length < 3
          ? 'STABILITY_WINDOWS=5'
          : unresolved
            ? `a longer ${durationKnob(ctx.kind)} (e.g. ${longer}), so each window holds more requests; or STABILITY_MAX_DURATION to extend until stable`
            : `a longer ${durationKnob(ctx.kind)} (e.g. ${longer}) or more WARMUP, so the level settles before its last windows; or a quieter host`,
    });
  }
  return { verdict: reasons.length === 0 ? 'VALID' : 'INVALID', reasons };
}

/** One line per level for summary.txt. */
export function validityText(v: Validity): string {
  return v.verdict === 'VALID' ? 'VALID' : `INVALID: ${v.reasons.map((r) => `${r.detail} -> ${r.advice}`).join('; ')}`;
}

// Stability of a level's measured phase, after perf_analyzer (which reports only once its last three
// measurement windows agree within a tolerance). k6's handleSummary sees aggregates only, so each
// measured request of a timed level carries a `window` tag (its window within the level, by send
// time: floor(seconds since the level started / window length)), and one informational threshold
// per window (`med>=0` on the accepted latency of that window) makes k6 compute each window's
// sub-metric: its count (requests/s) and median (p50). The merge of N runners rebuilds the same
// sub-metrics from the samples (the tag is in them). Pure TypeScript (both runtimes).
import { stability } from './confidence.ts';
import { selector, type Thresholds } from './bounds.ts';
import type { Plan, ScenarioKind } from './scenarios.ts';

/** The windows perf_analyzer judges: the last 3. */
export const JUDGED_WINDOWS = 3;

/**
 * The timed scenarios whose levels are judged in windows. Not smoke and coldstart (they send a number
 * of requests, not for a time), nor capacity: its staircase steps are short (DURATION / RATES, a few
 * seconds each) and meant to be passed through, so windows of a step would hold a handful of requests.
 */
export const WINDOWED: readonly ScenarioKind[] = ['concurrency', 'sweep', 'rate', 'overload', 'soak', 'batch'];

/** Windows per level of this plan: `windows` for a timed scenario, 0 (not judged) otherwise. */
export function windowsOf(kind: ScenarioKind, windows: number): number {
  return WINDOWED.includes(kind) && windows > 0 ? windows : 0;
}

/** The window (0 .. windows-1) of a request sent `elapsed_s` into a level of `level_s`; clamped at
 * both ends (k6 lets an iteration started before the end run past it). */
export function windowIndex(elapsed_s: number, level_s: number, windows: number): number {
  if (!(windows > 0) || !(level_s > 0)) return 0;
  const i = Math.floor((elapsed_s / level_s) * windows);
  return Math.min(windows - 1, Math.max(0, Number.isFinite(i) ? i : 0));
}

/** The per-window selector of an implementation's level: accepted latency of window `w`. */
export function windowSelector(impl: string, level: string, w: number): string {
  return selector('http_req_duration', { impl, level, phase: 'measure', expected_response: 'true', window: String(w) });
}

/** Informational thresholds (`med>=0`, never a verdict) that make k6 compute each window's sub-metric. */
export function windowThresholds(plan: Pick<Plan, 'kind' | 'levels'>, impls: readonly string[], windows: number): Thresholds {
  const n = windowsOf(plan.kind, windows);
  const t: Thresholds = {};
  for (const impl of impls) for (const level of plan.levels) for (let w = 0; w < n; w++) t[windowSelector(impl, level.tag, w)] = ['med>=0'];
  return t;
}

/** One window's figures in summary.json. */
export interface WindowRow {
  /** Accepted requests sent in the window, per second of it. */
  rps: number;
  p50_ms: number;
  /** Accepted requests sent in the window. */
  n: number;
}

/** summary.json levels[].stability. */
export interface LevelStability {
  windows: WindowRow[];
  /** The last 3 windows agree within `tolerance` (requests/s and p50 both). */
  stable: boolean;
  /** max / min - 1 over the judged windows, per figure (null: not finite, a window without requests). */
  spread: { rps: number | null; p50: number | null };
  /** As a fraction (0.1: 10 %). */
  tolerance: number;
  /** The windows judged (0-based, inclusive). */
  from: number;
  to: number;
  /** Why not stable, in words; null when stable. */
  reason: string | null;
}

const round = (v: number, digits = 3): number => (Number.isFinite(v) ? +v.toFixed(digits) : 0);

/**
 * A level's stability from its windows' accepted counts and medians (`windows[i]` undefined: k6
 * reported no such sub-metric, counted as an empty window). Each window lasts level_s / windows.length.
 */
export function levelStability(windows: readonly ({ n: number; p50: number } | undefined)[], level_s: number, tolerance: number): LevelStability {
  const window_s = windows.length > 0 ? level_s / windows.length : 0;
  const rows: WindowRow[] = windows.map((w) => ({ rps: w && window_s > 0 ? round(w.n / window_s) : 0, p50_ms: w && w.n > 0 ? round(w.p50) : 0, n: w?.n ?? 0 }));
  // A window without accepted requests has no p50: NaN makes its spread infinite (unstable).
  const s = stability(rows.map((r) => ({ rps: r.rps, p50: r.n > 0 ? r.p50_ms : NaN })), JUDGED_WINDOWS, tolerance);
  const finite = (x: number): number | null => (Number.isFinite(x) ? round(x, 4) : null);
  const empty = rows.map((r, i) => (i >= s.from && r.n === 0 ? i : -1)).filter((i) => i >= 0);
  const reason = s.stable || empty.length === 0 || s.to - s.from + 1 < JUDGED_WINDOWS ? s.reason : `no accepted requests in window${empty.length > 1 ? 's' : ''} ${empty.join(', ')} of ${s.from}-${s.to}`;
  return { windows: rows, stable: s.stable, spread: { rps: finite(s.spread.rps), p50: finite(s.spread.p50) }, tolerance, from: s.from, to: s.to, reason };
}

/** For summary.txt's validity line: "stable: last 3 of 5 windows within 10% (req/s 2.1%, p50 3.4%)". */
export function stabilityText(s: LevelStability): string {
  const pct = (x: number | null): string => (x === null ? 'inf' : `${+(x * 100).toFixed(1)}%`);
  if (!s.stable) return `unstable: ${s.reason}`;
  return `stable: last ${s.to - s.from + 1} of ${s.windows.length} windows within ${pct(s.tolerance)} (req/s ${pct(s.spread.rps)}, p50 ${pct(s.spread.p50)})`;
}

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
export const WINDOWED: readonly ScenarioKind[] = ['concurrency', 'sweep', 'rate', 'overload', 'soak', 'batch', 'mix'];

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

/** A window's accepted count and median, with the 95 % interval of that median when k6 reported the
 * quantile grid for it (lib/quantile-grid.ts); undefined: k6 reported no such sub-metric. */
export type WindowInput = { n: number; p50: number; p50Lower?: number | null; p50Upper?: number | null } | undefined;

/**
 * stable: the last 3 windows agree within the tolerance. unstable: they disagree by more than the
 * tolerance even at the most favourable ends of their 95 % intervals (the level did change). unresolved:
 * they disagree, but within their sampling error: windows of a few requests cannot tell, so the level is
 * neither called stable nor blamed (perf_analyzer would keep measuring; STABILITY_MAX_DURATION does).
 */
export type StabilityVerdict = 'stable' | 'unstable' | 'unresolved';

/** summary.json levels[].stability. */
export interface LevelStability {
  windows: WindowRow[];
  /** The last 3 windows agree within `tolerance` (requests/s and p50 both). */
  stable: boolean;
  /** stable, unstable or unresolved (absent in summaries written before it: read !stable as unstable). */
  verdict?: StabilityVerdict;
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
export function levelStability(windows: readonly WindowInput[], level_s: number, tolerance: number): LevelStability {
  const window_s = windows.length > 0 ? level_s / windows.length : 0;
  const rows: WindowRow[] = windows.map((w) => ({ rps: w && window_s > 0 ? round(w.n / window_s) : 0, p50_ms: w && w.n > 0 ? round(w.p50) : 0, n: w?.n ?? 0 }));
  // A window without accepted requests has no p50: NaN makes its spread infinite (unstable).
  const s = stability(rows.map((r) => ({ rps: r.rps, p50: r.n > 0 ? r.p50_ms : NaN })), JUDGED_WINDOWS, tolerance);
  const finite = (x: number): number | null => (Number.isFinite(x) ? round(x, 4) : null);
  const empty = rows.map((r, i) => (i >= s.from && r.n === 0 ? i : -1)).filter((i) => i >= 0);
  const judgedAll = s.to - s.from + 1 >= JUDGED_WINDOWS;
  const emptyReason = s.stable || empty.length === 0 || !judgedAll ? null : `no accepted requests in window${empty.length > 1 ? 's' : ''} ${empty.join(', ')} of ${s.from}-${s.to}`;
  const verdict: StabilityVerdict = s.stable ? 'stable' : emptyReason || !judgedAll ? 'unstable' : confidentVerdict(windows.slice(s.from, s.to + 1), window_s, tolerance);
  const reason = emptyReason ?? (verdict === 'unresolved' ? `${s.reason}, within the sampling error of windows of ${nRange(rows.slice(s.from, s.to + 1))} requests` : s.reason);
  return { windows: rows, stable: s.stable, verdict, spread: { rps: finite(s.spread.rps), p50: finite(s.spread.p50) }, tolerance, from: s.from, to: s.to, reason };
}

const nRange = (rows: readonly WindowRow[]): string => {
  const ns = rows.map((r) => r.n);
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
};

/** z of a two-sided 95 % normal interval: the accepted count of a window read as Poisson (n +- z sqrt(n)). */
const Z95 = 1.96;

/**
 * Whether judged windows that disagree on their point figures disagree with confidence: for each
 * figure, the highest lower bound over the lowest upper bound exceeds 1 + tolerance. The count of a
 * window is taken as Poisson (a normal interval n +- 1.96 sqrt(n)); the p50's interval is the
 * distribution-free one read off k6's grid. A window without a p50 interval (an older bundle, a
 * merge without the grid) cannot be excused: unstable, as before there were intervals.
 */
function confidentVerdict(judged: readonly WindowInput[], window_s: number, tolerance: number): StabilityVerdict {
  if (judged.some((w) => !w || w.n <= 0 || w.p50Lower == null || w.p50Upper == null)) return 'unstable';
  const ws = judged as readonly NonNullable<WindowInput>[];
  const apart = (lowers: number[], uppers: number[]): boolean => {
    const hiLow = Math.max(...lowers);
    const loHigh = Math.min(...uppers);
    return loHigh > 0 ? hiLow / loHigh - 1 > tolerance : hiLow > 0;
  };
  const rpsApart = apart(ws.map((w) => (w.n - Z95 * Math.sqrt(w.n)) / window_s), ws.map((w) => (w.n + Z95 * Math.sqrt(w.n)) / window_s));
  const p50Apart = apart(ws.map((w) => w.p50Lower!), ws.map((w) => w.p50Upper!));
  return rpsApart || p50Apart ? 'unstable' : 'unresolved';
}

/** For summary.txt's validity line: "stable: last 3 of 5 windows within 10% (req/s 2.1%, p50 3.4%)". */
export function stabilityText(s: LevelStability): string {
  const pct = (x: number | null): string => (x === null ? 'inf' : `${+(x * 100).toFixed(1)}%`);
  if (!s.stable) return `${s.verdict === 'unresolved' ? 'stability unresolved' : 'unstable'}: ${s.reason}`;
  return `stable: last ${s.to - s.from + 1} of ${s.windows.length} windows within ${pct(s.tolerance)} (req/s ${pct(s.spread.rps)}, p50 ${pct(s.spread.p50)})`;
}

// Turns k6's end-of-test data into the run's summary (per implementation and level: latency
// percentiles, requests/s, threshold verdicts) and renders it as text and JUnit XML.
// Pure TypeScript: k6's handleSummary calls it, and the Node orchestrator re-renders after post-processing.
import { levelRps, type Plan } from './scenarios.ts';
import { plannedArrivals } from './load-shapes.ts';
import { poissonScheduled } from './arrivals.ts';
import { textTable } from './text-table.ts';
import { isInformationalThreshold, tallyThresholds } from './informational-threshold.ts';
import { formatQuantileInterval, formatWithInterval, quantileRanks, type QuantileInterval } from './confidence.ts';
import { gridInterval, gridPoints, QUANTILE_GRID, SHOWN_TREND_STATS, statOf, valueAtOrAbove } from './quantile-grid.ts';
import { levelStability, stabilityText, windowsOf, type LevelStability } from './stability.ts';
import { DEFAULT_JUDGING, decideOnGrid, decisionText, sampleAdvice, validityOf, validityText, type GateDecision, type Judging, type Validity } from './verdict.ts';

/** The part of k6's handleSummary `data` this module reads. */
export interface K6SummaryData {
  metrics: Record<string, { type: string; contains?: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state?: { testRunDurationMs?: number };
}

/** A percentile's distribution-free interval at `confidence`, read off k6's quantile grid
 * (lib/quantile-grid.ts); a bound the sample cannot give is null and named in `unbounded`. */
export interface PercentileInterval {
  lower: number | null;
  upper: number | null;
  confidence: number;
  unbounded?: 'lower' | 'upper' | 'both';
}

type Percentile = 'p50' | 'p90' | 'p95' | 'p99';
const PERCENTILE_KEYS: Record<Percentile, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

interface LatencyStats {
  min: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  /** Samples behind the figures (summaries written before the intervals lack it, and `intervals`). */
  n?: number;
  /** Per percentile, its 95 % interval. */
  intervals?: Partial<Record<Percentile, PercentileInterval>>;
}

export interface LevelRow {
  impl: string;
  level: string;
  /** Seconds of measured load behind `rps`. */
  duration_s: number;
  /** Accepted (2xx) measured requests: the only ones behind rps and latency_ms. */
  requests: number;
  rps: number;
  /** Measured requests refused (503, e.g. queue_full) and failed otherwise (4xx/5xx, no answer): never in rps or latency. */
  refused: number;
  failed: number;
  /** refused / all measured requests of the level. */
  refused_ratio: number;
  /** Time to refuse: duration of the refused requests (null when none). */
  refused_latency_ms: LatencyStats | null;
  images_per_request: number;
  images_per_s: number;
  latency_ms: LatencyStats | null;
  /** Open-loop scenarios (rate, capacity): arrivals k6 dropped at this level for want of a free VU
   * (capacity: estimated from the step's planned arrivals, k6 counts them for the whole staircase). */
  dropped?: number;
  /** Open loop: accepted answers' latency from their scheduled arrival, not from the send (lib/k6/schedule.ts). */
  latency_from_schedule_ms?: LatencyStats | null;
  /** Open loop: arrivals the level's schedule planned (rate integrated over its measured seconds). */
  scheduled?: number;
  /** Open loop: accepted answers that came later than the level's SLO, counted from their scheduled arrival. */
  late?: number;
  /** Open loop: (dropped + late) / scheduled, the arrivals that missed the SLO or were never sent. */
  missed_ratio?: number;
  /** Open loop: p99 from schedule over every arrival (answered, dropped, refused, failed), one never
   * answered counted as later than any answer, as LoadGen counts an unanswered query; read at or above
   * its rank on the trend's grid; null when the arrival at that rank got no answer. */
  p99_of_scheduled_ms?: number | null;
  /** VALID or INVALID with reasons and advice (lib/verdict.ts); absent in summaries written before it. */
  validity?: Validity;
  /** Its measured phase in consecutive windows, the last 3 judged (lib/stability.ts); timed scenarios
   * only, absent elsewhere, with STABILITY_WINDOWS=0 and in summaries written before it. */
  stability?: LevelStability;
  /** Goodput (lib/k6/goodput.ts): measured answers accepted, on time and correct; absent in summaries written before it. */
  good?: number;
  /** good per measured second, as rps. */
  goodput_rps?: number;
  /** good / accepted (0 when none was accepted). */
  good_ratio?: number;
  /** Whether "correct" included the in-run output checks (a reference was loaded) or the protocol checks only. */
  outputs_judged?: boolean;
}

interface ThresholdVerdict {
  metric: string;
  expression: string;
  ok: boolean;
  /** A bound that cannot fail (`count>=0`, `max>=0`, ...), declared only so k6 computes the sub-metric:
   * shown, not counted as a verdict (lib/informational-threshold.ts). */
  informational?: true;
  /** A percentile bound on a latency trend, decided with confidence (met / broken / undecided); k6's
   * `ok` above judges the point estimate and stays as k6 gave it. */
  decision?: GateDecision;
}

/** One post-run step's verdict (tools/bench/post-run.ts: accuracy replay, capacity, batch, memory, coldstart). */
export interface PostRunResult {
  name: string;
  passed: boolean;
  lines: string[];
  /** A pre-rendered table for summary.txt (e.g. the accuracy table). */
  table?: string;
}

export interface Summary {
  scenario: string;
  kind: string;
  unit: string;
  impls: string[];
  test_duration_s: number;
  levels: LevelRow[];
  warmup: { requests: number; latency_ms: LatencyStats | null };
  dropped_iterations: number;
  thresholds: ThresholdVerdict[];
  thresholds_ok: boolean;
  capacity?: { slo_p99_ms: number; max_rps_under_slo: number | null };
  /** The post-run steps' verdicts; the field keeps its name so summary.json keeps its shape. */
  postprocess: PostRunResult[];
  /** Set when the run lost its server (make bench's watchdog): the figures cover only what ran before. */
  incomplete?: { reason: string };
  /** Every metric and sub-metric k6 reported, values as k6 gave them (a trend's quantile grid left out). */
  metrics: Record<string, Record<string, number>>;
  /** How the intervals, decisions and validity were judged (absent in summaries written before them). */
  judging?: Judging;
}

const num = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0);

const roundOrNull = (v: number | null): number | null => (v === null ? null : num(v));

/** A trend's figures; with its sample count (k6's `count`, else `n`), each percentile's interval from the grid. */
function latency(values: Record<string, number> | undefined, n?: number, confidence = DEFAULT_JUDGING.confidence): LatencyStats | null {
  if (!values) return null;
  const out: LatencyStats = { min: num(values['min']), avg: num(values['avg']), p50: num(values['med'] ?? values['p(50)']), p90: num(values['p(90)']), p95: num(values['p(95)']), p99: num(values['p(99)']), max: num(values['max']) };
  const count = typeof values['count'] === 'number' ? values['count'] : n;
  if (count === undefined || !(count > 0)) return out;
  const points = gridPoints(values);
  out.n = count;
  out.intervals = {};
  for (const [key, p] of Object.entries(PERCENTILE_KEYS) as [Percentile, number][]) {
    const ci = gridInterval(points, count, p, confidence);
    out.intervals[key] = { lower: roundOrNull(ci.lower), upper: roundOrNull(ci.upper), confidence, ...(ci.unbounded ? { unbounded: ci.unbounded } : {}) };
  }
  return out;
}

/** The stored interval of one percentile as lib/confidence.ts's QuantileInterval (formatQuantileInterval prints it). */
function storedInterval(l: LatencyStats, key: Percentile): QuantileInterval | null {
  const ci = l.intervals?.[key];
  if (!ci || !l.n) return null;
  const r = quantileRanks(l.n, PERCENTILE_KEYS[key], ci.confidence);
  return { ...r, estimate: l[key], lower: ci.lower, upper: ci.upper, unbounded: ci.unbounded ?? null };
}

/** A table cell: "3250 [3150, 3330]" (digits as the interval allows), ">= 3150" or "<= 40" when
 * only one bound exists, "unbounded" when none; the point value alone when there is no interval. */
function intervalCell(l: LatencyStats | null, key: Percentile): string {
  if (!l) return '-';
  const ci = storedInterval(l, key);
  if (!ci) return String(l[key]);
  if (ci.unbounded === null) return formatWithInterval(ci.estimate, ci.lower!, ci.upper!);
  return formatQuantileInterval(ci).replace(/ \(.*$/, '');
}

/** A percentile in words for a line of text: "154 ms [140, 167]", or the bound there is and why the
 * other is missing (formatQuantileInterval); the point value alone in summaries written before intervals. */
export function percentileText(l: LatencyStats | null | undefined, key: Percentile, unit = 'ms'): string {
  if (!l) return '-';
  const ci = storedInterval(l, key);
  return ci ? formatQuantileInterval(ci, unit) : `${l[key]} ${unit}`;
}

/** Splits `metric{a:1,b:2}` into its name and tags. */
export function parseSelector(key: string): { metric: string; tags: Record<string, string> } {
  const open = key.indexOf('{');
  if (open < 0) return { metric: key, tags: {} };
  const tags: Record<string, string> = {};
  for (const pair of key.slice(open + 1, -1).split(',')) {
    const i = pair.indexOf(':');
    if (i > 0) tags[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return { metric: key.slice(0, open), tags };
}

function findMetric(data: K6SummaryData, metric: string, tags: Record<string, string>): Record<string, number> | undefined {
  for (const [key, m] of Object.entries(data.metrics)) {
    const p = parseSelector(key);
    if (p.metric !== metric) continue;
    const keys = Object.keys(tags);
    if (keys.length === Object.keys(p.tags).length && keys.every((k) => p.tags[k] === tags[k])) return m.values;
  }
  return undefined;
}

/** The trend statistics shown per metric: k6's values without the quantile grid (which only feeds the intervals). */
const GRID_ONLY = new Set(QUANTILE_GRID.map(statOf).filter((k) => !(SHOWN_TREND_STATS as readonly string[]).includes(k)));
const shownValues = (values: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(values).filter(([k]) => !GRID_ONLY.has(k)));

/** The sample count of a trend sub-metric: k6's `count` (summaryTrendStats asks for it), else the
 * accepted count of its level for the accepted-latency selector, the refused count for status 503. */
function trendCount(values: Record<string, number>, tags: Record<string, string>, levels: LevelRow[]): number | undefined {
  if (typeof values['count'] === 'number') return values['count'];
  const row = levels.find((r) => r.impl === tags['impl'] && r.level === tags['level']);
  if (!row || tags['phase'] !== 'measure') return undefined;
  if (tags['status'] === '503') return row.refused;
  return tags['expected_response'] === 'true' && tags['status'] === undefined ? row.requests : undefined;
}

/** A level's goodput fields from requests_good (none when the run did not count it). */
function goodputOf(data: K6SummaryData, impl: string, level: Plan['levels'][number], accepted: number): Pick<LevelRow, 'good' | 'goodput_rps' | 'good_ratio' | 'outputs_judged'> {
  const values = findMetric(data, 'requests_good', { impl, level: level.tag, phase: 'measure' });
  if (!values) return {};
  const good = num(values['count']);
  // The in-run output checks ran when k6 reported output_match for this implementation (REFERENCE set).
  const outputs_judged = Object.keys(data.metrics).some((k) => {
    const p = parseSelector(k);
    return p.metric === 'output_match' && p.tags['impl'] === impl;
  });
  return { good, goodput_rps: num(levelRps(level, good)), good_ratio: accepted > 0 ? num(good / accepted) : 0, outputs_judged };
}

/** A level's stability from its window sub-metrics (lib/stability.ts), when the plan judges it. */
function stabilityOf(data: K6SummaryData, plan: Plan, impl: string, level: Plan['levels'][number], judge: Judging): Pick<LevelRow, 'stability'> {
  const n = windowsOf(plan.kind, judge.stability_windows ?? 0);
  if (n === 0 || !(level.duration_s > 0)) return {};
  const windows = Array.from({ length: n }, (_, w) => {
    const values = findMetric(data, 'http_req_duration', { impl, level: level.tag, phase: 'measure', expected_response: 'true', window: String(w) });
    if (!values || typeof values['count'] !== 'number') return undefined;
    // The median's 95 % interval off k6's grid: what tells a real change from a few requests' noise.
    const ci = values['count'] > 0 ? gridInterval(gridPoints(values), values['count'], 0.5) : undefined;
    return { n: values['count'], p50: values['med'] ?? values['p(50)'] ?? NaN, p50Lower: ci?.lower ?? null, p50Upper: ci?.upper ?? null };
  });
  // No window reported at all: k6 ran without the window tags (STABILITY_WINDOWS=0 there, an older bundle): not judged.
  if (windows.every((x) => x === undefined)) return {};
  return { stability: levelStability(windows, level.duration_s, judge.stability_tolerance ?? DEFAULT_JUDGING.stability_tolerance!) };
}

/**
 * Arrivals k6 dropped, per level, in open-loop plans. k6 counts dropped_iterations for the whole
 * test (its samples carry no level): a single level gets them all; the capacity staircase's steps
 * get each an estimate, its planned arrivals (rate x seconds) less the requests it sent, capped by
 * k6's total.
 */
function droppedPerLevel(plan: Plan, levels: LevelRow[], total: number): void {
  if (plan.unit !== 'rps') return;
  const perImpl = plan.levels.length;
  for (const row of levels) {
    if (perImpl === 1) row.dropped = total;
    else {
      const level = plan.levels.find((l) => l.tag === row.level);
      const sent = row.requests + row.refused + row.failed;
      const missing = level ? Math.round(level.value * level.duration_s - sent) : 0;
      // A ramp of 100 ms between steps leaves a few arrivals short of the plan: not a drop.
      row.dropped = total > 0 && level && missing > Math.max(1, 0.02 * level.value * level.duration_s) ? Math.min(total, missing) : 0;
    }
  }
}

/**
 * Open-loop levels' latency from the schedule, planned arrivals and the missed share: the dropped
 * arrivals (droppedPerLevel) and the answers late against the SLO from their scheduled start are
 * both misses, over the arrivals the level planned. Left out where k6 reported no schedule metrics.
 */
function fromSchedulePerLevel(data: K6SummaryData, plan: Plan, levels: LevelRow[], confidence: number): void {
  if (plan.unit !== 'rps') return;
  for (const row of levels) {
    const tags = { impl: row.impl, level: row.level, phase: 'measure' };
    const trend = findMetric(data, 'latency_from_schedule', tags);
    const late = findMetric(data, 'late_from_schedule', tags);
    if (!trend && !late) continue;
    const level = plan.levels.find((l) => l.tag === row.level);
    const shape = level && (Object.values(plan.k6Scenarios).find((sc) => sc.env['LEVEL'] === level.tag) ?? Object.values(plan.k6Scenarios)[0]);
    const own = shape?.env['LEVEL'] === level?.tag;
    const upTo = (t: number) => (shape ? (plannedArrivals(shape, t) ?? 0) : 0);
    // Poisson lanes: the arrivals they drew (the same seeds as in k6), not the expected count.
    const scheduled = !level ? 0 : plan.arrivals === 'poisson' ? poissonScheduled(level.value, level.duration_s, shape?.vus ?? 1, plan.levels.indexOf(level)) : Math.round(own ? upTo(level.duration_s) : upTo(level.start_s + level.duration_s) - upTo(level.start_s));
    row.latency_from_schedule_ms = trend ? latency(trend, undefined, confidence) : null;
    row.scheduled = scheduled;
    row.late = num(late?.['passes']);
    row.missed_ratio = scheduled > 0 ? num(Math.min(1, ((row.dropped ?? 0) + row.late) / scheduled)) : 0;
    const answered = typeof trend?.['count'] === 'number' ? trend['count'] : 0;
    // Over the arrivals known: answered, dropped, refused, failed (not the planned count, which k6's
    // ticks at a step's edges may miss by one without dropping anything).
    const rank = Math.ceil(0.99 * (answered + (row.dropped ?? 0) + row.refused + row.failed));
    const at = trend && answered > 0 && rank <= answered ? valueAtOrAbove(gridPoints(trend), answered, rank) : null;
    row.p99_of_scheduled_ms = at === null ? null : num(at);
  }
}

/**
 * Each level's validity (lib/verdict.ts validityOf) from its row and the decisions of its percentile
 * thresholds. buildSummary calls it; the bench calls it again after cutting a run short at a fault.
 */
export function judgeLevels(s: Summary, plan: Pick<Plan, 'kind' | 'levels'>): void {
  const judging = s.judging ?? DEFAULT_JUDGING;
  for (const row of s.levels) {
    const gates = s.thresholds.flatMap((t) => {
      if (!t.decision) return [];
      const tags = parseSelector(t.metric).tags;
      return tags['impl'] === row.impl && tags['level'] === row.level ? [{ expression: t.expression, decision: t.decision }] : [];
    });
    const planned_s = plan.levels.find((l) => l.tag === row.level)?.duration_s ?? row.duration_s;
    row.validity = validityOf(row, { kind: plan.kind, planned_s, gates, incomplete: s.incomplete !== undefined }, judging);
  }
}

/** The thresholds k6 passed whose decision is undecided, when UNDECIDED=fail makes them failures. */
export function undecidedFailures(s: Summary): ThresholdVerdict[] {
  if ((s.judging ?? DEFAULT_JUDGING).undecided !== 'fail') return [];
  return s.thresholds.filter((t) => t.ok && t.decision?.verdict === 'undecided');
}

export function buildSummary(data: K6SummaryData, plan: Plan, impls: string[], capacitySloMs?: number, judging: Partial<Judging> = {}): Summary {
  const judge: Judging = { ...DEFAULT_JUDGING, ...judging };
  const levels: LevelRow[] = [];
  for (const impl of impls) {
    for (const level of plan.levels) {
      const tags = { impl, level: level.tag, phase: 'measure' };
      const accepted = { ...tags, expected_response: 'true' };
      const requests = num(findMetric(data, 'http_reqs', accepted)?.['count']);
      const refused = num(findMetric(data, 'requests_refused', tags)?.['passes']);
      const failed = num(findMetric(data, 'requests_failed', tags)?.['passes']);
      const all = requests + refused + failed;
      const perRequest = plan.imagesPerRequest(level);
      const rps = num(levelRps(level, requests));
      levels.push({
        impl,
        level: level.tag,
        duration_s: level.duration_s,
        requests,
        rps,
        refused,
        failed,
        refused_ratio: all > 0 ? num(refused / all) : 0,
        refused_latency_ms: refused > 0 ? latency(findMetric(data, 'http_req_duration', { ...tags, status: '503' }), refused, judge.confidence) : null,
        images_per_request: perRequest,
        images_per_s: num(rps * perRequest),
        latency_ms: requests > 0 ? latency(findMetric(data, 'http_req_duration', accepted), requests, judge.confidence) : null,
        ...goodputOf(data, impl, level, requests),
        ...stabilityOf(data, plan, impl, level, judge),
      });
    }
  }
  const dropped = num(data.metrics['dropped_iterations']?.values['count']);
  droppedPerLevel(plan, levels, dropped);
  fromSchedulePerLevel(data, plan, levels, judge.confidence);
  const thresholds: ThresholdVerdict[] = [];
  for (const [metric, m] of Object.entries(data.metrics)) {
    for (const [expression, v] of Object.entries(m.thresholds ?? {})) {
      const informational = v.ok && isInformationalThreshold(expression);
      const parsed = parseSelector(metric);
      // Latency bounds (http_req_duration and its sub-metrics) get a decision with confidence.
      const n = !informational && m.type === 'trend' && parsed.metric === 'http_req_duration' ? trendCount(m.values, parsed.tags, levels) : undefined;
      const d = n !== undefined ? decideOnGrid(m.values, n, expression, judge.confidence) : null;
      const decision = d ? { ...d, lower: roundOrNull(d.lower), upper: roundOrNull(d.upper) } : null;
      thresholds.push({ metric, expression, ok: v.ok, ...(informational ? { informational: true as const } : {}), ...(decision ? { decision } : {}) });
    }
  }
  thresholds.sort((a, b) => (a.metric + a.expression).localeCompare(b.metric + b.expression));
  const summary: Summary = {
    scenario: plan.name,
    kind: plan.kind,
    unit: plan.unit,
    impls,
    test_duration_s: num((data.state?.testRunDurationMs ?? 0) / 1000),
    levels,
    warmup: { requests: num(findMetric(data, 'http_reqs', { phase: 'warmup' })?.['count']), latency_ms: latency(findMetric(data, 'http_req_duration', { phase: 'warmup' }), num(findMetric(data, 'http_reqs', { phase: 'warmup' })?.['count']) || undefined, judge.confidence) },
    dropped_iterations: dropped,
    thresholds,
    thresholds_ok: thresholds.every((t) => t.ok),
    postprocess: [],
    metrics: Object.fromEntries(Object.entries(data.metrics).map(([k, m]) => [k, m.type === 'trend' ? shownValues(m.values) : m.values])),
    judging: judge,
  };
  if (plan.kind === 'capacity' && capacitySloMs !== undefined) summary.capacity = { slo_p99_ms: capacitySloMs, max_rps_under_slo: capacityUnderSlo(levels, capacitySloMs) };
  judgeLevels(summary, plan);
  return summary;
}

/** Highest offered rate whose measured p99 stayed under the SLO (null when even the first step broke it). */
export function capacityUnderSlo(rows: LevelRow[], sloMs: number): number | null {
  let best: number | null = null;
  for (const r of rows) if (r.requests > 0 && r.latency_ms && r.latency_ms.p99 < sloMs) best = Math.max(best ?? 0, Number(r.level));
  return best;
}

/** What an undecided threshold does to the run, in words. */
const POLICY_TEXT = { pass: "UNDECIDED=pass: k6's own verdict stands", fail: 'UNDECIDED=fail: an undecided threshold fails the run (exit 99)' } as const;

/** A threshold's decision in words, with the knob that would get the samples it needs. */
function thresholdDecisionText(s: Summary, t: ThresholdVerdict): string | null {
  if (!t.decision) return null;
  const tags = parseSelector(t.metric).tags;
  const row = s.levels.find((r) => r.impl === tags['impl'] && r.level === tags['level']);
  const rate = row && row.duration_s > 0 ? t.decision.n / row.duration_s : 0;
  const threshold = /(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i.exec(t.expression)?.[1] ?? '';
  return decisionText(t.decision, Number(threshold), 'ms', (n) => (row ? sampleAdvice(s.kind as Plan['kind'], row.level, n, rate) : null));
}

export function summaryText(s: Summary): string {
  const lines: string[] = [];
  if (s.incomplete) lines.push(`INCOMPLETE: ${s.incomplete.reason}; the figures cover only what ran before`);
  lines.push(`scenario ${s.scenario} (${s.kind}, level = ${s.unit}) on ${s.impls.join(', ')}: ${s.test_duration_s} s`);
  lines.push(`warm-up: ${s.warmup.requests} request(s) excluded from the figures below`);
  // Figures of accepted (2xx) requests; refused (503) and failed requests in their own columns. Only
  // p50 and p99 here, each with its interval (the others are in summary.json); images/s only where a
  // request carries several, the refusals' share and time only where there were refusals.
  const images = s.levels.some((r) => r.images_per_request !== 1);
  const refusals = s.kind === 'overload' || s.levels.some((r) => (r.refused ?? 0) > 0);
  const confidence = s.judging?.confidence ?? DEFAULT_JUDGING.confidence;
  const ci = `[${+(confidence * 100).toFixed(4)}% CI]`;
  const goodput = s.levels.some((r) => r.goodput_rps !== undefined);
  const head = ['impl', 'level', 'accepted', 'req/s', ...(goodput ? ['good/s (%)'] : []), ...(images ? ['img/s'] : []), `p50 ms ${ci}`, `p99 ms ${ci}`, 'max ms', 'refused', ...(refusals ? ['refused %', 'refuse p99 ms'] : []), 'failed', 'validity'];
  const rows = s.levels.map((r) => [
    r.impl,
    r.level,
    String(r.requests),
    String(r.rps),
    ...(goodput ? [r.goodput_rps === undefined ? '-' : `${r.goodput_rps} (${Math.round((r.good_ratio ?? 0) * 1000) / 10})`] : []),
    ...(images ? [String(r.images_per_s)] : []),
    intervalCell(r.latency_ms, 'p50'),
    intervalCell(r.latency_ms, 'p99'),
    r.latency_ms ? String(+r.latency_ms.max.toPrecision(4)) : '-',
    String(r.refused ?? 0),
    ...(refusals ? [String(Math.round((r.refused_ratio ?? 0) * 1000) / 10), intervalCell(r.refused_latency_ms, 'p99')] : []),
    String(r.failed ?? 0),
    r.validity?.verdict ?? '-',
  ]);
  lines.push(...textTable([head, ...rows], 'll'));
  if (goodput) {
    const judged = s.levels.filter((r) => r.goodput_rps !== undefined).every((r) => r.outputs_judged);
    lines.push(`good/s: accepted, on time (within the level's SLO) and correct; (%) of accepted${judged ? '' : '; no REFERENCE: outputs not judged, correct = protocol checks'}`);
  }
  if (s.levels.some((r) => r.latency_ms?.intervals)) {
    lines.push(`accepted requests' latency: estimate [${ci.slice(1, -1)}], distribution-free (order statistics); p90, p95, min, avg in summary.json`);
  }
  // A percentile the sample cannot bound says so in words, once per row.
  for (const r of s.levels) {
    for (const key of ['p50', 'p99'] as const) {
      const q = r.latency_ms ? storedInterval(r.latency_ms, key) : null;
      if (q && q.unbounded !== null) lines.push(`  ${r.impl} ${r.level} ${key}: ${formatQuantileInterval(q, 'ms')}`);
    }
  }
  // The stability of a VALID level on the same line; an unstable one says so among its reasons.
  for (const r of s.levels) if (r.validity) lines.push(`validity ${r.impl} ${r.level}: ${validityText(r.validity)}${r.validity.verdict === 'VALID' && r.stability ? ` (${stabilityText(r.stability)})` : ''}`);
  if (s.dropped_iterations > 0 || s.kind === 'rate' || s.kind === 'capacity' || s.kind === 'mix') lines.push(`dropped iterations: ${s.dropped_iterations}`);
  // Open loop: p99 from the send (k6's http_req_duration) beside p99 from the scheduled arrival, and the misses.
  for (const r of s.levels) {
    if (r.scheduled === undefined) continue;
    const all = r.p99_of_scheduled_ms === undefined ? '' : `, ${r.p99_of_scheduled_ms === null ? 'not answered' : `<= ${+r.p99_of_scheduled_ms.toPrecision(4)} ms`} over all arrivals`;
    lines.push(`from schedule ${r.impl} ${r.level}: p99 ${intervalCell(r.latency_ms, 'p99')} ms from send, ${intervalCell(r.latency_from_schedule_ms ?? null, 'p99')} ms from scheduled arrival${all}; missed ${r.dropped ?? 0} dropped + ${r.late ?? 0} late (${Math.round((r.missed_ratio ?? 0) * 1000) / 10}%)`);
  }
  if (s.capacity) lines.push(`capacity: highest rate with p99 < ${s.capacity.slo_p99_ms} ms: ${s.capacity.max_rps_under_slo ?? 'none'} req/s`);
  const tally = tallyThresholds(s.thresholds);
  const info = tally.informational.length;
  lines.push(`thresholds: ${tally.passed.length}/${tally.verdicts.length} passed${info > 0 ? ` (${info} informational sub-metric${info === 1 ? '' : 's'} not counted)` : ''}`);
  for (const t of tally.verdicts) {
    const d = thresholdDecisionText(s, t);
    lines.push(`  ${t.ok ? 'ok  ' : 'FAIL'} ${t.metric}: ${t.expression}`);
    if (d) lines.push(`       ${d}`);
  }
  // The stability windows' sub-metrics are many and shown as each level's stability: not one line each.
  for (const t of tally.informational) if (parseSelector(t.metric).tags['window'] === undefined) lines.push(`  info ${t.metric}: ${t.expression} (cannot fail: declared so k6 reports the sub-metric)`);
  const decided = s.thresholds.filter((t) => t.decision);
  if (decided.length > 0) {
    const count = (v: string) => decided.filter((t) => t.decision!.verdict === v).length;
    const policy = (s.judging ?? DEFAULT_JUDGING).undecided;
    lines.push(`latency thresholds at ${+(confidence * 100).toFixed(4)}% confidence: ${count('met')} met, ${count('broken')} broken, ${count('undecided')} undecided${count('undecided') > 0 ? ` (${POLICY_TEXT[policy]})` : ''}`);
  }
  for (const p of s.postprocess) {
    lines.push(`post-processing ${p.name}: ${p.passed ? 'passed' : 'FAILED'}`);
    for (const l of p.lines) lines.push(`  ${l}`);
    if (p.table) lines.push(p.table);
  }
  return lines.join('\n') + '\n';
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One test case per threshold that can fail (and per post-processing step), failures carrying the
 * expression; the informational ones are not tests and get no case. A latency threshold k6 passed
 * but confidence leaves undecided is `<skipped>` with UNDECIDED=pass, a failure with UNDECIDED=fail. */
export function junitXml(s: Summary): string {
  const failing = new Set(undecidedFailures(s));
  const cases = [
    ...tallyThresholds(s.thresholds).verdicts.map((t) => {
      const decision = thresholdDecisionText(s, t);
      const undecided = t.ok && t.decision?.verdict === 'undecided';
      return {
        classname: `k6.${s.scenario}`,
        name: `${t.metric}: ${t.expression}`,
        failure: !t.ok ? `threshold ${t.expression} on ${t.metric} failed${decision ? `; ${decision}` : ''}` : failing.has(t) ? `${decision} (UNDECIDED=fail)` : null,
        skipped: undecided && !failing.has(t) ? `${decision} (UNDECIDED=pass: k6's point verdict ok stands)` : null,
        value: s.metrics[t.metric],
      };
    }),
    ...s.postprocess.map((p) => ({ classname: `postprocess.${s.scenario}`, name: p.name, failure: p.passed ? null : p.lines.join('\n'), skipped: null, value: undefined })),
  ];
  const failures = cases.filter((c) => c.failure !== null).length;
  const skipped = cases.filter((c) => c.skipped !== null).length;
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="bench" tests="${cases.length}" failures="${failures}">`, `  <testsuite name="${xml(`${s.scenario} ${s.impls.join(',')}`)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${s.test_duration_s}">`];
  for (const c of cases) {
    const detail = c.value ? `<system-out>${xml(JSON.stringify(c.value))}</system-out>` : '';
    const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}">`;
    if (c.failure !== null) out.push(`${open}<failure message="${xml(c.failure.split('\n')[0] ?? '')}">${xml(c.failure)}</failure>${detail}</testcase>`);
    else if (c.skipped !== null) out.push(`${open}<skipped message="${xml(c.skipped)}"/>${detail}</testcase>`);
    else out.push(`${open}${detail}</testcase>`);
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}


/** The files a run's summary is written as, by name: the one writer behind k6's handleSummary (which
 * returns them) and the Node side (tools/common/summary-files.ts writes them). */
export function summaryFiles(s: Summary): Record<'summary.json' | 'summary.txt' | 'junit.xml', string> {
  return { 'summary.json': JSON.stringify(s, null, 2), 'summary.txt': summaryText(s), 'junit.xml': junitXml(s) };
}

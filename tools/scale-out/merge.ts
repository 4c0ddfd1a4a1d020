// Merges the raw samples of N k6 runners (k6's own `--out json=...json.gz`, one file per runner)
// into the data k6's handleSummary would have received from ONE run over all of them, evaluates
// every declared threshold on it, and hands it to lib/summary.ts's buildSummary: a single and a
// merged run share one summary builder. k6 evaluates thresholds per runner; this is the aggregate.
//
// Reproduces k6 v2's sinks (metrics/sink.go): counter {count, rate = count / test duration}, rate
// {rate = non-zero / all, passes, fails}, trend {avg, min, med, max, p(N)} with k6's linear
// interpolation between sorted samples, gauge {value, min, max} (summed over runners: `vus` of N
// runners is their total). Sub-metrics select samples whose tags contain the selector's tags.
//
// `make bench-merge SAMPLES_DIR=<folder> [MERGE_SPEC=<merge.json>]` runs it on collected files (k6-operator pods).
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { constants, createGunzip } from 'node:zlib';
import { buildSummary, parseSelector, summaryText, undecidedFailures, type K6SummaryData, type Summary } from '../../lib/summary.ts';
import { VERDICT_KNOBS, type Judging } from '../../lib/verdict.ts';
import { planFor, SCENARIO_KNOBS, type Plan } from '../../lib/scenarios.ts';
import type { Thresholds } from '../../lib/bounds.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { duration, INVALID, knob, readKnobs, text } from '../../lib/knobs.ts';
import { runMain } from '../../lib/node/cli.ts';
import { EXIT_POSTPROCESS_FAILED, EXIT_THRESHOLDS_FAILED } from '../../lib/exit-codes.ts';
import { quantileSorted } from '../../lib/stats.ts';
import { writeSummaryFiles } from '../common/summary-files.ts';

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

interface Series {
  tags: Record<string, string>;
  values: number[];
}

/** The samples of one runner's output file. */
export interface RunnerSamples {
  file: string;
  types: Map<string, { type: MetricType; contains: string }>;
  /** Sub-metric names k6 declared in the file (thresholds' selectors, expected_response:true). */
  submetrics: Set<string>;
  /** metric -> tag-set key -> series. */
  series: Map<string, Map<string, Series>>;
  /** Last value per gauge (k6's GaugeSink keeps the last one), and its min and max. */
  gauges: Map<string, { value: number; min: number; max: number }>;
  points: number;
  /** Lines that did not parse: a runner killed mid-write leaves a cut last line (and a cut gzip stream). */
  badLines: number;
  firstMs: number;
  lastMs: number;
}

interface JsonLine {
  type: 'Metric' | 'Point';
  metric: string;
  data: { type?: MetricType; contains?: string; submetrics?: { name: string }[] | null; time?: string; value?: number; tags?: Record<string, string> | null };
}

/** Reads one `--out json=` file (.json or .json.gz), tolerating a truncated end. */
export async function readRunnerSamples(file: string): Promise<RunnerSamples> {
  const out: RunnerSamples = { file, types: new Map(), submetrics: new Set(), series: new Map(), gauges: new Map(), points: 0, badLines: 0, firstMs: Infinity, lastMs: -Infinity };
  const raw = createReadStream(file);
  // Z_SYNC_FLUSH at the end: a stream cut off by a killed runner yields what it holds instead of an error.
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip({ finishFlush: constants.Z_SYNC_FLUSH })) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  // A cut gzip stream can still raise; the lines read up to it are kept.
  const ended = new Promise<void>((resolve) => {
    input.on('error', () => {
      out.badLines++;
      lines.close();
    });
    lines.on('close', resolve);
  });
  lines.on('line', (line) => {
    if (line === '') return;
    let j: JsonLine;
    try {
      j = JSON.parse(line) as JsonLine;
    } catch {
      out.badLines++;
      return;
    }
    if (j.type === 'Metric') {
      out.types.set(j.metric, { type: j.data.type!, contains: j.data.contains ?? 'default' });
      for (const sm of j.data.submetrics ?? []) out.submetrics.add(sm.name);
      return;
    }
    if (j.type !== 'Point' || typeof j.data.value !== 'number') return;
    out.points++;
    const t = Date.parse(j.data.time ?? '');
    if (Number.isFinite(t)) {
      if (t < out.firstMs) out.firstMs = t;
      if (t > out.lastMs) out.lastMs = t;
    }
    const type = out.types.get(j.metric)?.type;
    if (type === 'gauge') {
      const g = out.gauges.get(j.metric);
      const v = j.data.value;
      out.gauges.set(j.metric, g ? { value: v, min: Math.min(g.min, v), max: Math.max(g.max, v) } : { value: v, min: v, max: v });
    }
    const tags = j.data.tags ?? {};
    const key = JSON.stringify(tags);
    let byTags = out.series.get(j.metric);
    if (!byTags) out.series.set(j.metric, (byTags = new Map()));
    let s = byTags.get(key);
    if (!s) byTags.set(key, (s = { tags, values: [] }));
    s.values.push(j.data.value);
  });
  await ended;
  return out;
}

/** k6's summary gives 0 for a percentile of no samples. */
const quantileOr0 = (sorted: Float64Array, q: number): number => (sorted.length === 0 ? 0 : quantileSorted(sorted, q));

const matches = (tags: Record<string, string>, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => tags[k] === v);

/** The values of one metric or sub-metric over every runner. */
function collect(runners: RunnerSamples[], metric: string, want: Record<string, string>): number[] {
  const out: number[] = [];
  for (const r of runners) {
    for (const s of r.series.get(metric)?.values() ?? []) if (matches(s.tags, want)) for (const v of s.values) out.push(v);
  }
  return out;
}

/** One metric's values as k6's summary gives them; `percentiles` adds p(N) keys thresholds need. */
export function sinkValues(type: MetricType, values: number[], duration_s: number, trendStats: string[], percentiles: number[] = [], gauge?: { value: number; min: number; max: number }): Record<string, number> {
  switch (type) {
    case 'counter': {
      const count = values.reduce((a, b) => a + b, 0);
      return { count, rate: duration_s > 0 ? count / duration_s : 0 };
    }
    case 'rate': {
      const passes = values.filter((v) => v !== 0).length;
      return { rate: values.length > 0 ? passes / values.length : 0, passes, fails: values.length - passes };
    }
    case 'gauge':
      return gauge ? { ...gauge } : { value: 0, min: 0, max: 0 };
    case 'trend': {
      const sorted = Float64Array.from(values).sort();
      const n = sorted.length;
      const all: Record<string, number> = {
        avg: n > 0 ? values.reduce((a, b) => a + b, 0) / n : 0,
        min: n > 0 ? sorted[0]! : 0,
        max: n > 0 ? sorted[n - 1]! : 0,
        med: quantileOr0(sorted, 0.5),
        count: n,
      };
      const out: Record<string, number> = {};
      for (const stat of trendStats) {
        const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
        out[stat] = p ? quantileOr0(sorted, Number(p[1]) / 100) : (all[stat] ?? 0);
      }
      for (const p of percentiles) out[`p(${p})`] ??= quantileOr0(sorted, p / 100);
      return out;
    }
  }
}

const EXPRESSION = /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(\S+)\s*$/;

/** Parses a k6 threshold expression such as `p(99)<300` (k6's own syntax; abortOnFail objects give their `threshold`). */
export function parseThreshold(expression: string): { key: string; percentile?: number; op: string; value: number } {
  const m = EXPRESSION.exec(expression);
  if (!m || !Number.isFinite(Number(m[4]))) throw new Error(`threshold expression '${expression}' is not one the merge understands (aggregation op number)`);
  return { key: m[2] !== undefined ? `p(${Number(m[2])})` : m[1]!, ...(m[2] !== undefined ? { percentile: Number(m[2]) } : {}), op: m[3]!, value: Number(m[4]) };
}

/** Like k6: a missing aggregation (a rate without samples) passes. */
export function evaluateThreshold(values: Record<string, number>, expression: string): boolean {
  const t = parseThreshold(expression);
  const lhs = values[t.key];
  if (lhs === undefined) return true;
  switch (t.op) {
    case '<': return lhs < t.value;
    case '<=': return lhs <= t.value;
    case '>': return lhs > t.value;
    case '>=': return lhs >= t.value;
    case '!=': return lhs !== t.value;
    default: return lhs === t.value;
  }
}

/** The threshold expressions of one selector, as k6 options or `k6 inspect` give them (strings or {threshold}). */
export type DeclaredThresholds = Record<string, (string | { threshold: string })[]> | Thresholds;
const exprOf = (t: string | { threshold: string }): string => (typeof t === 'string' ? t : t.threshold);

/**
 * The handleSummary data of one run made of every runner's samples: each observed metric, every
 * declared sub-metric with samples, and every selector with thresholds (shown even when empty, as
 * k6 does), with the thresholds' verdicts on the merged values.
 */
export function mergeSummaryData(runners: RunnerSamples[], declared: DeclaredThresholds, duration_s: number, trendStats: string[]): K6SummaryData {
  const types = new Map<string, { type: MetricType; contains: string }>();
  for (const r of runners) for (const [k, v] of r.types) types.set(k, v);
  const keys = new Set<string>();
  for (const r of runners) for (const [m, byTags] of r.series) if (byTags.size > 0) keys.add(m);
  const optional = new Set<string>();
  for (const r of runners) for (const sm of r.submetrics) optional.add(sm);
  for (const sel of Object.keys(declared)) keys.add(sel);

  const metrics: K6SummaryData['metrics'] = {};
  const consider = [...keys, ...[...optional].filter((k) => !keys.has(k))];
  for (const key of consider) {
    const { metric, tags } = parseSelector(key);
    const info = types.get(metric);
    const exprs = ((declared as Record<string, (string | { threshold: string })[]>)[key] ?? []).map(exprOf);
    // A metric with thresholds but no sample anywhere: k6's types for the built-in ones.
    const type: MetricType | undefined = info?.type ?? BUILTIN_TYPES[metric];
    if (!type) throw new Error(`threshold on ${key}: no runner recorded metric ${metric}, so its type is unknown`);
    const values = collect(runners, metric, tags);
    if (values.length === 0 && exprs.length === 0) continue; // an optional sub-metric nobody hit
    const pcts = exprs.map((e) => parseThreshold(e).percentile).filter((p): p is number => p !== undefined);
    const gauge = type === 'gauge' && Object.keys(tags).length === 0 ? sumGauges(runners, metric) : undefined;
    const all = sinkValues(type, values, duration_s, trendStats, pcts, gauge);
    const shown = type === 'trend' ? Object.fromEntries(trendStats.map((s) => [s, all[s] ?? 0])) : all;
    const entry: K6SummaryData['metrics'][string] = { type, contains: info?.contains ?? 'default', values: shown };
    // k6 leaves out what it cannot compute (a rate over no samples, a counter's rate over no time): those pass.
    const judged = (type === 'rate' && values.length === 0) || (type === 'counter' && duration_s <= 0) ? Object.fromEntries(Object.entries(all).filter(([k]) => k !== 'rate')) : all;
    if (exprs.length > 0) entry.thresholds = Object.fromEntries(exprs.map((e) => [e, { ok: evaluateThreshold(judged, e) }]));
    metrics[key] = entry;
  }
  return { metrics, state: { testRunDurationMs: duration_s * 1000 } };
}

function sumGauges(runners: RunnerSamples[], metric: string): { value: number; min: number; max: number } | undefined {
  const gs = runners.map((r) => r.gauges.get(metric)).filter((g) => g !== undefined);
  if (gs.length === 0) return undefined;
  return { value: gs.reduce((a, g) => a + g.value, 0), min: gs.reduce((a, g) => a + g.min, 0), max: gs.reduce((a, g) => a + g.max, 0) };
}

/** Types of k6's built-in metrics, for a threshold on one that no runner sampled. */
const BUILTIN_TYPES: Record<string, MetricType> = {
  http_reqs: 'counter', http_req_failed: 'rate', checks: 'rate', iterations: 'counter', dropped_iterations: 'counter', data_sent: 'counter', data_received: 'counter',
  vus: 'gauge', vus_max: 'gauge', http_req_duration: 'trend', http_req_waiting: 'trend', iteration_duration: 'trend',
  output_match: 'rate', output_boxes_mse: 'trend', output_scores_mse: 'trend', requests_good: 'counter', latency_from_schedule: 'trend', late_from_schedule: 'rate',
};

/**
 * What a merge needs besides the samples: the scenario and the env knobs its plan reads (so the
 * plan is the runners' plan), the implementations, and the thresholds the script declared (from
 * `k6 inspect` with the runners' env). Written by the bench (merge.json in the run folder) and by
 * `make k6-operator` next to the manifests.
 */
export interface MergeSpec {
  version: 1;
  scenario: string;
  impls: string[];
  /** The env knobs planFor reads, as the runners had them. */
  planEnv: Record<string, string>;
  thresholds: DeclaredThresholds;
  summaryTrendStats: string[];
  capacitySloMs?: number;
  /** MIN_DURATION and UNDECIDED as the runners had them (judgingOf); absent in older specs: the defaults. */
  judging?: Partial<Judging>;
}

/** The verdicts' knobs (lib/verdict.ts) of an environment, for a merge spec. */
export function judgingOf(env: NodeJS.ProcessEnv): Partial<Judging> {
  const k = readKnobs(VERDICT_KNOBS, env);
  return { min_duration_s: k.minDuration_s, undecided: k.undecided, stability_windows: k.stabilityWindows, stability_tolerance: k.stabilityTolerance / 100 };
}

/** The env knobs lib/scenarios.ts planFor reads (from its registry), so a merge rebuilds the runners' plan. */
export const PLAN_KNOBS: readonly string[] = ['SCENARIO', ...Object.values(SCENARIO_KNOBS).map((k) => k.env)];

export function planEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(PLAN_KNOBS.flatMap((k) => (env[k] !== undefined && env[k] !== '' ? [[k, env[k]!]] : [])));
}

/** Every k6 json output under a folder: the *.json.gz files (the bench and the TestRun write gzipped). */
export function findSampleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json.gz')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export interface MergeResult {
  summary: Summary;
  runners: { file: string; points: number; bad_lines: number; requests: number }[];
  merge_ms: number;
  input_bytes: number;
}

/**
 * Merges runner files into one Summary. `duration_s`: the test's run time as the runners' own
 * summaries give it (the longest); without one, the span of the samples' timestamps.
 */
export async function mergeRunners(files: string[], spec: MergeSpec, duration_s?: number): Promise<MergeResult> {
  const started = performance.now();
  const runners = await Promise.all(files.map(readRunnerSamples));
  const span = runners.reduce((a, r) => ({ first: Math.min(a.first, r.firstMs), last: Math.max(a.last, r.lastMs) }), { first: Infinity, last: -Infinity });
  const duration = duration_s ?? (Number.isFinite(span.first) ? (span.last - span.first) / 1000 : 0);
  const data = mergeSummaryData(runners, spec.thresholds, duration, spec.summaryTrendStats);
  const plan: Plan = planFor(spec.scenario, { ...spec.planEnv, SCENARIO: spec.scenario });
  const summary = buildSummary(data, plan, spec.impls, spec.capacitySloMs, spec.judging);
  return {
    summary,
    runners: runners.map((r) => ({ file: r.file, points: r.points, bad_lines: r.badLines, requests: collect([r], 'http_reqs', { phase: 'measure' }).reduce((a, b) => a + b, 0) })),
    merge_ms: Math.round(performance.now() - started),
    input_bytes: files.reduce((a, f) => a + statSync(f).size, 0),
  };
}


/** `make bench-merge` knobs (env over defaults). */
export const MERGE_KNOBS = {
  dir: knob({ env: 'SAMPLES_DIR', tier: 'expert', default: '', ...text("the folder holding the runners' samples (*.json.gz)"), doc: "the runners' samples (and the merged summary's folder)" }),
  spec: knob({ env: 'MERGE_SPEC', tier: 'expert', default: '', defaultText: 'SAMPLES_DIR/merge.json', ...text('a merge.json'), doc: "the merge spec 'make k6-operator' (or make bench) wrote" }),
  /** The whole test's run time (summary.json's test_duration_s), not DURATION's time per level. */
  duration_s: knob({
    env: 'TEST_DURATION', tier: 'expert', default: 0, defaultText: "the runners' own summaries, else the samples' span", allowed: 'a positive duration such as 90s or 2m30s',
    parse: (raw: string) => { const s = duration.parse(raw); return s === INVALID || s <= 0 ? INVALID : s; },
    doc: "the test's whole run time (the denominator of requests/s)",
  }),
};

/** `make bench-merge SAMPLES_DIR=... [MERGE_SPEC=SAMPLES_DIR/merge.json] [TEST_DURATION=...]`: merge, gate, exit 99 on a broken threshold. */
async function mergeCommand(): Promise<number> {
  const k = readKnobs(MERGE_KNOBS, process.env);
  const dir = k.dir;
  if (!dir || !existsSync(dir)) {
    console.error(`bench-merge: SAMPLES_DIR=${dir} is not a folder: set SAMPLES_DIR to the folder holding the runners' samples (*.json.gz)`);
    return 2;
  }
  const specPath = k.spec || join(dir, 'merge.json');
  if (!existsSync(specPath)) {
    console.error(`bench-merge: no merge spec at ${specPath}: set MERGE_SPEC to the merge.json 'make k6-operator' (or make bench) wrote`);
    return 2;
  }
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as MergeSpec;
  const files = findSampleFiles(dir);
  if (files.length === 0) {
    console.error(`bench-merge: no runner samples (*.json.gz) under ${dir}: copy the runners' files there`);
    return 2;
  }
  const r = await mergeRunners(files, spec, testDuration(files, k.duration_s || undefined));
  // Re-merging a bench run folder keeps the post-processing results (accuracy, ...) it holds.
  const previous = join(dir, 'summary.json');
  if (existsSync(previous)) r.summary.postprocess = (JSON.parse(readFileSync(previous, 'utf8')) as Summary).postprocess ?? [];
  writeSummaryFiles(dir, r.summary);
  for (const x of r.runners) console.log(`bench-merge: ${relative(dir, x.file)}: ${x.points} samples, ${x.requests} measured requests${x.bad_lines > 0 ? `, ${x.bad_lines} unreadable line(s) (cut off)` : ''}`);
  console.log(`bench-merge: ${files.length} file(s), ${r.input_bytes} bytes merged in ${r.merge_ms} ms -> ${join(dir, 'summary.json')}`);
  process.stdout.write(summaryText(r.summary));
  const failed = r.summary.thresholds.filter((t) => !t.ok);
  for (const t of failed) console.log(`bench-merge: threshold FAILED on the aggregate: ${t.metric}: ${t.expression}`);
  const failedPost = r.summary.postprocess.filter((p) => !p.passed);
  for (const p of failedPost) console.log(`bench-merge: post-processing ${p.name} FAILED (kept from ${previous})`);
  const undecided = undecidedFailures(r.summary);
  for (const t of undecided) console.log(`bench-merge: threshold UNDECIDED on the aggregate (UNDECIDED=fail): ${t.metric}: ${t.expression}`);
  return failed.length > 0 || undecided.length > 0 ? EXIT_THRESHOLDS_FAILED : failedPost.length > 0 ? EXIT_POSTPROCESS_FAILED : 0;
}

/**
 * The test's run time: TEST_DURATION if given, else the longest a runner's own summary.json beside its
 * samples states (a local bench run); undefined (the samples' time span) for pods, which keep none.
 */
function testDuration(files: string[], given: number | undefined): number | undefined {
  if (given) return given;
  const own = files.map((f) => join(dirname(f), 'summary.json')).filter((f) => existsSync(f));
  return own.length > 0 ? Math.max(...own.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as Summary).test_duration_s)) : undefined;
}

// Any error that stops the merge is the input's (files, spec, knobs): exit 2, one line.
if (isMain(import.meta.url)) runMain('bench-merge', mergeCommand, { failureCode: 2 });

// Turns k6's end-of-test data into the run's summary (per implementation and level: latency
// percentiles, requests/s, threshold verdicts) and renders it as text and JUnit XML.
// Pure TypeScript: k6's handleSummary calls it, and the Node orchestrator re-renders after post-processing.
import { levelRps, type Plan } from './scenarios.ts';
import { textTable } from './text-table.ts';
import { isInformationalThreshold, tallyThresholds } from './informational-threshold.ts';

/** The part of k6's handleSummary `data` this module reads. */
export interface K6SummaryData {
  metrics: Record<string, { type: string; contains?: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state?: { testRunDurationMs?: number };
}

interface LatencyStats {
  min: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
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
}

interface ThresholdVerdict {
  metric: string;
  expression: string;
  ok: boolean;
  /** A bound that cannot fail (`count>=0`, `max>=0`, ...), declared only so k6 computes the sub-metric:
   * shown, not counted as a verdict (lib/informational-threshold.ts). */
  informational?: true;
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
  /** Every metric and sub-metric k6 reported, values as k6 gave them. */
  metrics: Record<string, Record<string, number>>;
}

const num = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0);

function latency(values: Record<string, number> | undefined): LatencyStats | null {
  if (!values) return null;
  return { min: num(values['min']), avg: num(values['avg']), p50: num(values['med'] ?? values['p(50)']), p90: num(values['p(90)']), p95: num(values['p(95)']), p99: num(values['p(99)']), max: num(values['max']) };
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

export function buildSummary(data: K6SummaryData, plan: Plan, impls: string[], capacitySloMs?: number): Summary {
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
        refused_latency_ms: refused > 0 ? latency(findMetric(data, 'http_req_duration', { ...tags, status: '503' })) : null,
        images_per_request: perRequest,
        images_per_s: num(rps * perRequest),
        latency_ms: requests > 0 ? latency(findMetric(data, 'http_req_duration', accepted)) : null,
      });
    }
  }
  const thresholds: ThresholdVerdict[] = [];
  for (const [metric, m] of Object.entries(data.metrics)) {
    for (const [expression, v] of Object.entries(m.thresholds ?? {})) thresholds.push({ metric, expression, ok: v.ok, ...(v.ok && isInformationalThreshold(expression) ? { informational: true as const } : {}) });
  }
  thresholds.sort((a, b) => (a.metric + a.expression).localeCompare(b.metric + b.expression));
  const summary: Summary = {
    scenario: plan.name,
    kind: plan.kind,
    unit: plan.unit,
    impls,
    test_duration_s: num((data.state?.testRunDurationMs ?? 0) / 1000),
    levels,
    warmup: { requests: num(findMetric(data, 'http_reqs', { phase: 'warmup' })?.['count']), latency_ms: latency(findMetric(data, 'http_req_duration', { phase: 'warmup' })) },
    dropped_iterations: num(data.metrics['dropped_iterations']?.values['count']),
    thresholds,
    thresholds_ok: thresholds.every((t) => t.ok),
    postprocess: [],
    metrics: Object.fromEntries(Object.entries(data.metrics).map(([k, m]) => [k, m.values])),
  };
  if (plan.kind === 'capacity' && capacitySloMs !== undefined) summary.capacity = { slo_p99_ms: capacitySloMs, max_rps_under_slo: capacityUnderSlo(levels, capacitySloMs) };
  return summary;
}

/** Highest offered rate whose measured p99 stayed under the SLO (null when even the first step broke it). */
export function capacityUnderSlo(rows: LevelRow[], sloMs: number): number | null {
  let best: number | null = null;
  for (const r of rows) if (r.requests > 0 && r.latency_ms && r.latency_ms.p99 < sloMs) best = Math.max(best ?? 0, Number(r.level));
  return best;
}

export function summaryText(s: Summary): string {
  const lines: string[] = [];
  if (s.incomplete) lines.push(`INCOMPLETE: ${s.incomplete.reason}; the figures cover only what ran before`);
  lines.push(`scenario ${s.scenario} (${s.kind}, level = ${s.unit}) on ${s.impls.join(', ')}: ${s.test_duration_s} s`);
  lines.push(`warm-up: ${s.warmup.requests} request(s) excluded from the figures below`);
  // Figures of accepted (2xx) requests; refused (503) and failed requests in their own columns.
  const head = ['impl', 'level', 'accepted', 'req/s', 'img/s', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms', 'min ms', 'max ms', 'refused', 'refused %', 'refuse p99 ms', 'failed'];
  const rows = s.levels.map((r) => [
    r.impl,
    r.level,
    String(r.requests),
    String(r.rps),
    String(r.images_per_s),
    ...(['p50', 'p90', 'p95', 'p99', 'min', 'max'] as const).map((k) => (r.latency_ms ? String(r.latency_ms[k]) : '-')),
    String(r.refused ?? 0),
    String(Math.round((r.refused_ratio ?? 0) * 1000) / 10),
    r.refused_latency_ms ? String(r.refused_latency_ms.p99) : '-',
    String(r.failed ?? 0),
  ]);
  lines.push(...textTable([head, ...rows], 'll'));
  if (s.dropped_iterations > 0 || s.kind === 'rate' || s.kind === 'capacity') lines.push(`dropped iterations: ${s.dropped_iterations}`);
  if (s.capacity) lines.push(`capacity: highest rate with p99 < ${s.capacity.slo_p99_ms} ms: ${s.capacity.max_rps_under_slo ?? 'none'} req/s`);
  const tally = tallyThresholds(s.thresholds);
  const info = tally.informational.length;
  lines.push(`thresholds: ${tally.passed.length}/${tally.verdicts.length} passed${info > 0 ? ` (${info} informational sub-metric${info === 1 ? '' : 's'} not counted)` : ''}`);
  for (const t of tally.verdicts) lines.push(`  ${t.ok ? 'ok  ' : 'FAIL'} ${t.metric}: ${t.expression}`);
  for (const t of tally.informational) lines.push(`  info ${t.metric}: ${t.expression} (cannot fail: declared so k6 reports the sub-metric)`);
  for (const p of s.postprocess) {
    lines.push(`post-processing ${p.name}: ${p.passed ? 'passed' : 'FAILED'}`);
    for (const l of p.lines) lines.push(`  ${l}`);
    if (p.table) lines.push(p.table);
  }
  return lines.join('\n') + '\n';
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One test case per threshold that can fail (and per post-processing step), failures carrying the
 * expression; the informational ones are not tests and get no case. */
export function junitXml(s: Summary): string {
  const cases = [
    ...tallyThresholds(s.thresholds).verdicts.map((t) => ({ classname: `k6.${s.scenario}`, name: `${t.metric}: ${t.expression}`, failure: t.ok ? null : `threshold ${t.expression} on ${t.metric} failed`, value: s.metrics[t.metric] })),
    ...s.postprocess.map((p) => ({ classname: `postprocess.${s.scenario}`, name: p.name, failure: p.passed ? null : p.lines.join('\n'), value: undefined })),
  ];
  const failures = cases.filter((c) => c.failure !== null).length;
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="bench" tests="${cases.length}" failures="${failures}">`, `  <testsuite name="${xml(`${s.scenario} ${s.impls.join(',')}`)}" tests="${cases.length}" failures="${failures}" time="${s.test_duration_s}">`];
  for (const c of cases) {
    const detail = c.value ? `<system-out>${xml(JSON.stringify(c.value))}</system-out>` : '';
    out.push(c.failure === null ? `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}">${detail}</testcase>` : `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}"><failure message="${xml(c.failure.split('\n')[0] ?? '')}">${xml(c.failure)}</failure>${detail}</testcase>`);
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}


/** The files a run's summary is written as, by name: the one writer behind k6's handleSummary (which
 * returns them) and the Node side (tools/common/summary-files.ts writes them). */
export function summaryFiles(s: Summary): Record<'summary.json' | 'summary.txt' | 'junit.xml', string> {
  return { 'summary.json': JSON.stringify(s, null, 2), 'summary.txt': summaryText(s), 'junit.xml': junitXml(s) };
}

// The harness's figures: medians over rounds per implementation x level x generator, k6 (the suite's
// script, and k6's engine alone) against the independent generator (ratios), CPU per request, and the
// served baseline against the in-process limit. Pure functions of the measured runs, so the tests
// check them on fixed inputs.
import { median } from '../../lib/stats.ts';
import type { InProcessRequests } from './in-process.ts';
import { describeLoadgenRuntime } from '../common/loadgen-runtime.ts';
import { describePlacement, type Placement } from '../common/cpu-placement.ts';
import type { HarnessConfig, Generator } from './config.ts';
import type { GeneratorResult } from './generators.ts';

export interface HarnessRun extends GeneratorResult {
  round: number;
  impl: string;
  level: number;
  generator: Generator;
  /** The server's CPU seconds over this run (from /proc), for its CPU per request. */
  server_cpu_s: number;
}

interface GeneratorFigures {
  rounds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  failed_ratio: number;
  /** Generator CPU ms per request in the steady middle of the measured window (null: too short to tell). */
  cpu_ms_per_request: number | null;
  /** Generator CPU ms per request with start-up, warm-up and summary included. */
  cpu_ms_per_request_total: number;
  server_cpu_ms_per_request: number;
}

interface Comparison {
  impl: string;
  level: number;
  by: Partial<Record<Generator, GeneratorFigures>>;
  /** k6 (no output checks) / vegeta: 1 = agree. */
  rps_ratio: number | null;
  p50_ratio: number | null;
  /** k6's engine alone (k6-bare) / vegeta; null without either (and in reports made before k6-bare). */
  bare_rps_ratio?: number | null;
  bare_p50_ratio?: number | null;
  /** What the suite's script (checks, tags, thresholds, dataset) costs k6 per request over k6-bare, in CPU ms. */
  suite_cpu_ms?: number | null;
  /** What the in-run output checks cost k6 per request, in CPU ms. */
  output_checks_cpu_ms: number | null;
}

interface HttpOverhead {
  models_ms: Record<string, number>;
  /** Sum of the three models' in-process medians on the same image: the limit. */
  inprocess_ms: number;
  /** Per model, the in-process letterbox + normalisation of that image (bench-models with DATASET_DIR). */
  letterbox_ms: Record<string, number>;
  /** inprocess_ms plus the letterboxes: the same work as a served request, minus HTTP and decode. */
  inprocess_pipeline_ms: number;
  /** Served baseline p50 at concurrency 1, per generator. */
  served_p50_ms: Partial<Record<Generator, number>>;
  overhead_ms: Partial<Record<Generator, number>>;
  overhead_pct: Partial<Record<Generator, number>>;
  /** Served p50 over inprocess_pipeline_ms: what HTTP, decode, hand-off and queueing add. */
  pipeline_overhead_ms: Partial<Record<Generator, number>>;
  pipeline_overhead_pct: Partial<Record<Generator, number>>;
  /**
   * The baseline implementation itself run in-process on the same image (decode + infer, no HTTP:
   * tools/harness/in-process.ts), and the served p50 over it: what the HTTP path adds. Absent in
   * reports made before it was measured.
   */
  request?: InProcessRequests & { overhead_ms: Partial<Record<Generator, number>>; overhead_pct: Partial<Record<Generator, number>> };
}

export interface HarnessReport {
  created: string;
  host: { cpu: string; cores: number; node: string };
  config: HarnessConfig;
  /** The Go runtime variables every generator ran with (GOMAXPROCS, GOGC); absent in reports before they were set. */
  loadgen_runtime?: Record<string, string>;
  /** CPU_PLACEMENT of the server and the generators (absent in reports written before it: shared). */
  cpu_placement?: Placement;
  image: string;
  runs: HarnessRun[];
  comparisons: Comparison[];
  http_overhead: HttpOverhead | null;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function figures(runs: HarnessRun[]): GeneratorFigures {
  const steady = runs.flatMap((r) => (r.steady_cpu_ms_per_request === null ? [] : [r.steady_cpu_ms_per_request]));
  return {
    rounds: runs.length,
    rps: round3(median(runs.map((r) => r.rps))),
    p50_ms: round3(median(runs.map((r) => r.p50_ms))),
    p99_ms: round3(median(runs.map((r) => r.p99_ms))),
    failed_ratio: round3(Math.max(...runs.map((r) => r.failed_ratio))),
    cpu_ms_per_request: steady.length > 0 ? round3(median(steady)) : null,
    cpu_ms_per_request_total: round3(median(runs.map((r) => (r.cpu_s / Math.max(1, r.cpu_requests)) * 1000))),
    server_cpu_ms_per_request: round3(median(runs.map((r) => (r.server_cpu_s / Math.max(1, r.cpu_requests)) * 1000))),
  };
}

/** a / b to 3 places; null when either is missing or b is 0. */
const ratio = (a: number | undefined, b: number | undefined): number | null => (a !== undefined && b !== undefined && b > 0 ? round3(a / b) : null);

/** Steady CPU ms per request of `more` over `less` (what the difference between the two costs). */
const cpuOver = (more: GeneratorFigures | undefined, less: GeneratorFigures | undefined): number | null =>
  more?.cpu_ms_per_request != null && less?.cpu_ms_per_request != null ? round3(more.cpu_ms_per_request - less.cpu_ms_per_request) : null;

export function summarise(input: Omit<HarnessReport, 'comparisons' | 'http_overhead'> & { models: { model: string; median_ms: number; letterbox_ms?: number }[]; inProcess?: InProcessRequests }): HarnessReport {
  const { models, inProcess, ...rest } = input;
  const comparisons: Comparison[] = [];
  for (const impl of input.config.impls) {
    for (const level of input.config.levels) {
      const by: Comparison['by'] = {};
      for (const g of input.config.generators) {
        const rs = input.runs.filter((r) => r.impl === impl && r.level === level && r.generator === g);
        if (rs.length > 0) by[g] = figures(rs);
      }
      const k6 = by['k6'];
      const bare = by['k6-bare'];
      const vegeta = by['vegeta'];
      const checks = by['k6+checks'];
      comparisons.push({
        impl,
        level,
        by,
        rps_ratio: ratio(k6?.rps, vegeta?.rps),
        p50_ratio: ratio(k6?.p50_ms, vegeta?.p50_ms),
        bare_rps_ratio: ratio(bare?.rps, vegeta?.rps),
        bare_p50_ratio: ratio(bare?.p50_ms, vegeta?.p50_ms),
        suite_cpu_ms: cpuOver(k6, bare),
        output_checks_cpu_ms: cpuOver(checks, k6),
      });
    }
  }
  let http_overhead: HttpOverhead | null = null;
  const base = comparisons.find((c) => c.impl === 'baseline' && c.level === 1);
  if (models.length > 0 && base) {
    const models_ms = Object.fromEntries(models.map((m) => [m.model, round3(m.median_ms)]));
    const inprocess_ms = round3(models.reduce((s, m) => s + m.median_ms, 0));
    const letterbox_ms = Object.fromEntries(models.map((m) => [m.model, round3(m.letterbox_ms ?? 0)]));
    const inprocess_pipeline_ms = round3(inprocess_ms + Object.values(letterbox_ms).reduce((s, v) => s + v, 0));
    const served_p50_ms: HttpOverhead['served_p50_ms'] = {};
    const overhead_ms: HttpOverhead['overhead_ms'] = {};
    const overhead_pct: HttpOverhead['overhead_pct'] = {};
    const pipeline_overhead_ms: HttpOverhead['pipeline_overhead_ms'] = {};
    const pipeline_overhead_pct: HttpOverhead['pipeline_overhead_pct'] = {};
    for (const [g, f] of Object.entries(base.by) as [Generator, GeneratorFigures][]) {
      served_p50_ms[g] = f.p50_ms;
      overhead_ms[g] = round3(f.p50_ms - inprocess_ms);
      overhead_pct[g] = round3(((f.p50_ms - inprocess_ms) / inprocess_ms) * 100);
      pipeline_overhead_ms[g] = round3(f.p50_ms - inprocess_pipeline_ms);
      pipeline_overhead_pct[g] = round3(((f.p50_ms - inprocess_pipeline_ms) / inprocess_pipeline_ms) * 100);
    }
    http_overhead = { models_ms, inprocess_ms, letterbox_ms, inprocess_pipeline_ms, served_p50_ms, overhead_ms, overhead_pct, pipeline_overhead_ms, pipeline_overhead_pct };
    if (inProcess) {
      const over: Partial<Record<Generator, number>> = {};
      const pct: Partial<Record<Generator, number>> = {};
      for (const [g, p50] of Object.entries(served_p50_ms) as [Generator, number][]) {
        over[g] = round3(p50 - inProcess.median_ms);
        pct[g] = round3(((p50 - inProcess.median_ms) / inProcess.median_ms) * 100);
      }
      http_overhead.request = { ...inProcess, median_ms: round3(inProcess.median_ms), p90_ms: round3(inProcess.p90_ms), decode_ms: round3(inProcess.decode_ms), infer_ms: round3(inProcess.infer_ms), letterbox_ms: round3(inProcess.letterbox_ms), overhead_ms: over, overhead_pct: pct };
    }
  }
  return { ...rest, comparisons, http_overhead };
}

const fmt = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

const md = (cells: string[]) => `| ${cells.join(' | ')} |`;
const mdTable = (head: string[], rows: string[][]) => [md(head), md(head.map(() => '---')), ...rows.map(md)];

/** Markdown tables: the generators' figures and ratios to vegeta, their CPU per request, then the HTTP overhead. */
export function harnessTable(r: HarnessReport): string {
  const gens = r.config.generators;
  const bare = gens.includes('k6-bare');
  const figuresHead = ['impl', 'concurrency', ...gens.flatMap((g) => [`${g} req/s`, `${g} p50 ms`]), ...(bare ? ['k6-bare/vegeta req/s', 'k6-bare/vegeta p50'] : []), 'k6/vegeta req/s', 'k6/vegeta p50'];
  const figuresRows = r.comparisons.map((c) => [
    c.impl,
    String(c.level),
    ...gens.flatMap((g) => [fmt(c.by[g]?.rps, 1), fmt(c.by[g]?.p50_ms)]),
    ...(bare ? [fmt(c.bare_rps_ratio, 3), fmt(c.bare_p50_ratio, 3)] : []),
    fmt(c.rps_ratio, 3),
    fmt(c.p50_ratio, 3),
  ]);
  const cpuHead = ['impl', 'concurrency', ...gens.map((g) => `${g} CPU ms/req`), 'server CPU ms/req', ...(bare ? ['suite script (k6 - k6-bare) CPU ms/req'] : []), 'output checks (k6+checks - k6) CPU ms/req'];
  const cpuRows = r.comparisons.map((c) => [
    c.impl,
    String(c.level),
    ...gens.map((g) => fmt(c.by[g]?.cpu_ms_per_request, 3)),
    fmt(c.by['vegeta']?.server_cpu_ms_per_request ?? c.by['k6']?.server_cpu_ms_per_request, 3),
    ...(bare ? [fmt(c.suite_cpu_ms, 3)] : []),
    fmt(c.output_checks_cpu_ms, 3),
  ]);
  const out = [
    `harness ${r.created} on ${r.host.cpu} (${r.host.cores} cores), image ${r.image}, ${r.config.rounds} round(s) of ${r.config.duration_s}s, medians over rounds; generators' Go runtime: ${r.loadgen_runtime ? describeLoadgenRuntime(r.loadgen_runtime) : "Go's defaults"}; CPU placement ${r.cpu_placement ? describePlacement(r.cpu_placement) : 'shared'}`,
    '',
    ...mdTable(figuresHead, figuresRows),
    '',
    "generators' CPU per request in the steady middle of each run (from /proc), and the server's over the whole run:",
    '',
    ...mdTable(cpuHead, cpuRows),
  ];
  const h = r.http_overhead;
  if (h) {
    out.push('', `in-process limit (make bench-models, batch 1, same image): ${Object.entries(h.models_ms).map(([m, v]) => `${m} ${v.toFixed(1)} ms`).join(' + ')} = ${h.inprocess_ms.toFixed(1)} ms`);
    out.push(`in-process letterboxes of that image: ${Object.entries(h.letterbox_ms).map(([m, v]) => `${m} ${v.toFixed(1)} ms`).join(' + ')}; models + letterboxes = ${h.inprocess_pipeline_ms.toFixed(1)} ms`);
    const q = h.request;
    if (q) out.push(`in-process baseline request (the implementation itself, decode + infer, no HTTP; ${q.runs} runs): median ${q.median_ms.toFixed(1)} ms (decode ${q.decode_ms.toFixed(1)}, infer ${q.infer_ms.toFixed(1)}, of which letterboxes ${q.letterbox_ms.toFixed(1)})`);
    for (const g of Object.keys(h.served_p50_ms) as Generator[]) {
      out.push(
        `served baseline p50 at concurrency 1 (${g}): ${fmt(h.served_p50_ms[g], 1)} ms; over the models alone ${fmt(h.overhead_ms[g], 1)} ms (${fmt(h.overhead_pct[g], 1)}%), over models + letterboxes ${fmt(h.pipeline_overhead_ms[g], 1)} ms (${fmt(h.pipeline_overhead_pct[g], 1)}%)${q ? `, over the in-process request ${fmt(q.overhead_ms[g], 1)} ms (${fmt(q.overhead_pct[g], 1)}%)` : ''}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

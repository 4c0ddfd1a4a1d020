// Builds the report's data (report.json) from run records: per row (an implementation, or
// implementation@label) and column the median and spread over rounds, speedups as paired ratios over
// the reference row (the baseline) of the same round with a 95 % interval and a verdict, the bounds
// (baseline = upper, invalid = lower), accuracy, environment and the commands to reproduce.
// A column is a level: a concurrency of a sweep, or a model of a traffic mix (SCENARIO=mix, where each
// model's stream is a level tagged with its model); one report holds one kind.
import type { HostBounds, LevelStats } from '../../lib/bounds.ts';
import type { ImplementationInfo } from '../../lib/types.ts';
import type { LevelRow } from '../../lib/summary.ts';
import { INVALID as INVALID_KNOB } from '../../lib/knobs.ts';
import { SCENARIO_KNOBS, type MixLoop, type MixStream } from '../../lib/scenarios.ts';
import { tallyThresholds } from '../../lib/informational-threshold.ts';
import { pooledBreakdown, type ServerBreakdown } from './breakdown.ts';
import { isMixRun, isSweepRun, isTimingRun, type RunRecord } from './gather.ts';
import { mixText } from './config.ts';
import { distinctImpls, rowImpl } from './rows.ts';
import { pairedRatios, ratioMethodText, ratioOverRounds, REPORT_CONFIDENCE, spread, type RatioOverRounds, type Spread } from './stats.ts';
import type { TuneMeta } from './tuned.ts';

export const BASELINE = 'baseline';
/** The invalid implementation (server/implementations/invalid.ts): the report's lower bound. */
export const INVALID_IMPL = 'invalid';
const REPORT_VERSION = 1;

/** A column of the report: a concurrency (VUs) of a sweep, or a model (d0, d2) of a traffic mix.
 * Sweeps keep numbers, so their report.json is as before mixes. */
export type Level = number | string;

/** A mix report's traffic: the streams offered (req/s each, or VUs with MIX_LOOP=closed). */
export interface MixInfo {
  loop: MixLoop;
  streams: MixStream[];
  /** Gathered runs (REUSE) that ran different mixes: `streams` is the first one's, and each cell's
   * offered load the median of its own runs'. */
  varied?: true;
}

export interface ReportMeta {
  created: string;
  /** run: this report ran the sweeps; reuse: it gathered existing run folders. */
  mode: 'run' | 'reuse';
  config: { impls: string[]; levels: number[]; duration: string; repeats: number; server: string; accuracy: boolean; reuse: string[]; mix?: MixInfo };
  /** How the server was started, in one sentence for the reader (stated in report.md). */
  server: { mode: string; statement: string; url?: string; ready_ms?: number; settings?: unknown };
  /** From GET /implementations when the report asked a server; may be empty for gathered runs. */
  implementations: ImplementationInfo[];
  commands: { report: string; reuse: string; runs: string[] };
  /** This host's bounds (`make host-bounds`), when make bench gates against them (the key keeps its first name: report.json). */
  calibration: HostBounds | null;
  /** The latest `make harness` table (results/harness/latest/harness.txt), quoted as it was measured. */
  harness?: { file: string; text: string } | null;
  /** Each server measured (ours and every peer row, PEERS) with its stack and versions in words. */
  stacks?: { server: string; rows: string[]; stack: string; url?: string }[];
  /** TUNE: where the tuned rows come from and which knobs each one ran with (tools/report/tuned.ts). */
  tune?: TuneMeta;
}

export interface LevelResult {
  impl: string;
  level: Level;
  /** Rounds (runs) this row rests on, and their requests in total. */
  rounds: number;
  requests: number;
  rps: Spread;
  /** Goodput (accepted, on time and correct, per second; lib/k6/goodput.ts) over the rounds whose
   * summary carries it; absent when none does (runs written before goodput). */
  goodput_rps?: Spread;
  p50_ms: Spread;
  p99_ms: Spread;
  /** Lowest min and highest max over the rounds. */
  min_ms: number;
  max_ms: number;
  runs: string[];
  /** The rounds' own 95 % intervals of p50 and p99 (from each run's summary.json); absent when no
   * round's summary carries them (summaries written before lib/summary.ts computed them). */
  latency_intervals?: { p50: RoundsEnvelope | null; p99: RoundsEnvelope | null };
  /** A mix's column only: what the model's stream was offered and what it lost. */
  stream?: StreamResult;
}

/** A mix stream's load and losses over the rounds of one row and model. */
export interface StreamResult {
  /** The stream's load as MIX gave it (req/s open, VUs closed); null where no run said. */
  offered: number | null;
  offered_unit: 'req/s' | 'VUs';
  /** Measured requests refused (503) and failed otherwise, summed over the rounds (never in rps or latency). */
  refused: number;
  failed: number;
  /** (refused + failed) / every measured request sent, pooled over the rounds. */
  lost_ratio: number;
  /** Open loop: (dropped + late) / scheduled arrivals (lib/summary.ts), over the rounds; absent closed. */
  missed_ratio?: Spread;
}

/** Where one percentile's per-round intervals lie, over the rounds of a row and level. */
export interface RoundsEnvelope {
  /** Rounds whose summary carried this interval. */
  rounds: number;
  /** Fewest samples behind one of those rounds' percentile. */
  n_min: number;
  /** Lowest lower and highest upper bound over those rounds: every round's own interval lies within
   * [lower, upper]. Null where some round's sample could not give that bound (too few requests). */
  lower: number | null;
  upper: number | null;
  confidence: number;
  per_round: { round: number; n: number; lower: number | null; upper: number | null }[];
}

/** A round's sample count and percentile intervals as its summary.json carries them (lib/summary.ts;
 * both optional: summaries written before the intervals lack them). */
type StoredIntervals = Pick<NonNullable<LevelRow['latency_ms']>, 'n' | 'intervals'>;

export interface Speedup {
  /** The row on top of every ratio (an implementation, or implementation@label). */
  impl: string;
  level: Level;
  /** The row every ratio is over: Report.comparisons.reference. */
  over: string;
  /** requests/s of the row over the reference's, paired by round (above 1 = faster). */
  rps: RatioOverRounds | null;
  /** p50 and p99 of the row over the reference's, paired by round (below 1 = faster). */
  p50: RatioOverRounds | null;
  p99: RatioOverRounds | null;
  rounds: number[];
}

interface BoundsLevel {
  level: Level;
  /** Measured in this report: baseline (upper bound of latency, floor of requests/s) and the stub (lower bound). */
  upper: { rps: number; p50_ms: number; p99_ms: number } | null;
  lower: { rps: number; p50_ms: number; p99_ms: number } | null;
  /** The host bounds (results/host-bounds.json) at that level, when present (what `make bench` gates against). */
  calibration: { baseline?: LevelStats; invalid?: LevelStats } | null;
}

interface BoundsCheck {
  impl: string;
  level: Level;
  /** Medians compared; null when a side is missing. */
  rps_at_least_baseline: boolean | null;
  p99_at_most_baseline: boolean | null;
  /** Faster than the stub means work was skipped. */
  p50_at_least_stub: boolean | null;
}

interface AccuracyRow {
  impl: string;
  run: string;
  lossless: boolean;
  passed: boolean;
  mode: string;
  images: number;
  reference_detections: number;
  matched: number;
  unmatched: number;
  boxes_mse: number | null;
  scores_mse: number | null;
  labels_accuracy: number | null;
  mean_iou: number | null;
  bounds_source: string;
  failed_gates: string[];
  /** k6's in-run checks in that run (each response against the reference of the image it sent,
   * under concurrency): null when the run had none (no REFERENCE). */
  in_run: { ok: boolean; failed: string[] } | null;
}

interface RunRow {
  name: string;
  dir: string;
  scenario: string;
  impls: string[];
  /** Round of this run per implementation (its k-th run of that implementation). */
  round: number;
  levels: Level[];
  test_duration_s: number;
  thresholds_ok: boolean;
  failed_thresholds: string[];
  postprocess: { name: string; passed: boolean }[];
  exit_code: number | null;
  /** Peak server memory during the run (host RSS on CPU, device memory on CUDA); with a shared
   * server it covers every implementation loaded in that process. */
  server_peak_mb: number | null;
  memory_device: string | null;
  make: string | null;
}

export interface Report extends ReportMeta {
  version: number;
  impls: string[];
  /** The columns: concurrency levels, or with `mix` the mix's models. */
  levels: Level[];
  /** A traffic mix report (make report MIX=...): the columns are its models; absent for a sweep. */
  mix?: MixInfo;
  runs: RunRow[];
  results: LevelResult[];
  /** How the speedups were taken: over which row, at which confidence, by which method (in words). */
  comparisons: { reference: string | null; confidence: number; method: string };
  speedups: Speedup[];
  /** TUNE with both stacks' best: our tuned row over Triton's tuned row (req/s, p50, p99) per column. */
  tuned_ratios?: Speedup[];
  bounds: { levels: BoundsLevel[]; checks: BoundsCheck[]; calibration_created: string | null; calibration_tolerance_note: string };
  accuracy: AccuracyRow[];
  environment: { first_run: string | null; env: Record<string, unknown> | null; differences: string[] };
  charts: { file: string; title: string }[];
  /** Rows with no replay (a v2-only target such as a peer): their accuracy pass's in-run checks alone. */
  in_run_only: { impl: string; run: string; ok: boolean; failed: string[] }[];
  /** Per implementation (row): the server's own split per request over its timed runs (medians). */
  server_side: ServerSideRow[];
  /** Per measured row: CPU seconds each long-lived server tree used during its runs (medians). */
  servers_cpu: ServersCpuRow[];
}

interface ServerSideRow extends ServerBreakdown {
  impl: string;
  /** Timed runs it rests on (each a whole sweep: all levels together). */
  runs: number;
}

interface ServersCpuRow {
  /** The row measured in those runs. */
  measured: string;
  runs: number;
  wall_s: number;
  /** Server -> median CPU seconds over those runs. */
  cpu_s: Record<string, number>;
}

/** The fields of a run's env.json (tools/bench/env-info.ts) the report shows; all optional, older runs may lack some. */
export interface EnvJson {
  cpu?: { model?: string; cores?: number };
  memory_gb?: number;
  os?: { type?: string; release?: string; arch?: string };
  node?: string;
  onnxruntime_node?: string;
  k6?: string;
  ep?: string;
  server_version?: string;
  git?: { sha?: string; dirty?: boolean };
  command?: { make?: string };
  [key: string]: unknown;
}

interface Sample {
  impl: string;
  level: Level;
  round: number;
  run: string;
  requests: number;
  rps: number;
  goodput?: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  /** This round's own intervals of p50 and p99, when its summary has them. */
  stored: StoredIntervals;
  /** A mix stream's load and losses in this round. */
  stream?: { offered: number | null; unit: 'req/s' | 'VUs'; refused: number; failed: number; missed?: number };
}

/** The mix a run ran (its env.json knobs MIX and MIX_LOOP, as the bench recorded them); null when it does not say. */
function runMix(run: RunRecord): MixInfo | null {
  const knobs = run.env?.['knobs'] as Record<string, string> | undefined;
  const streams = knobs?.['MIX'] ? SCENARIO_KNOBS.mix.parse(knobs['MIX']) : INVALID_KNOB;
  if (streams === INVALID_KNOB) return null;
  return { loop: knobs?.['MIX_LOOP'] === 'closed' ? 'closed' : 'open', streams };
}

/** A stream's figures of one round: the load MIX offered the model (else, open loop, its scheduled
 * arrivals per second) and what it lost. */
function streamOf(run: RunRecord, row: LevelRow): NonNullable<Sample['stream']> {
  const open = run.summary.unit === 'rps';
  const given = runMix(run)?.streams.find((st) => st.model === row.level)?.value;
  const offered = given ?? (open && row.scheduled !== undefined && row.duration_s > 0 ? row.scheduled / row.duration_s : null);
  return { offered, unit: open ? 'req/s' : 'VUs', refused: row.refused, failed: row.failed, ...(open && row.missed_ratio !== undefined ? { missed: row.missed_ratio } : {}) };
}

/** A summary row's column: its model in a mix, its concurrency (a number; NaN where not one) in a sweep. */
const levelOf = (level: string, mix: boolean): Level => (mix ? level : Number(level));

/**
 * One sample per (run, impl, level) with measured requests. round = the run's report round when it
 * carries one, else the k-th such sample of (impl, level), oldest first (runs gathered by hand).
 */
function samplesOf(runs: RunRecord[], mix: boolean): Sample[] {
  const count = new Map<string, number>();
  const out: Sample[] = [];
  for (const run of [...runs].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const row of run.summary.levels) {
      const level = levelOf(row.level, mix);
      if (level === '' || (typeof level === 'number' && !Number.isFinite(level)) || row.requests <= 0 || !row.latency_ms) continue;
      // The report's row: its label when the report ran it (report-role.json), else the implementation.
      const name = run.row ?? row.impl;
      const key = `${name}\u0000${level}`;
      const ordinal = (count.get(key) ?? 0) + 1;
      count.set(key, ordinal);
      const round = run.round ?? ordinal;
      out.push({ impl: name, level, round, run: run.name, requests: row.requests, rps: row.rps, ...(row.goodput_rps !== undefined ? { goodput: row.goodput_rps } : {}), p50: row.latency_ms.p50, p99: row.latency_ms.p99, min: row.latency_ms.min, max: row.latency_ms.max, stored: row.latency_ms, ...(mix ? { stream: streamOf(run, row) } : {}) });
    }
  }
  return out;
}

/** Implementations in the order given (server order), then any others found, in order of appearance. */
function implOrder(preferred: string[], samples: Sample[]): string[] {
  const found = [...new Set(samples.map((s) => s.impl))];
  return [...preferred.filter((i) => found.includes(i)), ...found.filter((i) => !preferred.includes(i))];
}

function levelResults(samples: Sample[], impls: string[], levels: Level[]): LevelResult[] {
  const out: LevelResult[] = [];
  for (const impl of impls) {
    for (const level of levels) {
      const ss = samples.filter((s) => s.impl === impl && s.level === level);
      if (ss.length === 0) continue;
      out.push({
        impl,
        level,
        rounds: ss.length,
        requests: ss.reduce((n, s) => n + s.requests, 0),
        rps: spread(ss.map((s) => s.rps))!,
        ...(ss.some((s) => s.goodput !== undefined) ? { goodput_rps: spread(ss.flatMap((s) => (s.goodput !== undefined ? [s.goodput] : [])))! } : {}),
        p50_ms: spread(ss.map((s) => s.p50))!,
        p99_ms: spread(ss.map((s) => s.p99))!,
        min_ms: Math.min(...ss.map((s) => s.min)),
        max_ms: Math.max(...ss.map((s) => s.max)),
        runs: ss.map((s) => s.run),
        ...latencyIntervals(ss),
        ...streamResult(ss),
      });
    }
  }
  return out;
}

function envelope(ss: Sample[], key: 'p50' | 'p99'): RoundsEnvelope | null {
  const per = ss.flatMap((s) => {
    const ci = s.stored.intervals?.[key];
    return ci && s.stored.n ? [{ round: s.round, n: s.stored.n, lower: ci.lower, upper: ci.upper, confidence: ci.confidence }] : [];
  });
  if (per.length === 0) return null;
  const bound = (pick: (x: (typeof per)[number]) => number | null, f: (...xs: number[]) => number) => (per.some((x) => pick(x) === null) ? null : f(...per.map((x) => pick(x)!)));
  return {
    rounds: per.length,
    n_min: Math.min(...per.map((x) => x.n)),
    lower: bound((x) => x.lower, Math.min),
    upper: bound((x) => x.upper, Math.max),
    confidence: per[0]!.confidence,
    per_round: per.map(({ round, n, lower, upper }) => ({ round, n, lower, upper })),
  };
}

function streamResult(ss: Sample[]): Pick<LevelResult, 'stream'> {
  const st = ss.flatMap((s) => (s.stream ? [{ ...s.stream, accepted: s.requests }] : []));
  if (st.length === 0) return {};
  const sum = (pick: (x: (typeof st)[number]) => number) => st.reduce((n, x) => n + pick(x), 0);
  const refused = sum((x) => x.refused);
  const failed = sum((x) => x.failed);
  const sent = sum((x) => x.accepted) + refused + failed;
  const offered = spread(st.flatMap((x) => (x.offered !== null ? [x.offered] : [])));
  const missed = spread(st.flatMap((x) => (x.missed !== undefined ? [x.missed] : [])));
  return { stream: { offered: offered ? offered.median : null, offered_unit: st[0]!.unit, refused, failed, lost_ratio: sent > 0 ? Math.round(((refused + failed) / sent) * 1e4) / 1e4 : 0, ...(missed ? { missed_ratio: missed } : {}) } };
}

function latencyIntervals(ss: Sample[]): Pick<LevelResult, 'latency_intervals'> {
  const p50 = envelope(ss, 'p50');
  const p99 = envelope(ss, 'p99');
  return p50 || p99 ? { latency_intervals: { p50, p99 } } : {};
}

/** The row every ratio is over: the first row measuring the baseline, else the first row (IMPL's order). */
export function referenceRow(rows: readonly string[]): string | null {
  return rows.find((r) => rowImpl(r) === BASELINE) ?? rows[0] ?? null;
}

/** Each row's ratios over the reference row, paired by round, each with its interval (ratioOverRounds). */
export function speedups(samples: Sample[], impls: string[], levels: Level[]): Speedup[] {
  const over = referenceRow(impls);
  if (over === null) return [];
  return impls.filter((i) => i !== over).flatMap((impl) => ratiosOver(samples, impl, over, levels));
}

/** One row's ratios over another, per level, paired by round, each with its interval (ratioOverRounds). */
function ratiosOver(samples: Sample[], impl: string, over: string, levels: Level[]): Speedup[] {
  const byRound = (row: string, level: Level, pick: (s: Sample) => number) => new Map(samples.filter((s) => s.impl === row && s.level === level).map((s) => [s.round, pick(s)]));
  const out: Speedup[] = [];
  for (const level of levels) {
    const paired = (pick: (s: Sample) => number) => pairedRatios(byRound(impl, level, pick), byRound(over, level, pick));
    const rps = paired((s) => s.rps);
    const p50 = paired((s) => s.p50);
    const p99 = paired((s) => s.p99);
    if (rps.length === 0 && p99.length === 0) continue;
    const ratios = (xs: { ratio: number }[]) => xs.map((r) => r.ratio);
    out.push({ impl, level, over, rps: ratioOverRounds(ratios(rps), 'higher'), p50: ratioOverRounds(ratios(p50), 'lower'), p99: ratioOverRounds(ratios(p99), 'lower'), rounds: rps.map((r) => r.round) });
  }
  return out;
}

/** TUNE with both stacks' best: our tuned row over Triton's, paired by round like every other ratio. */
function tunedRatios(samples: Sample[], tune: TuneMeta | undefined, levels: Level[]): Speedup[] {
  const ours = tune?.rows.find((r) => r.stack === 'ours');
  const triton = tune?.rows.find((r) => r.stack === 'triton');
  return ours && triton ? ratiosOver(samples, ours.row, triton.row, levels) : [];
}

function boundsOf(results: LevelResult[], levels: Level[], calibration: HostBounds | null): Report['bounds'] {
  // The first row of each: with labels (baseline@a, baseline@b) the bound is the first one.
  const pick = (impl: string, level: Level) => {
    const r = results.find((x) => rowImpl(x.impl) === impl && x.level === level);
    return r ? { rps: r.rps.median, p50_ms: r.p50_ms.median, p99_ms: r.p99_ms.median } : null;
  };
  const rows: BoundsLevel[] = levels.map((level) => {
    const cal = calibration?.levels[String(level)];
    return { level, upper: pick(BASELINE, level), lower: pick(INVALID_IMPL, level), calibration: cal ? { ...(cal[BASELINE] && { baseline: cal[BASELINE] }), ...(cal[INVALID_IMPL] && { invalid: cal[INVALID_IMPL] }) } : null };
  });
  const checks: BoundsCheck[] = results
    .filter((r) => rowImpl(r.impl) !== BASELINE && rowImpl(r.impl) !== INVALID_IMPL)
    .map((r) => {
      const b = rows.find((x) => x.level === r.level)!;
      return {
        impl: r.impl,
        level: r.level,
        rps_at_least_baseline: b.upper ? r.rps.median >= b.upper.rps : null,
        p99_at_most_baseline: b.upper ? r.p99_ms.median <= b.upper.p99_ms : null,
        p50_at_least_stub: b.lower ? r.p50_ms.median >= b.lower.p50_ms : null,
      };
    });
  return {
    levels: rows,
    checks,
    calibration_created: calibration?.created ?? null,
    calibration_tolerance_note: 'make bench gates an implementation at p99 <= baseline p99 x (1 + tolerance), req/s >= baseline x (1 - tolerance), p50 >= stub p50 x (1 - tolerance); tolerance from lib/bounds.defaults.json (default 0.15)',
  };
}

/** k6 metrics of the in-run output checks (lib/k6/output-check.ts). */
const IN_RUN_METRIC = /^output_/;

/** One accuracy row per implementation (not per row: a label changes no answer): the latest
 * accuracy.json entry, from the report's accuracy pass when there is one. */
function accuracyRows(runs: RunRecord[], rows: string[]): AccuracyRow[] {
  const out: AccuracyRow[] = [];
  const newestFirst = [...runs].sort((a, b) => b.name.localeCompare(a.name));
  for (const impl of distinctImpls(rows)) {
    const run = newestFirst.find((r) => r.role === 'accuracy' && r.accuracy?.impls[impl]) ?? newestFirst.find((r) => r.accuracy?.impls[impl]);
    const a = run?.accuracy?.impls[impl];
    if (!run || !a) continue;
    out.push({
      impl,
      run: run.name,
      lossless: a.lossless,
      passed: a.passed,
      mode: a.mode,
      images: a.dataset.images,
      reference_detections: a.overall.reference_detections,
      matched: a.overall.matched,
      unmatched: a.overall.unmatched,
      boxes_mse: a.overall.boxes_mse,
      scores_mse: a.overall.scores_mse,
      labels_accuracy: a.overall.labels_accuracy,
      mean_iou: a.overall.mean_iou,
      bounds_source: a.bounds_source,
      failed_gates: a.gates.filter((g) => !g.passed).map((g) => `${g.scope} ${g.metric}`),
      in_run: inRunChecks(run, impl),
    });
  }
  return out;
}

function inRunChecks(run: RunRecord, impl: string): AccuracyRow['in_run'] {
  const t = run.summary.thresholds.filter((x) => IN_RUN_METRIC.test(x.metric) && (x.metric.includes(`impl:${impl}`) || !x.metric.includes('impl:')));
  if (t.length === 0) return null;
  return { ok: t.every((x) => x.ok), failed: t.filter((x) => !x.ok).map((x) => `${x.metric}: ${x.expression}`) };
}

function runRows(runs: RunRecord[], mix: boolean): RunRow[] {
  const count = new Map<string, number>();
  return runs.map((run) => {
    const impls = run.row !== undefined ? [run.row] : run.summary.impls;
    const key = impls.join(',');
    // The round the run was measured in (report-role.json); by position only for runs that lack it,
    // as samplesOf() pairs them, so the Runs table and the speedups name the same rounds.
    const ordinal = (count.get(key) ?? 0) + 1;
    count.set(key, ordinal);
    const round = run.round ?? ordinal;
    const command = (run.env?.['command'] as { make?: string } | undefined)?.make ?? null;
    return {
      name: run.name,
      dir: run.dir,
      scenario: run.summary.scenario,
      impls,
      round,
      levels: [...new Set(run.summary.levels.map((l) => levelOf(l.level, mix)))],
      test_duration_s: run.summary.test_duration_s,
      thresholds_ok: run.summary.thresholds_ok,
      // Verdicts only: the informational bounds (count>=0, ...) cannot fail (lib/informational-threshold.ts).
      failed_thresholds: tallyThresholds(run.summary.thresholds).failed.map((t) => `${t.metric}: ${t.expression}`),
      postprocess: run.summary.postprocess.map((p) => ({ name: p.name, passed: p.passed })),
      exit_code: run.exitCode ?? null,
      server_peak_mb: run.memory?.peak_mb ?? null,
      memory_device: run.memory?.device ?? null,
      make: command,
    };
  });
}

const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

/** Fields of env.json that must agree for runs to be compared; each disagreement is one line. */
const ENV_KEYS = ['cpu.model', 'cpu.cores', 'node', 'onnxruntime_node', 'k6', 'ep', 'server_version', 'git.sha', 'git.dirty'];

function environmentOf(runs: RunRecord[]): Report['environment'] {
  const withEnv = runs.filter((r) => r.env);
  const first = withEnv[0];
  const differences: string[] = [];
  for (const key of ENV_KEYS) {
    const values = new Map<string, string[]>();
    for (const r of withEnv) {
      const v = JSON.stringify(get(r.env, key) ?? null);
      values.set(v, [...(values.get(v) ?? []), r.name]);
    }
    if (values.size > 1) differences.push(`${key} differs: ${[...values].map(([v, names]) => `${v} in ${names.length} run(s) (first ${names[0]})`).join('; ')}`);
  }
  return { first_run: first?.name ?? null, env: first?.env ?? null, differences };
}

/** The in-run checks of rows that have no accuracy.json (no native API to replay over). */
function inRunOnlyRows(runs: RunRecord[], rows: string[], withReplay: AccuracyRow[]): Report['in_run_only'] {
  const out: Report['in_run_only'] = [];
  const newestFirst = [...runs].sort((a, b) => b.name.localeCompare(a.name));
  for (const impl of distinctImpls(rows).filter((i) => !withReplay.some((a) => a.impl === i))) {
    const run = newestFirst.find((r) => r.role === 'accuracy' && r.summary.impls.includes(impl));
    const checks = run ? inRunChecks(run, impl) : null;
    if (run && checks) out.push({ impl, run: run.name, ...checks });
  }
  return out;
}

/** The timing runs that measured the row `row` alone (its label's runs only, when it has one). */
function runsOf(runs: RunRecord[], row: string): RunRecord[] {
  return runs.filter((r) => r.summary.impls.length === 1 && (r.row ?? r.summary.impls[0]) === row);
}

function serverSideRows(runs: RunRecord[], impls: string[]): ServerSideRow[] {
  const out: ServerSideRow[] = [];
  for (const impl of impls) {
    const bs = runsOf(runs, impl).flatMap((r) => (r.breakdown ? [r.breakdown] : []));
    if (bs.length === 0) continue;
    const batches = bs.map((b) => b.mean_batch).filter((x): x is number => x !== null);
    out.push({ impl, runs: bs.length, ...pooledBreakdown(bs), mean_batch: batches.length > 0 ? spread(batches)!.median : null });
  }
  return out;
}

function serversCpuRows(runs: RunRecord[], impls: string[]): ServersCpuRow[] {
  const out: ServersCpuRow[] = [];
  for (const impl of impls) {
    const cs = runsOf(runs, impl).flatMap((r) => (r.serversCpu ? [r.serversCpu] : []));
    if (cs.length === 0) continue;
    const servers = [...new Set(cs.flatMap((c) => Object.keys(c.cpu_s)))];
    const cpu_s = Object.fromEntries(servers.map((k) => [k, spread(cs.map((c) => c.cpu_s[k]).filter((x): x is number => x !== undefined))!.median]));
    out.push({ measured: impl, runs: cs.length, wall_s: spread(cs.map((c) => c.wall_s))!.median, cpu_s });
  }
  return out;
}

/** The mix a report is about: MIX as configured; else, with no sweep among the timed runs, the mix
 * of the first mix run (gathered runs); null: a sweep report. */
function reportMix(meta: ReportMeta, timed: RunRecord[]): MixInfo | null {
  if (meta.config.mix) return meta.config.mix;
  if (timed.some(isSweepRun)) return null;
  const mixes = timed.filter(isMixRun).map((r) => runMix(r) ?? { loop: r.summary.unit === 'vus' ? ('closed' as const) : ('open' as const), streams: [] });
  if (mixes.length === 0) return null;
  const differ = new Set(mixes.map((m) => `${mixText(m.streams)} ${m.loop}`)).size > 1;
  return { ...mixes[0]!, ...(differ ? { varied: true as const } : {}) };
}

/** The columns: LEVELS (or, for a mix, MIX's models) in their order, where measured; else every one
 * found, concurrencies in ascending order, models in the mix's order then by name. */
function columnsOf(meta: ReportMeta, mix: MixInfo | null, samples: Sample[]): Level[] {
  const found = [...new Set(samples.map((s) => s.level))];
  if (mix) {
    const given = mix.streams.map((st) => st.model as Level);
    const wanted = meta.config.mix ? given : [...given, ...found.filter((l) => !given.includes(l)).sort()];
    return wanted.filter((l) => found.includes(l));
  }
  return meta.config.levels.length > 0 ? meta.config.levels.filter((l) => found.includes(l)) : (found as number[]).sort((a, b) => a - b);
}

/** Everything in report.json; charts are filled in by the caller once drawn. Timing comes from
 * timed sweeps (or timed mixes, for a mix report) only; accuracy from any run with accuracy.json
 * (the accuracy pass first). */
export function buildReport(allRuns: RunRecord[], meta: ReportMeta): Report {
  const timed = allRuns.filter(isTimingRun);
  const mix = reportMix(meta, timed);
  const runs = timed.filter(mix ? isMixRun : isSweepRun);
  const samples = samplesOf(runs, mix !== null);
  const levels = columnsOf(meta, mix, samples);
  const measured = samples.filter((s) => levels.includes(s.level));
  // IMPL given: only those; otherwise every implementation found, in the server's order.
  const impls = meta.config.impls.length > 0 ? implOrder(meta.config.impls, measured).filter((i) => meta.config.impls.includes(i)) : implOrder(meta.implementations.map((i) => i.name), measured);
  const results = levelResults(samples, impls, levels);
  const accuracy = accuracyRows(allRuns, impls);
  return {
    version: REPORT_VERSION,
    ...meta,
    impls,
    levels,
    ...(mix ? { mix } : {}),
    runs: runRows(runs, mix !== null),
    results,
    comparisons: { reference: referenceRow(impls), confidence: REPORT_CONFIDENCE, method: ratioMethodText() },
    speedups: speedups(samples, impls, levels),
    ...(meta.tune ? { tuned_ratios: tunedRatios(samples, meta.tune, levels) } : {}),
    bounds: boundsOf(results, levels, meta.calibration),
    accuracy,
    in_run_only: inRunOnlyRows(allRuns, impls, accuracy),
    environment: environmentOf(runs.length > 0 ? runs : allRuns),
    charts: [],
    server_side: serverSideRows(runs, impls),
    servers_cpu: serversCpuRows(runs, impls),
  };
}

// One measured closed-loop run of one load generator against one implementation at one concurrency,
// and what it cost: k6 (our bundled sweep scenario, with or without the in-run output checks), k6's
// engine alone (tools/harness/k6/bare.ts: the same request and executor, nothing else) or vegeta (an
// independent generator, pinned in tools/go/loadgen). The generator's CPU seconds are sampled from /proc.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { cpuSeconds } from '../../lib/node/proc-cpu.ts';
import type { Generator } from './config.ts';
import { quantileSorted } from '../../lib/stats.ts';
import { k6Binary } from '../common/k6.ts';
import { pinned } from '../common/cpu-placement.ts';

interface RunSpec {
  generator: Generator;
  target: string;
  impl: string;
  level: number;
  duration_s: number;
  warmup: number;
  /** One-image dataset: manifest for k6, the image file for vegeta. */
  manifest: string;
  image: { id: string; file: string; contentType: string };
  /** The reference detections.json (k6+checks only). */
  reference?: string;
  /** GOMAXPROCS / GOGC for the generator process, the same for every generator (tools/common/loadgen-runtime.ts). */
  runtime: Record<string, string>;
  /** CPU_PLACEMENT: the CPUs every generator process is pinned to (null: not pinned). */
  cpus: string | null;
  dir: string;
}

export interface GeneratorResult {
  /** Answered requests in the measured window (k6: phase=measure; vegeta: all but the warm-up attack). */
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Share of measured requests that failed (non-2xx or transport error). */
  failed_ratio: number;
  /** The generator process's CPU seconds (user + system), warm-up and start-up included. */
  cpu_s: number;
  /** Requests the CPU figure covers (measured + warm-up). */
  cpu_requests: number;
  /** Generator CPU ms per request in the steady middle of the measured window (null: window too short). */
  steady_cpu_ms_per_request: number | null;
}

/**
 * Runs a generator, sampling its CPU every 250 ms. cpu_s: the last sample (start-up included).
 * steady_cpu_per_s: CPU seconds per wall second in the middle of its last `measured_s` seconds
 * (from 80% to 20% before it exited), where a closed loop runs at its steady rate: divided by the
 * measured requests/s it is the CPU per request without start-up, warm-up and summary.
 */
function runSampled(command: string[], logFile: string, env: NodeJS.ProcessEnv, measured_s: number, cpus: string | null): Promise<{ code: number; cpu_s: number; steady_cpu_per_s: number | null }> {
  return new Promise((resolve, reject) => {
    const log = openSync(logFile, 'w');
    // CPU_PLACEMENT: every generator on the same CPUs, as the bench pins k6.
    const argv = pinned(command, cpus);
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', log, log] });
    const samples: { t: number; cpu: number }[] = [];
    const sample = () => {
      const cpu = child.pid ? cpuSeconds(child.pid) : null;
      if (cpu !== null) samples.push({ t: performance.now() / 1000, cpu });
    };
    const timer = setInterval(sample, 250);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      closeSync(log);
      const end = performance.now() / 1000;
      const inWindow = samples.filter((s) => s.t >= end - 0.8 * measured_s && s.t <= end - 0.2 * measured_s);
      const first = inWindow[0];
      const last = inWindow[inWindow.length - 1];
      const steady = first && last && last.t - first.t >= 0.5 ? (last.cpu - first.cpu) / (last.t - first.t) : null;
      resolve({ code: code ?? 1, cpu_s: samples[samples.length - 1]?.cpu ?? 0, steady_cpu_per_s: steady });
    });
  });
}

const perRequestMs = (cpuPerS: number | null, rps: number): number | null => (cpuPerS === null || rps <= 0 ? null : (cpuPerS / rps) * 1000);

/** The bare script (k6's engine alone) and its bundle; tools/harness/run.ts bundles it before the rounds. */
export const BARE_SOURCE = join('tools', 'harness', 'k6', 'bare.ts');
export const BARE_SCRIPT = join('build', 'k6', 'harness', 'bare.js');

/** The sweep scenario's knobs for one level of one implementation: both k6 scripts read them.
 * `resultsDir`: where the suite's handleSummary writes (the bare script has none: no RESULTS_DIR). */
function k6Env(spec: RunSpec, resultsDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SCENARIO: 'sweep',
    LEVELS: String(spec.level),
    DURATION: `${spec.duration_s}s`,
    WARMUP: String(spec.warmup),
    LEVEL_GAP: '0s',
    TARGET: spec.target,
    IMPL: spec.impl,
    DATASET_MANIFEST: spec.manifest,
    MAX_IMAGES: '0',
    K6_WEB_DASHBOARD: 'false',
    ...spec.runtime,
  };
  delete env['RESULTS_DIR'];
  if (resultsDir) env['RESULTS_DIR'] = resultsDir;
  delete env['REFERENCE'];
  delete env['BOUNDS_RESOLVED'];
  if (spec.reference) env['REFERENCE'] = spec.reference;
  return env;
}

async function runK6(spec: RunSpec): Promise<GeneratorResult> {
  const resultsDir = join(spec.dir, 'k6');
  mkdirSync(resultsDir, { recursive: true });
  const env = k6Env(spec, resultsDir);
  const { code, cpu_s, steady_cpu_per_s } = await runSampled([k6Binary(), 'run', '--no-usage-report', '--quiet', 'build/k6/sweep.js'], join(spec.dir, 'k6.log'), env, spec.duration_s, spec.cpus);
  const summaryFile = join(resultsDir, 'summary.json');
  // 99: a threshold broke (expected for the stub with output checks); the figures still stand.
  if ((code !== 0 && code !== 99) || !existsSync(summaryFile)) throw new Error(`k6 exited ${code} without a summary: see ${join(spec.dir, 'k6.log')}`);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
  const row = summary.levels.find((l) => l.impl === spec.impl);
  if (!row?.latency_ms) throw new Error(`k6 summary ${summaryFile} has no measured row for ${spec.impl}`);
  // The measured phase only: the warm-up's answers (a refusal, say) are not the run's.
  const failed = summary.metrics[`http_req_failed{impl:${spec.impl},phase:measure}`];
  if (!failed) throw new Error(`k6 summary ${summaryFile} has no http_req_failed{impl:${spec.impl},phase:measure}`);
  return {
    requests: row.requests,
    rps: row.rps,
    p50_ms: row.latency_ms.p50,
    p99_ms: row.latency_ms.p99,
    failed_ratio: failed['rate'] ?? 0,
    cpu_s,
    cpu_requests: row.requests + summary.warmup.requests,
    steady_cpu_ms_per_request: perRequestMs(steady_cpu_per_s, row.rps),
  };
}

/** k6's summary export: only the figures the bare run reads. */
interface SummaryExport {
  metrics: Record<string, { count?: number; value?: number; med?: number; 'p(99)'?: number } | undefined>;
}

/**
 * k6's engine alone: a warm-up run of `warmup` iterations, then the measured run of the sweep
 * scenario's executor, whose summary export then holds the measured requests only (no tags to select
 * them by: the script has none, so that k6 spends nothing on them).
 */
async function runK6Bare(spec: RunSpec): Promise<GeneratorResult> {
  const env = k6Env(spec);
  const k6 = k6Binary();
  const run = ['run', '--no-usage-report', '--quiet'];
  if (spec.warmup > 0) {
    const w = await runSampled([k6, ...run, '--vus', String(spec.level), '--iterations', String(spec.warmup), BARE_SCRIPT], join(spec.dir, 'k6-bare-warmup.log'), env, 0, spec.cpus);
    if (w.code !== 0) throw new Error(`k6 (bare) warm-up exited ${w.code}: see ${join(spec.dir, 'k6-bare-warmup.log')}`);
  }
  const summaryFile = join(spec.dir, 'summary-export.json');
  const { code, cpu_s, steady_cpu_per_s } = await runSampled([k6, ...run, `--summary-export=${summaryFile}`, BARE_SCRIPT], join(spec.dir, 'k6-bare.log'), env, spec.duration_s, spec.cpus);
  if (code !== 0 || !existsSync(summaryFile)) throw new Error(`k6 (bare) exited ${code} without a summary: see ${join(spec.dir, 'k6-bare.log')}`);
  const m = (JSON.parse(readFileSync(summaryFile, 'utf8')) as SummaryExport).metrics;
  const reqs = m['http_reqs']?.count ?? 0;
  const failed = m['http_req_failed']?.value ?? 0;
  const latency = m['http_req_duration'];
  if (reqs === 0 || latency?.med === undefined) throw new Error(`k6 (bare) measured no request: see ${join(spec.dir, 'k6-bare.log')}`);
  // Failed requests count as k6's own summary counts them: http_req_failed (non-2xx or no answer).
  const ok = Math.round(reqs * (1 - failed));
  const rps = ok / spec.duration_s;
  return {
    requests: ok,
    rps,
    // All requests' latencies (the script has no expected_response sub-metric: it would cost a threshold).
    p50_ms: latency.med,
    p99_ms: latency['p(99)'] ?? latency.med,
    failed_ratio: failed,
    cpu_s,
    cpu_requests: reqs,
    steady_cpu_ms_per_request: perRequestMs(steady_cpu_per_s, rps),
  };
}

function vegetaBinary(): string {
  if (!existsSync('build/bin/vegeta')) throw new Error(`no vegeta binary: run 'make loadgen'`);
  return 'build/bin/vegeta';
}

/** One line of `vegeta encode -to json`: when the request went out, its status and latency (ns). */
interface VegetaResult {
  timestamp: string;
  code: number;
  latency: number;
  error: string;
}

/**
 * The figures of a vegeta attack over its first `duration_s` seconds, counted as k6 counts them:
 * answers that arrived within the window (k6 stops its closed loop at the end and drops what is in
 * flight; vegeta waits for those answers and its report counts them, up to its concurrency of slow
 * requests past the window). Latencies are the accepted (2xx) answers'.
 */
export function vegetaWindow(results: VegetaResult[], duration_s: number): { answered: number; ok: number; p50_ms: number; p99_ms: number } {
  if (results.length === 0) return { answered: 0, ok: 0, p50_ms: 0, p99_ms: 0 };
  const start = results.reduce((m, r) => Math.min(m, Date.parse(r.timestamp)), Infinity);
  const end = start + duration_s * 1000;
  const inWindow = results.filter((r) => Date.parse(r.timestamp) + r.latency / 1e6 <= end);
  const okMs = inWindow.filter((r) => r.code >= 200 && r.code < 300 && !r.error).map((r) => r.latency / 1e6).sort((a, b) => a - b);
  // Interpolated like k6 (lib/stats.ts), so the two generators. percentiles compare.
  const at = (p: number) => (okMs.length === 0 ? 0 : quantileSorted(okMs, p / 100));
  return { answered: inWindow.length, ok: okMs.length, p50_ms: at(50), p99_ms: at(99) };
}

async function runVegeta(spec: RunSpec): Promise<GeneratorResult> {
  const vegeta = vegetaBinary();
  const env: NodeJS.ProcessEnv = { ...process.env, ...spec.runtime };
  const targets = join(spec.dir, 'targets.txt');
  writeFileSync(targets, `POST ${spec.target}/infer/${spec.impl}\nContent-Type: ${spec.image.contentType}\nX-Image-Id: ${spec.image.id}\n@${spec.image.file}\n`);
  // rate=0 with a fixed worker pool is vegeta's closed loop: `level` requests in flight at all times.
  const attack = (duration: number, out: string) => [vegeta, 'attack', `-targets=${targets}`, '-rate=0', `-workers=${spec.level}`, `-max-workers=${spec.level}`, `-duration=${duration}s`, '-timeout=120s', `-output=${out}`];
  // Warm-up by time (vegeta has no request count): about `warmup` requests' worth, at least 2 s.
  if (spec.warmup > 0) await runSampled(attack(2, join(spec.dir, 'warmup.bin')), join(spec.dir, 'vegeta-warmup.log'), env, 2, spec.cpus);
  const bin = join(spec.dir, 'results.bin');
  const { code, cpu_s, steady_cpu_per_s } = await runSampled(attack(spec.duration_s, bin), join(spec.dir, 'vegeta.log'), env, spec.duration_s, spec.cpus);
  if (code !== 0) throw new Error(`vegeta attack exited ${code}: see ${join(spec.dir, 'vegeta.log')}`);
  const encoded = join(spec.dir, 'results.jsonl');
  const enc = await runSampled([vegeta, 'encode', '-to=json', `-output=${encoded}`, bin], join(spec.dir, 'vegeta-encode.log'), process.env, 0, spec.cpus);
  if (enc.code !== 0) throw new Error(`vegeta encode exited ${enc.code}: see ${join(spec.dir, 'vegeta-encode.log')}`);
  const results = readFileSync(encoded, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as VegetaResult);
  const w = vegetaWindow(results, spec.duration_s);
  return {
    requests: w.ok,
    // Like k6's figure: answers within the planned measuring time, over that time.
    rps: w.ok / spec.duration_s,
    p50_ms: w.p50_ms,
    p99_ms: w.p99_ms,
    failed_ratio: w.answered === 0 ? 0 : 1 - w.ok / w.answered,
    cpu_s,
    cpu_requests: results.length,
    steady_cpu_ms_per_request: perRequestMs(steady_cpu_per_s, w.ok / spec.duration_s),
  };
}

export function runGenerator(spec: RunSpec): Promise<GeneratorResult> {
  mkdirSync(spec.dir, { recursive: true });
  switch (spec.generator) {
    case 'vegeta':
      return runVegeta(spec);
    case 'k6-bare':
      return runK6Bare(spec);
    default:
      return runK6(spec);
  }
}

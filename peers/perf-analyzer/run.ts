// `make perf-analyzer`: Triton's perf_analyzer (installed by peers/perf-analyzer/install.sh) measures a
// v2 model of our server (started here unless TARGET is set) with binary tensors, one run per
// concurrency level, input = the prepared letterboxed tensor of the first dataset image (the same
// bytes k6 sends with PROTOCOL=v2 V2_MODELS=d0,d1,d2). Writes results/<timestamp>-perf-analyzer-<model>-<impl>/:
// perf_analyzer.csv (its own -f CSV, one row per level), perf_analyzer.json (req/s, latency
// percentiles and the server's queue / compute split per level, ms), perf_analyzer.log, command.txt, server.log (when started here).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { ConfigError, type Env } from '../../lib/env.ts';
import { duration, durationIn, int, knob, list, oneOf, readKnobs, text } from '../../lib/knobs.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import type { TensorManifest } from '../../lib/v2/tensors.ts';
import { implementationNames } from '../../server/index.ts';
import { prepareTensors, tensorsConfig } from '../../tools/data/tensors.ts';
import { BENCH_KNOBS } from '../../tools/bench/config.ts';
import { timestamp } from '../../tools/common/results.ts';
import { BenchError, note, step } from '../../tools/common/progress.ts';
import { startServer, stopServer, type StartedServer } from '../../tools/common/server-process.ts';
import { waitReadyV2 } from '../../tools/common/ready.ts';
import { isMain } from '../../lib/node/is-main.ts';

export const PERF_ANALYZER = join('build', 'perf-analyzer', 'perf_analyzer');

export interface PerfAnalyzerConfig {
  /** The v2 model's name, efficientdet-dN (from V2_MODELS=dN). */
  model: string;
  /** Model version: a number, or an implementation name of our server (mapped to its number). */
  impl: string;
  /** LEVELS: perf_analyzer's concurrency, one run per level. */
  concurrency: number[];
  target: string;
  measurementIntervalMs: number;
  measurementMode: 'time_windows' | 'count_windows';
  measurementRequestCount: number;
  /** Extra perf_analyzer arguments, space separated. */
  extraArgs: string[];
  resultsRoot: string;
  readyTimeout_s: number;
  /** EP and MODELS_DIR of the server started here (no TARGET). */
  ep: string;
  modelsDir: string;
}

export const PERF_ANALYZER_KNOBS = {
  /** The suite's V2_MODELS (per-model v2 models), one of them: perf_analyzer measures one model per run. */
  model: knob<ModelName>({ env: 'V2_MODELS', tier: 'expert', default: 'd0', ...oneOf(MODEL_NAMES), allowed: `one of ${MODEL_NAMES.join(', ')} (one model per run)`, doc: 'the per-model v2 model efficientdet-dN perf_analyzer measures (its tensors are the prepared ones)' }),
  impl: knob({ env: 'IMPL', tier: 'essential', default: 'baseline', ...text('an implementation name or a version number'), doc: 'the implementation under test, as the model version (our names map to their registry number)' }),
  concurrency: knob({ env: 'LEVELS', tier: 'essential', default: [1, 8], ...list(int(1), 'a comma list of positive integers such as 1,8'), doc: 'closed-loop concurrency levels (perf_analyzer --concurrency-range), one run each' }),
  target: knob({ env: 'TARGET', tier: 'essential', default: '', defaultText: '(start a server)', ...text('http://host:port'), doc: 'measure a running v2 server instead' }),
  measurementIntervalMs: knob({ env: 'MEASUREMENT_INTERVAL', tier: 'expert', default: 10000, ...durationIn('ms', '100ms', '1h'), doc: 'perf_analyzer --measurement-interval' }),
  measurementMode: knob<'time_windows' | 'count_windows'>({ env: 'MEASUREMENT_MODE', tier: 'expert', default: 'time_windows', ...oneOf(['time_windows', 'count_windows'] as const), doc: 'perf_analyzer --measurement-mode' }),
  measurementRequestCount: knob({ env: 'MEASUREMENT_REQUEST_COUNT', tier: 'expert', default: 50, ...int(1), doc: 'perf_analyzer --measurement-request-count (count_windows)' }),
  extraArgs: knob({ env: 'PA_ARGS', tier: 'expert', default: [] as string[], defaultText: '-', allowed: 'perf_analyzer arguments, space separated', parse: (raw) => raw.split(/\s+/).filter(Boolean), doc: 'extra perf_analyzer arguments' }),
  resultsRoot: knob({ env: 'RESULTS_ROOT', tier: 'expert', default: 'results', ...text('folder'), doc: 'where the run folder goes' }),
  readyTimeout_s: knob({ env: 'READY_TIMEOUT', tier: 'expert', default: 300, defaultText: '300s', ...duration, doc: 'how long to wait for the server to be ready' }),
  ep: knob({ ...BENCH_KNOBS.ep, doc: 'execution provider of the server started here (no TARGET)' }),
  modelsDir: knob({ ...BENCH_KNOBS.modelsDir, doc: 'models of the server started here (no TARGET)' }),
};

export function perfAnalyzerConfig(env: Env): PerfAnalyzerConfig {
  const k = readKnobs(PERF_ANALYZER_KNOBS, env);
  return { ...k, model: `efficientdet-${k.model}`, target: k.target.replace(/\/+$/, '') };
}

/** perf_analyzer parses versions as integers: our implementation names map to their registry number. */
export function versionFor(impl: string): string {
  if (/^\d+$/.test(impl)) return impl;
  const i = implementationNames().indexOf(impl);
  if (i < 0) throw new ConfigError(`IMPL=${impl} is not valid: expected a version number or one of ${implementationNames().join(', ')}`);
  return String(i + 1);
}

export interface LevelResult {
  concurrency: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** Server-side split as perf_analyzer reads it from the statistics extension (per request, ms). */
  server_queue_ms: number;
  server_compute_infer_ms: number;
}

/** Reads perf_analyzer's -f CSV (latencies in microseconds). */
export function parsePerfAnalyzerCsv(text: string): LevelResult[] {
  const [head, ...rows] = text.trim().split('\n');
  const cols = (head ?? '').split(',');
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new BenchError(`perf_analyzer CSV has no column '${name}' (columns: ${cols.join(', ')})`);
    return i;
  };
  return rows.map((line) => {
    const v = line.split(',').map(Number);
    const ms = (name: string) => v[at(name)]! / 1000;
    return { concurrency: v[at('Concurrency')]!, rps: v[at('Inferences/Second')]!, p50_ms: ms('p50 latency'), p90_ms: ms('p90 latency'), p95_ms: ms('p95 latency'), p99_ms: ms('p99 latency'), server_queue_ms: ms('Server Queue'), server_compute_infer_ms: ms('Server Compute Infer') };
  });
}

function runLogged(cmd: string, args: string[], log: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tee = (d: Buffer) => {
      appendFileSync(log, d);
      process.stdout.write(d);
    };
    child.stdout.on('data', tee);
    child.stderr.on('data', tee);
    child.on('error', reject);
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

export async function runPerfAnalyzer(cfg: PerfAnalyzerConfig): Promise<{ runDir: string; results: LevelResult[]; exitCode: number }> {
  if (!existsSync(PERF_ANALYZER)) throw new BenchError(`${PERF_ANALYZER} is missing: run 'make perf-analyzer-install' (make perf-analyzer does it first)`);
  const model = cfg.model.slice('efficientdet-'.length) as ModelName;
  const version = versionFor(cfg.impl);
  const runDir = resolve(cfg.resultsRoot, `${timestamp()}-perf-analyzer-${cfg.model}-${cfg.impl}`);
  mkdirSync(runDir, { recursive: true });
  note(`perf_analyzer ${cfg.model} version ${version} (${cfg.impl}) at concurrency ${cfg.concurrency.join(',')} -> ${runDir}`);

  // Input: the first image's prepared tensor, as a file named after the input (perf_analyzer's
  // --input-data <dir> reads raw binary tensors that way).
  const manifestPath = await step('prepared tensors', () => prepareTensors(tensorsConfig(process.env)));
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as TensorManifest;
  const first = manifest.images[0]?.tensors[model];
  if (!first) throw new BenchError(`${manifestPath} has no ${model} tensor: rerun 'make data'`);
  const inputDir = join(runDir, 'input-data');
  mkdirSync(inputDir);
  copyFileSync(join(dirname(manifestPath), first.file), join(inputDir, 'images'));

  let server: StartedServer | undefined;
  try {
    let target = cfg.target;
    if (!target) {
      const impl = /^\d+$/.test(cfg.impl) ? implementationNames()[Number(cfg.impl) - 1] ?? cfg.impl : cfg.impl;
      server = await step('start server and wait until ready', () =>
        startServer({ host: '127.0.0.1', port: 0, ep: cfg.ep, modelsDir: cfg.modelsDir, logFile: join(runDir, 'server.log'), readyTimeout_s: cfg.readyTimeout_s, env: { IMPL: impl, LOG_LEVEL: 'warn' } }),
      );
      target = server.url;
    } else await step(`target ${target} ready over v2`, () => waitReadyV2(target, cfg.readyTimeout_s, cfg.model));

    const csv = join(runDir, 'perf_analyzer.csv');
    const log = join(runDir, 'perf_analyzer.log');
    const commands: string[] = [];
    let header = '';
    const rows: string[] = [];
    let exitCode = 0;
    for (const c of cfg.concurrency) {
      const levelCsv = join(runDir, `perf_analyzer.c${c}.csv`);
      const args = [
        '-m', cfg.model, '-x', version, '-u', target.replace(/^https?:\/\//, ''), '-i', 'http', '-b', '1',
        '--concurrency-range', `${c}:${c}`,
        '--input-data', inputDir, '--input-tensor-format', 'binary', '--output-tensor-format', 'binary',
        '--measurement-mode', cfg.measurementMode, '--measurement-interval', String(cfg.measurementIntervalMs),
        ...(cfg.measurementMode === 'count_windows' ? ['--measurement-request-count', String(cfg.measurementRequestCount)] : []),
        '-f', levelCsv, ...cfg.extraArgs,
      ];
      commands.push([PERF_ANALYZER, ...args].join(' '));
      const code = await step(`perf_analyzer concurrency ${c}`, () => runLogged(PERF_ANALYZER, args, log));
      if (code !== 0) {
        note(`perf_analyzer exited ${code} at concurrency ${c}: see ${log}`);
        exitCode = code;
        break;
      }
      const [h, ...r] = readFileSync(levelCsv, 'utf8').trim().split('\n');
      header = h ?? header;
      rows.push(...r);
    }
    writeFileSync(join(runDir, 'command.txt'), `${commands.join('\n')}\n`);
    if (rows.length > 0) writeFileSync(csv, `${[header, ...rows].join('\n')}\n`);
    const results = rows.length > 0 ? parsePerfAnalyzerCsv(readFileSync(csv, 'utf8')) : [];
    writeFileSync(join(runDir, 'perf_analyzer.json'), JSON.stringify({ model: cfg.model, version, impl: cfg.impl, target, levels: results, commands }, null, 2));
    for (const r of results) note(`concurrency ${r.concurrency}: ${r.rps.toFixed(3)} req/s, p50 ${r.p50_ms.toFixed(1)} ms, p99 ${r.p99_ms.toFixed(1)} ms`);
    note(`results in ${runDir}`);
    return { runDir, results, exitCode };
  } finally {
    if (server) await stopServer(server);
  }
}

if (isMain(import.meta.url)) {
  try {
    const r = await runPerfAnalyzer(perfAnalyzerConfig(process.env));
    process.exit(r.exitCode);
  } catch (e) {
    if (e instanceof BenchError || e instanceof ConfigError) {
      console.error(`perf-analyzer: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}

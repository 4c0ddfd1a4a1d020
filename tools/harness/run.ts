// `make harness`: measures the measurer (MLPerf's "with and without loadgen overhead"). On one server
// the bench starts, in interleaved rounds:
//   - k6 (our scenario, with and without in-run output checks, and k6's engine alone: the same request
//     from a script that does nothing else) against vegeta, an independent load generator, at each
//     concurrency level, on the stub and on baseline: requests/s and p50 side by side, and each
//     generator's CPU per request (and the server's);
//   - served baseline against the in-process limit (make bench-models on the same image): HTTP
//     overhead per request in ms and %.
// Writes results/harness/<timestamp>/harness.json and harness.txt (results/harness/latest); make
// report quotes the latest one.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { contentTypeOf, MANIFEST_FILE, type DatasetManifest } from '../../lib/dataset.ts';
import { bundleScenarios } from '../build.ts';
import { prepareReference } from '../accuracy/replay.ts';
import { BenchError, note, step } from '../common/progress.ts';
import { startServer, stopServer } from '../common/server-process.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import { harnessConfig, type Generator, type HarnessConfig } from './config.ts';
import { describeLoadgenRuntime, loadgenRuntimeEnv } from '../common/loadgen-runtime.ts';
import { describePlacement, resolvePlacement } from '../common/cpu-placement.ts';
import { cpuSeconds } from '../../lib/node/proc-cpu.ts';
import { BARE_SCRIPT, BARE_SOURCE, runGenerator, type GeneratorResult } from './generators.ts';
import { inProcessRequests, type InProcessRequests } from './in-process.ts';
import { median } from '../../lib/stats.ts';
import { harnessTable, summarise, type HarnessReport, type HarnessRun } from './report.ts';
import type { HealthResponse } from '../../lib/types.ts';
import { getJson } from '../../lib/node/server-api.ts';
import { pollUntil } from '../common/ready.ts';

/**
 * Waits until no request is queued on the server. A closed-loop generator that stops leaves up to its
 * concurrency of requests behind (seconds of work on a slow implementation), which would slow
 * the next run's start and fill the queue its warm-up then meets (503 queue_full).
 */
function waitDrained(url: string, timeout_s = 120): Promise<void> {
  return pollUntil({
    timeout_s,
    interval_ms: 200,
    probe: async () => {
      const health = await getJson<HealthResponse>(`${url}/health`);
      const pending = Object.values(health.queues ?? {}).reduce((n, q) => n + q.pending, 0);
      return pending === 0 ? { done: true, value: undefined } : { done: false, last: String(pending) };
    },
    onTimeout: (pending) => new BenchError(`the server still has ${pending} queued request(s) after ${timeout_s} s; see its log`),
  });
}

/** A dataset of the one image every request sends: for k6's manifest, bench-models and the reference. */
function oneImageDataset(image: string, dir: string): { manifest: string; dir: string; id: string; file: string; contentType: string } {
  if (!existsSync(image)) throw new BenchError(`IMAGE=${image} does not exist: run 'make data' or point IMAGE at a JPEG/PNG/WebP file`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, basename(image));
  copyFileSync(image, file);
  const id = basename(image).replace(/\.[^.]+$/, '');
  const m: DatasetManifest = { name: `harness-${id}`, images: [{ id, file: basename(image), bytes: readFileSync(file).length }] };
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m, null, 2));
  return { manifest: resolve(dir, MANIFEST_FILE), dir: resolve(dir), id, file: resolve(file), contentType: contentTypeOf(file) };
}

interface ModelRow { model: string; median_ms: number; letterbox_ms?: number }

/** Per model, the median over rounds of bench-models' medians (and letterbox times), as report.ts takes the generators' medians over rounds. */
function medianModelRows(rounds: ModelRow[][]): ModelRow[] {
  const names = [...new Set(rounds.flat().map((r) => r.model))];
  return names.map((model) => {
    const rows = rounds.flatMap((rs) => rs.filter((r) => r.model === model));
    const letterbox = rows.flatMap((r) => (r.letterbox_ms !== undefined ? [r.letterbox_ms] : []));
    return { model, median_ms: median(rows.map((r) => r.median_ms)), ...(letterbox.length > 0 ? { letterbox_ms: median(letterbox) } : {}) };
  });
}

/** The in-process request's figures as medians over rounds (runs: all of them). */
function medianInProcess(rounds: InProcessRequests[]): InProcessRequests | undefined {
  const first = rounds[0];
  if (!first) return undefined;
  const of = (k: 'median_ms' | 'p90_ms' | 'decode_ms' | 'infer_ms' | 'letterbox_ms') => median(rounds.map((r) => r[k]));
  return { impl: first.impl, runs: rounds.reduce((n, r) => n + r.runs, 0), median_ms: of('median_ms'), p90_ms: of('p90_ms'), decode_ms: of('decode_ms'), infer_ms: of('infer_ms'), letterbox_ms: of('letterbox_ms') };
}

/** make bench-models on the same image (batch 1, the server's session settings): the in-process limit. */
function inProcessModels(cfg: HarnessConfig, datasetDir: string, outDir: string): Promise<ModelRow[]> {
  mkdirSync(outDir, { recursive: true });
  return new Promise((resolvePromise, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATASET_DIR: datasetDir, BATCHES: '1', MODEL_RUNS: String(cfg.modelRuns), RESULTS_DIR: outDir, VARIANTS: 'float' };
    delete env['THREADS'];
    delete env['MODELS'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/model-bench/bench.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new BenchError(`bench-models exited ${code}`));
      const file = readdirSync(outDir).filter((f) => f.endsWith('.json')).sort().pop();
      if (!file) return reject(new BenchError(`bench-models wrote no JSON into ${outDir}`));
      resolvePromise((JSON.parse(readFileSync(join(outDir, file), 'utf8')) as { rows: ModelRow[] }).rows);
    });
  });
}

async function runHarness(cfg: HarnessConfig): Promise<HarnessReport> {
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const root = resolve(cfg.resultsRoot, 'harness');
  const runDir = join(root, stamp);
  mkdirSync(runDir, { recursive: true });
  note(`harness: ${cfg.impls.join(',')} x concurrency ${cfg.levels.join(',')} x ${cfg.generators.join(',')}, ${cfg.rounds} round(s) of ${cfg.duration_s}s -> ${runDir}`);
  await step('bundle scenarios/sweep.ts', () => bundleScenarios([join('scenarios', 'sweep.ts')]));
  if (cfg.generators.includes('k6-bare')) await step(`bundle ${BARE_SOURCE}`, () => bundleScenarios([BARE_SOURCE], dirname(BARE_SCRIPT)));
  const data = oneImageDataset(cfg.image, join(runDir, 'dataset'));
  const reference = cfg.generators.includes('k6+checks') ? await step('accuracy reference', () => prepareReference({ datasetDir: data.dir, maxImages: 1 })) : undefined;

  // The server runs here: every generator gets the same Go runtime settings (GOMAXPROCS, GOGC).
  const runtime = loadgenRuntimeEnv({ gomaxprocs: cfg.loadgenGomaxprocs, gogc: cfg.loadgenGogc }, '');
  note(`generators' Go runtime: ${describeLoadgenRuntime(runtime)}`);
  const runs: HarnessRun[] = [];
  const modelRounds: ModelRow[][] = [];
  const requestRounds: InProcessRequests[] = [];
  const placement = resolvePlacement(cfg.cpuPlacement);
  note(`CPU placement ${describePlacement(placement)}`);
  const server = await step('start server and wait until ready', () =>
    startServer({ host: '127.0.0.1', port: 0, ep: 'cpu', modelsDir: resolve('build/models'), logFile: join(runDir, 'server.log'), readyTimeout_s: 300, env: { IMPL: cfg.impls.join(','), LOG_LEVEL: cfg.logLevel }, cpus: placement.server_cpus }),
  );
  try {
    for (let round = 1; round <= cfg.rounds; round++) {
      for (const impl of cfg.impls) {
        for (const level of cfg.levels) {
          // The generators take turns within a round, so drift of the machine hits them alike.
          const order: Generator[] = round % 2 === 1 ? cfg.generators : [...cfg.generators].reverse();
          for (const generator of order) {
            const dir = join(runDir, 'runs', `r${round}-${impl}-c${level}-${generator}`);
            await waitDrained(server.url);
            const serverCpu0 = cpuSeconds(server.child.pid!) ?? 0;
            const r: GeneratorResult = await step(`round ${round}: ${generator} on ${impl} at concurrency ${level}`, () =>
              runGenerator({ generator, target: server.url, impl, level, duration_s: cfg.duration_s, warmup: Math.max(cfg.warmup, level), manifest: data.manifest, image: data, runtime, cpus: placement.loadgen_cpus, ...(generator === 'k6+checks' && reference ? { reference } : {}), dir }),
            );
            const server_cpu_s = (cpuSeconds(server.child.pid!) ?? serverCpu0) - serverCpu0;
            runs.push({ round, impl, level, generator, ...r, server_cpu_s });
            note(`${generator} ${impl} c${level}: ${r.rps.toFixed(1)} req/s, p50 ${r.p50_ms.toFixed(2)} ms, p99 ${r.p99_ms.toFixed(2)} ms, failed ${(r.failed_ratio * 100).toFixed(1)}%, generator CPU ${r.steady_cpu_ms_per_request?.toFixed(3) ?? 'n/a'} ms/request (steady), ${((r.cpu_s / Math.max(1, r.cpu_requests)) * 1000).toFixed(3)} with start-up`);
          }
        }
      }
      // The in-process limits in every round too, while the server idles (drained, its onnxruntime
      // threads asleep): the machine's drift over the run then hits the served and the in-process
      // figures alike (measured once after the server stopped, they were minutes apart: 1.0% over
      // the in-process request in one run, 6.8% in the next).
      if (cfg.impls.includes('baseline')) {
        await waitDrained(server.url);
        modelRounds.push(await step(`round ${round}: in-process limit: make bench-models on the same image`, () => inProcessModels(cfg, data.dir, join(runDir, 'models', `r${round}`))));
        requestRounds.push(await step(`round ${round}: in-process limit: the baseline implementation on the same image, no HTTP`, () => inProcessRequests('baseline', data.file, cfg.modelRuns, resolve('build/models'), 10)));
      }
    }
  } finally {
    await step('stop server', () => stopServer(server));
  }
  const models = medianModelRows(modelRounds);
  const inProcess = medianInProcess(requestRounds);

  const report: HarnessReport = summarise({
    created: new Date().toISOString(),
    host: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    config: cfg,
    loadgen_runtime: runtime,
    cpu_placement: placement,
    image: data.id,
    runs,
    models,
    ...(inProcess ? { inProcess } : {}),
  });
  writeFileSync(join(runDir, 'harness.json'), JSON.stringify(report, null, 2));
  const text = harnessTable(report);
  writeFileSync(join(runDir, 'harness.txt'), text);
  const latest = join(root, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(basename(runDir), latest);
  console.log(`\n${text}`);
  note(`results in ${runDir} (results/harness/latest)`);
  return report;
}

if (isMain(import.meta.url)) runMain('harness', () => runHarness(harnessConfig(process.env)).then(() => undefined), { expected: [BenchError] });

// `make bench`: one command from nothing to a self-describing results folder and an exit code.
// Steps (one progress line each): bundle -> dataset -> server (start or TARGET) -> bounds ->
// scrape before -> k6 (+ memory sampling) -> scrape after -> post-processing -> stop server ->
// write results/<timestamp>-<scenario>-<impl>/ -> results/latest. Exit: 97 when the server was lost
// mid-run (watchdog.ts: k6 stopped, folder kept and marked INCOMPLETE), else k6's status (99 =
// thresholds failed), else 98 when a post-processing gate failed, else 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { resolveAccuracy, resolveBounds, type BoundsFile, type Calibration, type ResolvedBounds } from '../../lib/bounds.ts';
import { MANIFEST_FILE, type DatasetManifest } from '../../lib/dataset.ts';
import { ConfigError } from '../../lib/env.ts';
import { planFor, type Plan } from '../../lib/scenarios.ts';
import { junitXml, summaryText, type Summary } from '../../lib/summary.ts';
import type { HealthResponse, MemoryResponse } from '../../lib/types.ts';
import { bundleScenarios } from '../build.ts';
import { benchConfig, type BenchConfig } from './config.ts';
import { envInfo } from './env-info.ts';
import { POST_RUN_STEPS, type PostRunContext } from './post-run.ts';
import { implementationIsLossless, prepareReference } from '../accuracy/replay.ts';
import { imageId, listImages } from '../data/dataset.ts';
import { readBoundsFile } from '../../lib/node/bounds-file.ts';
import { BenchError, note, step } from './progress.ts';
import { getJson, getText } from '../../lib/node/server-api.ts';
import { sampleMemory, startServer, stopServer, waitReady, type MemorySample, type StartedServer } from './server.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import { runRunners } from './runners.ts';
import { sampleCpu } from './cpu.ts';
import { v2InputsEnv, waitReadyV2 } from './v2-target.ts';
import { v2ModelName } from '../../lib/v2/config.ts';
import { cutAtFault, interruptK6, watchServer } from './watchdog.ts';
import { describeLoadgenRuntime, loadgenRuntimeEnv } from './loadgen-runtime.ts';

export const EXIT_POSTPROCESS_FAILED = 98;
/** The server under test exited or stopped answering /health during the run. */
export const EXIT_SERVER_LOST = 97;
export const SYNTHETIC_DIR = join('build', 'data', 'synthetic');

export interface RunResult {
  runDir: string;
  exitCode: number;
  k6Code: number;
  summary: Summary | null;
  /** Why the run is incomplete (the watchdog's line), if it is. */
  fault?: string;
}

export function k6Binary(): string {
  const path = existsSync('build/k6.path') ? readFileSync('build/k6.path', 'utf8').trim() : '';
  if (!path || !existsSync(path)) throw new BenchError(`no k6 binary (build/k6.path ${path ? `names missing ${path}` : 'is missing'}): run 'make k6'`);
  return path;
}

/** Run-folder timestamp: ISO 8601 without ':' or fractions, so names sort by start time. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
}

/** The manifest k6 reads: the synthetic one, or one written for DATASET_DIR (k6 cannot list folders). */
export function datasetManifest(cfg: BenchConfig, runDir: string): { manifest: string; dir: string; count: number } {
  if (!cfg.datasetDir) {
    const manifest = resolve(SYNTHETIC_DIR, MANIFEST_FILE);
    if (!existsSync(manifest)) throw new BenchError(`no synthetic dataset at ${SYNTHETIC_DIR}: run 'make data' or set DATASET_DIR`);
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as DatasetManifest;
    return { manifest, dir: resolve(SYNTHETIC_DIR), count: cfg.maxImages > 0 ? Math.min(cfg.maxImages, m.images.length) : m.images.length };
  }
  const dir = resolve(cfg.datasetDir);
  if (!existsSync(dir)) throw new BenchError(`DATASET_DIR=${cfg.datasetDir} does not exist: point it at a folder of JPEG/PNG images`);
  let chosen: string[];
  try {
    chosen = listImages(dir, cfg.maxImages);
  } catch (e) {
    throw new BenchError(`DATASET_DIR=${cfg.datasetDir}: ${(e as Error).message}`);
  }
  const manifest: DatasetManifest = {
    name: basename(dir),
    images: chosen.map((f) => ({ id: imageId(f), file: join(dir, f), bytes: readFileSync(join(dir, f)).length })),
  };
  const path = resolve(runDir, 'dataset-manifest.json');
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return { manifest: path, dir, count: chosen.length };
}

export function loadBoundsFile(cfg: BenchConfig): BoundsFile {
  return readBoundsFile(cfg.boundsFile);
}

/** The one reader of the host calibration (bench and report): none with CALIBRATION=0 or without the file. */
export function loadCalibration(cfg: Pick<BenchConfig, 'useCalibration' | 'calibrationFile'>): Calibration | undefined {
  if (!cfg.useCalibration || !existsSync(cfg.calibrationFile)) return undefined;
  try {
    return JSON.parse(readFileSync(cfg.calibrationFile, 'utf8')) as Calibration;
  } catch (e) {
    throw new ConfigError(`CALIBRATION_FILE=${cfg.calibrationFile} is not valid JSON (${(e as Error).message}): run 'make calibrate' again, or CALIBRATION=0`);
  }
}

/** Snapshot period of the web dashboard: about 10 snapshots per timed run (1 s to 10 s); counted
 * runs (smoke, coldstart) have no planned length, so a short period. */
export function dashboardPeriod(plan: Plan): string {
  const total = Math.max(0, ...plan.levels.map((l) => l.start_s + l.duration_s));
  return total === 0 ? '200ms' : `${Math.max(1, Math.min(10, Math.floor(total / 10)))}s`;
}

/** k6's dashboard writes no report for a run shorter than about two snapshots; say so in a page of our own. */
export function fallbackDashboard(summary: Summary | null): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!doctype html>\n<html lang="en"><head><meta charset="UTF-8"><title>bench ${esc(summary?.scenario ?? '')}</title></head><body>\n<h1>k6 web dashboard: no report</h1>\n<p>The run was too short for the k6 web dashboard to write its report (fewer than two snapshots). The figures below are the run's summary.</p>\n<pre>${esc(summary ? summaryText(summary) : 'k6 wrote no summary')}</pre>\n</body></html>\n`;
}

function runK6(k6: string, args: string[], env: NodeJS.ProcessEnv, onSpawn: (child: ChildProcess) => void = () => {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(k6, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const cpu = sampleCpu(child.pid);
    onSpawn(child);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      note(`k6 CPU: ${cpu.stop() ?? '?'} s`);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** Runs one bench. `extraEnv` overrides process.env for the plan and for k6 (calibrate uses it). */
export async function runBench(cfg: BenchConfig, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, SCENARIO: cfg.scenario };
  const plan: Plan = planFor(cfg.scenario, env);
  const k6 = k6Binary();
  const implLabel = cfg.impl.replace(/,/g, '+');
  const runDir = resolve(cfg.resultsRoot, `${timestamp()}-${cfg.scenario}-${implLabel}`);
  mkdirSync(runDir, { recursive: true });
  note(`${cfg.scenario} (${plan.kind}) on ${cfg.impl} -> ${runDir}`);

  const [script] = await step(`bundle scenarios/${plan.kind}.ts`, () => bundleScenarios([join('scenarios', `${plan.kind}.ts`)]));
  const dataset = await step('dataset', () => datasetManifest(cfg, runDir));
  note(`dataset: ${dataset.count} image(s) from ${dataset.dir}`);

  // The baseline reference for the in-run output checks: built (or found fresh) in-process before any
  // server starts, so building it never competes with the measured run for the CPU.
  const reference = cfg.accuracy ? await step('accuracy reference', () => prepareReference({ datasetDir: dataset.dir, maxImages: cfg.maxImages })) : undefined;

  let server: StartedServer | undefined;
  let target = cfg.target;
  let health: HealthResponse;
  let readyMs: number | null = null;
  // PROTOCOL=v2 hook: a target may speak only v2 (then no native accuracy replay), and per-model
  // requests need the prepared tensors.
  let nativeApi = true;
  const v2Env = cfg.protocol === 'v2' ? await step('v2 inputs', () => v2InputsEnv(cfg.v2Models, dataset.dir)) : {};
  try {
    if (target) {
      if (plan.kind === 'coldstart') note('coldstart with TARGET: the server is already running, so its first request here is not a cold one');
      if (cfg.protocol === 'v2') {
        const probe = await step(`target ${target} ready over v2`, () => waitReadyV2(target, 30, v2ModelName(cfg.v2Models.kind === 'pipeline' ? 'pipeline' : cfg.v2Models.models[0]!)));
        health = probe.health;
        nativeApi = probe.native;
        if (!nativeApi) note(`${target} speaks only v2: the accuracy replay (native API) is skipped; the in-run output checks still run`);
      } else health = await step(`target ${target} ready`, () => waitReady(target, 30));
    } else {
      // The server loads only the implementations under test, so its start-up and memory are theirs.
      server = await step('start server and wait until ready', () => startServer({ ...cfg.server, logFile: join(runDir, 'server.log'), readyTimeout_s: cfg.readyTimeout_s, env: { IMPL: cfg.impl } }));
      target = server.url;
      readyMs = server.ready_ms;
      health = await getJson<HealthResponse>(`${target}/health`);
      note(`server ${target} ready in ${server.ready_ms} ms (pid ${server.child.pid}, ep ${health.ep}, log ${server.logFile})`);
    }
    const impls = cfg.impl === 'all' ? health.implementations : cfg.impl.split(',').map((s) => s.trim()).filter(Boolean);
    if (plan.kind !== 'smoke' && impls.length !== 1) throw new BenchError(`IMPL=${cfg.impl}: only SCENARIO=smoke takes several implementations (or all); name one`);
    // V2_VERSION: IMPL is a label and the version asked for is that one.
    const unknown = impls.filter((i) => !health.implementations.includes(cfg.v2Version || i));
    if (unknown.length > 0) throw new BenchError(`IMPL=${unknown.join(',')} is not served by ${target}: expected one of ${health.implementations.join(', ')} (or all)`);

    const bounds: ResolvedBounds[] = await step('resolve bounds', async () => {
      const file = loadBoundsFile(cfg);
      const calibration = loadCalibration(cfg);
      const resolved = impls.map((impl) => resolveBounds(file, plan, impl, calibration));
      // The accuracy bounds k6's in-run check applies: the replay's, from the same file and the
      // server's own lossless flag, so the two checks cannot disagree on what is accepted.
      if (reference) {
        // A v2-only target (Triton) has no /implementations: not lossless by its word, so it is held
        // to the bounds it declares in accuracy.impls, else to the exact ones: never more lenient.
        for (const b of resolved) b.accuracy = resolveAccuracy(b.impl, nativeApi && (await implementationIsLossless(target!, b.impl)), file);
      }
      writeFileSync(join(runDir, 'bounds.json'), JSON.stringify(resolved, null, 2));
      return resolved;
    });
    note(`bounds: ${bounds[0]?.calibration ? `calibration of ${bounds[0].calibration.created} (tolerance ${bounds[0].calibration.tolerance})` : 'SLO defaults, no calibration'}${cfg.boundsFile ? ` + ${cfg.boundsFile}` : ''}`);

    const before = await step('scrape /metrics and /vram before', async () => {
      const metrics = await getText(cfg.targetMetrics || `${target}/metrics`).catch((e: Error) => `# scrape failed: ${e.message}\n`);
      writeFileSync(join(runDir, 'server-metrics.before.prom'), metrics);
      const vram = await getJson<MemoryResponse>(`${target}/vram`).catch(() => null);
      await fetch(`${target}/vram/reset`, { method: 'POST' }).catch(() => {});
      return vram;
    });

    const k6Args = ['run', '--no-usage-report', script!];
    const k6Runtime = loadgenRuntimeEnv(cfg.loadgen, cfg.target);
    note(`k6 runtime: ${describeLoadgenRuntime(k6Runtime)}${k6Runtime['GOMAXPROCS'] ? '' : " (GOMAXPROCS: Go's default, the target is remote)"}`);
    const k6Env: NodeJS.ProcessEnv = {
      ...env,
      TARGET: target,
      IMPL: impls.join(','),
      DATASET_MANIFEST: dataset.manifest,
      MAX_IMAGES: String(cfg.maxImages),
      BOUNDS_RESOLVED: join(runDir, 'bounds.json'),
      RESULTS_DIR: runDir,
      ...(reference ? { REFERENCE: reference } : {}),
      ...v2Env,
      // GOMAXPROCS=1 and GOGC=400 when the server shares this machine (tools/bench/loadgen-runtime.ts).
      ...k6Runtime,
      K6_WEB_DASHBOARD: 'true',
      K6_WEB_DASHBOARD_EXPORT: join(runDir, 'dashboard.html'),
      // -1: no live server (CI, DASHBOARD=0), the HTML export is still written at the end.
      K6_WEB_DASHBOARD_PORT: cfg.dashboard ? String(cfg.dashboardPort) : '-1',
      K6_WEB_DASHBOARD_OPEN: 'false',
      // The dashboard skips its report when it has too few snapshots: short runs need a short period.
      K6_WEB_DASHBOARD_PERIOD: env['K6_WEB_DASHBOARD_PERIOD'] ?? dashboardPeriod(plan),
    };
    if (cfg.dashboard) note(`live dashboard: http://127.0.0.1:${cfg.dashboardPort} (DASHBOARD=0 turns it off)`);
    const sampler = sampleMemory(target, cfg.memoryInterval_s);
    // ==== WATCHDOG HOOK: a server lost mid-run stops k6 and marks the results incomplete ====
    const watchdog = watchServer({ target, ...(server ? { child: server.child } : {}), levels: plan.levels, measureStartedAt: () => sampler.measureStartedAt() });
    // RUNNERS=N: N segmented k6 processes whose merged samples give the summary and the verdict.
    // On a fault the watchdog stops k6: the single one, or every runner.
    const k6Code =
      cfg.runners > 1
        ? await step(`k6 ${plan.name} on ${cfg.runners} runners, merged (exit code reported below)`, () =>
            runRunners({
              k6, script: script!, env: k6Env, runDir, count: cfg.runners, plan, impls, capacitySloMs: bounds[0]?.slo.capacity_slo_p99_ms, livePort: cfg.dashboard ? cfg.dashboardPort : -1,
              onStarted: (stopAll) => watchdog.onFault((fault) => {
                note(`${fault}: stopping the ${cfg.runners} k6 runners`);
                stopAll();
              }),
            }),
          )
        : await step(`k6 ${plan.name} (exit code reported below)`, () =>
            runK6(k6, k6Args, k6Env, (child) => watchdog.onFault((fault) => {
              note(`${fault}: stopping k6`);
              interruptK6(child);
            })),
          );
    watchdog.stop();
    const fault = watchdog.fault;
    const samples: MemorySample[] = await sampler.stop();
    note(`k6 exited ${k6Code}${k6Code === 99 ? ' (thresholds failed)' : ''}`);

    const after = await step('scrape /metrics and /vram after', async () => {
      const kept = watchdog.lastMetrics();
      const lost = (e: Error) => (kept ? `# scrape after the run failed (${e.message}): the watchdog's last scrape, ${kept.age_s} s before this one\n${kept.text}` : `# scrape failed: ${e.message}\n`);
      const metrics = await getText(cfg.targetMetrics || `${target}/metrics`).catch(lost);
      writeFileSync(join(runDir, 'server-metrics.prom'), metrics);
      return getJson<MemoryResponse>(`${target}/vram`).catch(() => null);
    });
    writeFileSync(join(runDir, 'memory.json'), JSON.stringify({ device: after?.device ?? before?.device ?? 'unknown', interval_s: cfg.memoryInterval_s, before, after, samples }, null, 2));

    const summaryPath = join(runDir, 'summary.json');
    const summary: Summary | null = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary) : null;
    if (summary && fault) {
      summary.incomplete = { reason: fault };
      if (watchdog.measuredBeforeFault_s !== undefined) cutAtFault(summary.levels, plan.levels, watchdog.measuredBeforeFault_s);
      note('post-processing skipped: the server was lost');
    } else if (summary) {
      const ctx: PostRunContext = { target, impls, plan, runDir, datasetDir: dataset.dir, maxImages: cfg.maxImages, summary, memory: samples, bounds, accuracy: cfg.accuracy && nativeApi, serverReadyMs: readyMs };
      for (const p of POST_RUN_STEPS.filter((p) => p.applies(ctx))) {
        const results = await step(`post-processing: ${p.name}`, () => p.run(ctx)).catch((e: Error) => [{ name: p.name, passed: false, lines: [`${p.name} crashed: ${e.message}`] }]);
        summary.postprocess.push(...results);
      }
      if (!cfg.accuracy) note('accuracy post-processing skipped (ACCURACY=0)');
    } else note('k6 wrote no summary.json (it failed before handleSummary): see its output above');

    if (server && fault && server.child.exitCode === null && server.child.signalCode === null) note('stopping the server that stopped answering');
    if (server) await step(fault ? 'stop server (after the fault)' : 'stop server', () => stopServer(server!));
    server = undefined;

    const failedPost = summary?.postprocess.filter((p) => !p.passed) ?? [];
    await step('write results', () => {
      if (fault) writeFileSync(join(runDir, 'INCOMPLETE'), `${fault}\n`);
      if (summary) {
        writeFileSync(summaryPath, JSON.stringify(summary, null, 2));
        writeFileSync(join(runDir, 'summary.txt'), summaryText(summary));
        writeFileSync(join(runDir, 'junit.xml'), junitXml(summary));
      }
      if (!existsSync(join(runDir, 'dashboard.html'))) {
        writeFileSync(join(runDir, 'dashboard.html'), fallbackDashboard(summary));
        note('dashboard.html: k6 skipped its report (run too short), wrote the summary page instead');
      }
      writeFileSync(join(runDir, 'env.json'), JSON.stringify({ ...envInfo({ k6, ep: health.ep, serverVersion: health.version, k6Command: [k6, ...k6Args], target, serverStarted: !cfg.target, env: { ...env, IMPL: cfg.impl, ...(cfg.accuracy ? {} : { ACCURACY: '0' }) } }), scenario: plan.name, impls, k6_runtime: k6Runtime, server_ready_ms: readyMs, server_settings: health.settings ?? null }, null, 2));
      const latest = resolve(cfg.resultsRoot, 'latest');
      rmSync(latest, { force: true });
      symlinkSync(basename(runDir), latest);
    });
    for (const p of failedPost) note(`post-processing ${p.name} FAILED: ${p.lines.join('; ')}`);
    const failedThresholds = summary?.thresholds.filter((t) => !t.ok) ?? [];
    for (const t of failedThresholds) note(`threshold FAILED: ${t.metric}: ${t.expression}`);
    const exitCode = fault ? EXIT_SERVER_LOST : k6Code !== 0 ? k6Code : failedPost.length > 0 ? EXIT_POSTPROCESS_FAILED : 0;
    note(`results in ${runDir} (results/latest); exit ${exitCode}${exitCode === 99 ? ' = k6 thresholds failed' : exitCode === EXIT_POSTPROCESS_FAILED ? ' = post-processing gate failed' : exitCode === EXIT_SERVER_LOST ? ' = server lost, results INCOMPLETE' : ''}`);
    return { runDir, exitCode, k6Code, summary, ...(fault ? { fault } : {}) };
  } finally {
    if (server) await stopServer(server);
  }
}

if (isMain(import.meta.url)) {
  runMain('bench', async () => {
    const result = await runBench(benchConfig(process.env));
    if (result.fault) console.error(`bench: ${result.fault}; partial results kept in ${result.runDir} (marked INCOMPLETE)`);
    return result.exitCode;
  }, { expected: [BenchError] });
}

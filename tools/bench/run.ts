// `make bench`: one command from nothing to a self-describing results folder and an exit code.
// Steps (one progress line each): bundle -> dataset -> server (start or TARGET) -> bounds ->
// scrape before -> k6 (+ memory sampling) -> scrape after -> post-processing -> stop server ->
// write results/<timestamp>-<scenario>-<impl>/ -> results/latest. Exit: 97 when the server was lost
// mid-run (watchdog.ts: k6 stopped, folder kept and marked INCOMPLETE), else k6's status (99 =
// thresholds failed), else 99 when UNDECIDED=fail and a latency threshold is undecided at 95 %
// confidence, else 98 when a post-processing gate failed, else 96 when VALIDITY=fail and a level is
// INVALID, else 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { resolveAccuracy, resolveBounds, type BoundsFile, type HostBounds, type ResolvedBounds } from '../../lib/bounds.ts';
import { MANIFEST_FILE, type DatasetManifest } from '../../lib/dataset.ts';
import { ConfigError } from '../../lib/env.ts';
import { durationText, refuseRetiredIn } from '../../lib/knobs.ts';
import { planFor, type Plan } from '../../lib/scenarios.ts';
import { judgeLevels, summaryText, undecidedFailures, type Summary } from '../../lib/summary.ts';
import { DEFAULT_JUDGING } from '../../lib/verdict.ts';
import type { HealthResponse, MemoryResponse } from '../../lib/types.ts';
import { bundleScenarios } from '../build.ts';
import { benchConfig, type BenchConfig } from './config.ts';
import { envInfo, KNOB_REGISTRIES } from './env-info.ts';
import { POST_RUN_STEPS, type PostRunContext } from './post-run.ts';
import { implementationIsLossless, prepareReference } from '../accuracy/replay.ts';
import { imageId, listImages } from '../data/dataset.ts';
import { readBoundsFile } from '../../lib/node/bounds-file.ts';
import { BenchError, note, step } from '../common/progress.ts';
import { getJson, getText } from '../../lib/node/server-api.ts';
import { sampleMemory, startServer, stopServer, type MemorySample, type StartedServer } from '../common/server-process.ts';
import { waitReady, waitReadySeed, waitReadyTorchServe, waitReadyV2 } from '../common/ready.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import { k6Binary } from '../common/k6.ts';
import { timestamp } from '../common/results.ts';
import { EXIT_INVALID, EXIT_MEANING, EXIT_POSTPROCESS_FAILED, EXIT_SERVER_LOST, EXIT_THRESHOLDS_FAILED } from '../../lib/exit-codes.ts';
import { writeSummaryFiles } from '../common/summary-files.ts';
import { runRunners } from '../scale-out/runners.ts';
import { sampleCpu } from '../common/cpu.ts';
import { v2InputsEnv } from './v2-inputs.ts';
import { v2ModelName, type Protocol } from '../../lib/v2/config.ts';
import { memoryOf } from '../../lib/seed.ts';
import { cutAtFault, interruptK6, watchServer } from './watchdog.ts';
import { runUntilStable } from './extend.ts';
import { DASHBOARD_TAGS, writeDashboardConfig } from './dashboard-config.ts';
import { describePlacement, pinned, resolvePlacement, type Placement } from '../common/cpu-placement.ts';
import { describeLoadgenRuntime, loadgenRuntimeEnv } from '../common/loadgen-runtime.ts';

export const SYNTHETIC_DIR = join('build', 'data', 'synthetic');

interface RunResult {
  runDir: string;
  exitCode: number;
  k6Code: number;
  summary: Summary | null;
  /** Why the run is incomplete (the watchdog's line), if it is. */
  fault?: string;
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

function loadBoundsFile(cfg: BenchConfig): BoundsFile {
  return readBoundsFile(cfg.boundsFile);
}

/** The one reader of this host's bounds (bench and report): none with HOST_BOUNDS=0 or without the file. */
export function loadHostBounds(cfg: Pick<BenchConfig, 'useHostBounds' | 'hostBoundsFile'>): HostBounds | undefined {
  if (!cfg.useHostBounds || !existsSync(cfg.hostBoundsFile)) return undefined;
  try {
    return JSON.parse(readFileSync(cfg.hostBoundsFile, 'utf8')) as HostBounds;
  } catch (e) {
    throw new ConfigError(`HOST_BOUNDS_FILE=${cfg.hostBoundsFile} is not valid JSON (${(e as Error).message}): run 'make host-bounds' again, or HOST_BOUNDS=0`);
  }
}

/** Snapshot period of the web dashboard (DASHBOARD_PERIOD, else about 10 snapshots per timed run, 1 s
 * to 10 s); counted runs (smoke, coldstart) have no planned length, so a short period. */
function dashboardPeriod(cfg: BenchConfig, plan: Plan): string {
  if (cfg.dashboardPeriod_s > 0) return durationText(cfg.dashboardPeriod_s);
  const total = Math.max(0, ...plan.levels.map((l) => l.start_s + l.duration_s));
  return total === 0 ? '200ms' : `${Math.max(1, Math.min(10, Math.floor(total / 10)))}s`;
}

/** k6's dashboard writes no report for a run shorter than about two snapshots; say so in a page of our own. */
function fallbackDashboard(summary: Summary | null): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!doctype html>\n<html lang="en"><head><meta charset="UTF-8"><title>bench ${esc(summary?.scenario ?? '')}</title></head><body>\n<h1>k6 web dashboard: no report</h1>\n<p>The run was too short for the k6 web dashboard to write its report (fewer than two snapshots). The figures below are the run's summary.</p>\n<pre>${esc(summary ? summaryText(summary) : 'k6 wrote no summary')}</pre>\n</body></html>\n`;
}

function runK6(k6: string, args: string[], env: NodeJS.ProcessEnv, cpus: string | null, onSpawn: (child: ChildProcess) => void = () => {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const [cmd, ...argv] = pinned([k6, ...args], cpus);
    const child = spawn(cmd!, argv, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const cpu = sampleCpu(child.pid);
    onSpawn(child);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      note(`k6 CPU: ${cpu.stop() ?? '?'} s`);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** The API the accuracy replay asks: the seed's for a seed target, else our native one (a v2 run against
 * our server replays over its native API; a v2-only target gets no replay, see connectTarget). */
const replayProtocol = (p: Protocol): 'native' | 'seed' => (p === 'seed' ? 'seed' : 'native');

/** The target a run measures: the server this bench started, or TARGET, and what it said of itself. */
interface ConnectedTarget {
  target: string;
  health: HealthResponse;
  /** The server this bench started (undefined with TARGET). */
  server?: StartedServer;
  readyMs: number | null;
  /** False when the target speaks only v2 (Triton): no native accuracy replay then. */
  nativeApi: boolean;
}

/** Starts the server (loading only IMPL) or waits for TARGET to be ready, over the run's protocol. */
async function connectTarget(cfg: BenchConfig, plan: Plan, runDir: string, placement: Placement): Promise<ConnectedTarget> {
  const target = cfg.target;
  if (!target && cfg.protocol === 'seed') throw new BenchError("PROTOCOL=seed needs TARGET, a running server of the seed API (this suite's server speaks native and v2)");
  if (!target && cfg.protocol === 'torchserve') throw new BenchError("PROTOCOL=torchserve needs TARGET, a running TorchServe ('make torchserve'; this suite's server speaks native and v2)");
  if (!target) {
    // The server loads only the implementations under test, so its start-up and memory are theirs.
    const server = await step('start server and wait until ready', () => startServer({ ...cfg.server, logFile: join(runDir, 'server.log'), readyTimeout_s: cfg.readyTimeout_s, env: { IMPL: cfg.impl }, cpus: placement.server_cpus }));
    const health = await getJson<HealthResponse>(`${server.url}/health`);
    note(`server ${server.url} ready in ${server.ready_ms} ms (pid ${server.child.pid}, ep ${health.ep}, log ${server.logFile})`);
    return { target: server.url, health, server, readyMs: server.ready_ms, nativeApi: true };
  }
  if (plan.kind === 'coldstart') note('coldstart with TARGET: the server is already running, so its first request here is not a cold one');
  // PROTOCOL=seed: the seed API's /health (docs/targets.md); no /implementations, so not lossless by its word.
  if (cfg.protocol === 'seed') return { target, health: await step(`target ${target} ready (seed API)`, () => waitReadySeed(target, 30, cfg.impl.split(','))), readyMs: null, nativeApi: false };
  // PROTOCOL=torchserve: TorchServe's /ping; a v2-only peer like Triton (no native API, no accuracy replay).
  if (cfg.protocol === 'torchserve') return { target, health: await step(`target ${target} ready (TorchServe)`, () => waitReadyTorchServe(target, 30, cfg.impl.split(','))), readyMs: null, nativeApi: false };
  if (cfg.protocol !== 'v2') return { target, health: await step(`target ${target} ready`, () => waitReady(target, 30)), readyMs: null, nativeApi: true };
  // PROTOCOL=v2 hook: a target may speak only v2 (then no native accuracy replay).
  const probe = await step(`target ${target} ready over v2`, () => waitReadyV2(target, 30, v2ModelName(cfg.v2Models.kind === 'pipeline' ? 'pipeline' : cfg.v2Models.models[0]!)));
  if (!probe.native) note(`${target} speaks only v2: the accuracy replay (native API) is skipped; the in-run output checks still run`);
  return { target, health: probe.health, readyMs: null, nativeApi: probe.native };
}

/** IMPL as the implementations to measure: each served by the target, one unless SCENARIO=smoke. */
function implsUnderTest(cfg: BenchConfig, plan: Plan, health: HealthResponse, target: string): string[] {
  const impls = cfg.impl === 'all' ? health.implementations : cfg.impl.split(',').map((s) => s.trim()).filter(Boolean);
  if (plan.kind !== 'smoke' && impls.length !== 1) throw new BenchError(`IMPL=${cfg.impl}: only SCENARIO=smoke takes several implementations (or all); name one`);
  // V2_VERSION: IMPL is a label and the version asked for is that one.
  const unknown = impls.filter((i) => !health.implementations.includes(cfg.v2Version || i));
  if (unknown.length > 0) throw new BenchError(`IMPL=${unknown.join(',')} is not served by ${target}: expected one of ${health.implementations.join(', ')} (or all)`);
  return impls;
}

/** Each implementation's bounds (file + this host's bounds + SLO defaults), written to bounds.json for k6. */
async function boundsStep(cfg: BenchConfig, plan: Plan, impls: string[], conn: ConnectedTarget, withAccuracy: boolean, runDir: string): Promise<ResolvedBounds[]> {
  const bounds = await step('resolve bounds', async () => {
    const file = loadBoundsFile(cfg);
    const hostBounds = loadHostBounds(cfg);
    const resolved = impls.map((impl) => resolveBounds(file, plan, impl, hostBounds));
    // The accuracy bounds k6's in-run check applies: the replay's, from the same file and the
    // server's own lossless flag, so the two checks cannot disagree on what is accepted.
    if (withAccuracy) {
      // A v2-only target (Triton) has no /implementations: not lossless by its word, so it is held
      // to the bounds it declares in accuracy.impls, else to the exact ones: never more lenient.
      for (const b of resolved) b.accuracy = resolveAccuracy(b.impl, conn.nativeApi && (await implementationIsLossless(conn.target, b.impl)), file);
    }
    writeFileSync(join(runDir, 'bounds.json'), JSON.stringify(resolved, null, 2));
    return resolved;
  });
  note(`bounds: ${bounds[0]?.calibration ? `host bounds of ${bounds[0].calibration.created} (tolerance ${bounds[0].calibration.tolerance})` : 'SLO defaults, no host bounds'}${cfg.boundsFile ? ` + ${cfg.boundsFile}` : ''}`);
  return bounds;
}

/** The target's /metrics (or TARGET_METRICS) into runDir, a /vram snapshot, then /vram's window reset. */
function scrapeBefore(cfg: BenchConfig, target: string, runDir: string): Promise<MemoryResponse | null> {
  return step('scrape /metrics and /vram before', async () => {
    const metrics = await getText(cfg.targetMetrics || `${target}/metrics`).catch((e: Error) => `# scrape failed: ${e.message}\n`);
    writeFileSync(join(runDir, 'server-metrics.before.prom'), metrics);
    const vram = await getJson<unknown>(`${target}/vram`).then((m) => memoryOf(m) ?? null, () => null);
    await fetch(`${target}/vram/reset`, { method: 'POST' }).catch(() => {});
    return vram;
  });
}

/** What k6 reads: the run's knobs, the files this bench prepared, its Go runtime and the web dashboard's settings. */
export function k6RunEnv(o: { env: NodeJS.ProcessEnv; cfg: BenchConfig; plan: Plan; target: string; impls: string[]; manifest: string; runDir: string; reference?: string; v2Env: Record<string, string>; runtime: Record<string, string>; dashboardConfig?: string }): NodeJS.ProcessEnv {
  return {
    ...o.env,
    TARGET: o.target,
    IMPL: o.impls.join(','),
    DATASET_MANIFEST: o.manifest,
    MAX_IMAGES: String(o.cfg.maxImages),
    BOUNDS_RESOLVED: join(o.runDir, 'bounds.json'),
    RESULTS_DIR: o.runDir,
    // handleSummary judges with the bench's own settings (lib/verdict.ts).
    MIN_DURATION: durationText(o.cfg.minDuration_s),
    UNDECIDED: o.cfg.undecided,
    STABILITY_WINDOWS: String(o.cfg.stabilityWindows),
    STABILITY_TOLERANCE: String(o.cfg.stabilityTolerance),
    ...(o.reference ? { REFERENCE: o.reference } : {}),
    ...o.v2Env,
    // GOMAXPROCS=1 and GOGC=400 when the server shares this machine (tools/common/loadgen-runtime.ts).
    ...o.runtime,
    K6_WEB_DASHBOARD: 'true',
    K6_WEB_DASHBOARD_EXPORT: join(o.runDir, 'dashboard.html'),
    // -1: no live server (CI, DASHBOARD=0), the HTML export is still written at the end.
    K6_WEB_DASHBOARD_PORT: o.cfg.dashboard ? String(o.cfg.dashboardPort) : '-1',
    K6_WEB_DASHBOARD_OPEN: 'false',
    // The dashboard skips its report when it has too few snapshots: short runs need a short period.
    K6_WEB_DASHBOARD_PERIOD: dashboardPeriod(o.cfg, o.plan),
    // Our tab per stream or level beside k6's own (dashboard-config.ts), and the tags it splits by.
    ...(o.dashboardConfig ? { XK6_DASHBOARD_CONFIG: o.dashboardConfig, K6_WEB_DASHBOARD_TAGS: DASHBOARD_TAGS.join(',') } : {}),
  };
}

/** What the k6 phase left: k6's exit code, the watchdog's fault (if any) and the memory samples. */
interface K6Phase {
  k6Code: number;
  fault: string | undefined;
  measuredBeforeFault_s: number | undefined;
  /** The watchdog's last /metrics scrape and its age now (kept for a server gone by the scrape after). */
  lastMetrics: ReturnType<typeof watchServer>['lastMetrics'];
  samples: MemorySample[];
}

/**
 * k6 (one process, or RUNNERS segmented ones merged) while memory is sampled and the watchdog
 * watches the server: a server lost mid-run stops k6 and marks the phase with its fault.
 */
async function k6Step(o: { cfg: BenchConfig; plan: Plan; k6: string; k6Args: string[]; script: string; env: NodeJS.ProcessEnv; runDir: string; conn: ConnectedTarget; impls: string[]; bounds: ResolvedBounds[]; placement: Placement }): Promise<K6Phase> {
  const { cfg, plan, conn } = o;
  if (cfg.dashboard) note(`live dashboard: http://127.0.0.1:${cfg.dashboardPort} (DASHBOARD=0 turns it off)`);
  const sampler = sampleMemory(conn.target, cfg.memoryInterval_s);
  // ==== WATCHDOG HOOK: a server lost mid-run stops k6 and marks the results incomplete ====
  const watchdog = watchServer({ target: conn.target, ...(conn.server ? { child: conn.server.child } : {}), levels: plan.levels, measureStartedAt: () => sampler.measureStartedAt() });
  // RUNNERS=N: N segmented k6 processes whose merged samples give the summary and the verdict.
  // On a fault the watchdog stops k6: the single one, or every runner.
  const k6Code =
    cfg.runners > 1
      ? await step(`k6 ${plan.name} on ${cfg.runners} runners, merged (exit code reported below)`, () =>
          runRunners({
            k6: o.k6, script: o.script, env: o.env, runDir: o.runDir, count: cfg.runners, plan, impls: o.impls, capacitySloMs: o.bounds[0]?.slo.capacity_slo_p99_ms, livePort: cfg.dashboard ? cfg.dashboardPort : -1, cpus: o.placement.loadgen_cpus,
            onStarted: (stopAll) => watchdog.onFault((fault) => {
              note(`${fault}: stopping the ${cfg.runners} k6 runners`);
              stopAll();
            }),
          }),
        )
      : await step(`k6 ${plan.name} (exit code reported below)`, () =>
          runK6(o.k6, o.k6Args, o.env, o.placement.loadgen_cpus, (child) => watchdog.onFault((fault) => {
            note(`${fault}: stopping k6`);
            interruptK6(child);
          })),
        );
  watchdog.stop();
  const samples = await sampler.stop();
  note(`k6 exited ${k6Code}${k6Code === 99 ? ' (thresholds failed)' : ''}`);
  return { k6Code, fault: watchdog.fault, measuredBeforeFault_s: watchdog.measuredBeforeFault_s, lastMetrics: () => watchdog.lastMetrics(), samples };
}

/** /metrics and /vram after the run (the watchdog's last scrape when the server is gone), and memory.json. */
async function scrapeAfter(cfg: BenchConfig, target: string, runDir: string, phase: K6Phase, before: MemoryResponse | null): Promise<void> {
  const after = await step('scrape /metrics and /vram after', async () => {
    const kept = phase.lastMetrics();
    const lost = (e: Error) => (kept ? `# scrape after the run failed (${e.message}): the watchdog's last scrape, ${kept.age_s} s before this one\n${kept.text}` : `# scrape failed: ${e.message}\n`);
    const metrics = await getText(cfg.targetMetrics || `${target}/metrics`).catch(lost);
    writeFileSync(join(runDir, 'server-metrics.prom'), metrics);
    return getJson<unknown>(`${target}/vram`).then((m) => memoryOf(m) ?? null, () => null);
  });
  writeFileSync(join(runDir, 'memory.json'), JSON.stringify({ device: after?.device ?? before?.device ?? 'unknown', interval_s: cfg.memoryInterval_s, before, after, samples: phase.samples }, null, 2));
}

/**
 * k6's summary.json with the post-processing steps' results added, or cut at the fault and marked
 * incomplete when the server was lost (no post-processing then); null when k6 wrote none.
 */
async function postProcess(summaryPath: string, phase: K6Phase, plan: Plan, judging: Pick<BenchConfig, 'minDuration_s' | 'undecided'>, ctx: Omit<PostRunContext, 'summary'>): Promise<Summary | null> {
  const summary: Summary | null = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary) : null;
  if (!summary) {
    note('k6 wrote no summary.json (it failed before handleSummary): see its output above');
    return null;
  }
  // The bench's settings decide (k6 was given the same ones); the validity is judged again on the
  // rows as they now are (cut short below when the server was lost).
  summary.judging = { ...(summary.judging ?? DEFAULT_JUDGING), min_duration_s: judging.minDuration_s, undecided: judging.undecided };
  if (phase.fault) {
    summary.incomplete = { reason: phase.fault };
    if (phase.measuredBeforeFault_s !== undefined) cutAtFault(summary.levels, plan.levels, phase.measuredBeforeFault_s);
    judgeLevels(summary, plan);
    note('post-processing skipped: the server was lost');
    return summary;
  }
  judgeLevels(summary, plan);
  const full: PostRunContext = { ...ctx, summary };
  for (const p of POST_RUN_STEPS.filter((p) => p.applies(full))) {
    const results = await step(`post-processing: ${p.name}`, () => p.run(full)).catch((e: Error) => [{ name: p.name, passed: false, lines: [`${p.name} crashed: ${e.message}`] }]);
    summary.postprocess.push(...results);
  }
  return summary;
}

/** The run folder's final files (summary, JUnit, dashboard, env.json, INCOMPLETE) and results/latest. */
function writeResults(o: { cfg: BenchConfig; runDir: string; summary: Summary | null; fault: string | undefined; envJson: object }): Promise<void> {
  const { runDir, summary } = o;
  return step('write results', () => {
    if (o.fault) writeFileSync(join(runDir, 'INCOMPLETE'), `${o.fault}\n`);
    if (summary) {
      writeSummaryFiles(runDir, summary);
    }
    if (!existsSync(join(runDir, 'dashboard.html'))) {
      writeFileSync(join(runDir, 'dashboard.html'), fallbackDashboard(summary));
      note('dashboard.html: k6 skipped its report (run too short), wrote the summary page instead');
    }
    writeFileSync(join(runDir, 'env.json'), JSON.stringify(o.envJson, null, 2));
    const latest = resolve(o.cfg.resultsRoot, 'latest');
    rmSync(latest, { force: true });
    symlinkSync(basename(runDir), latest);
  });
}

/**
 * The bench's exit code: 97 server lost, else k6's own (99 = thresholds), else 99 for a latency
 * threshold undecided at 95 % when UNDECIDED=fail (counted by the caller: undecidedFailures), else 98
 * for a failed post-processing gate, else 96 when VALIDITY=fail and a level is INVALID, else 0.
 */
export function benchExitCode(fault: string | undefined, k6Code: number, failedPostSteps: number, undecidedFailing = 0, invalidFailing = 0): number {
  if (fault) return EXIT_SERVER_LOST;
  if (k6Code !== 0) return k6Code;
  if (undecidedFailing > 0) return EXIT_THRESHOLDS_FAILED;
  if (failedPostSteps > 0) return EXIT_POSTPROCESS_FAILED;
  return invalidFailing > 0 ? EXIT_INVALID : 0;
}


/** Runs one bench. `extraEnv` overrides process.env for the plan and for k6 (host-bounds uses it). */
export async function runBench(cfg: BenchConfig, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, SCENARIO: cfg.scenario };
  // A retired name of a knob k6 or the server reads stops the bench here, not in a child.
  refuseRetiredIn(env, ...KNOB_REGISTRIES);
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
  // PROTOCOL=v2 and torchserve hook: per-model requests need the prepared tensors.
  const v2Env = cfg.protocol === 'v2' || cfg.protocol === 'torchserve' ? await step('v2 inputs', () => v2InputsEnv(cfg.v2Models, dataset.dir)) : {};

  let server: StartedServer | undefined;
  try {
    // CPU_PLACEMENT: with TARGET the server is not ours to pin; k6 still is.
    const placement = cfg.target ? { ...resolvePlacement(cfg.cpuPlacement), server_cpus: null } : resolvePlacement(cfg.cpuPlacement);
    if (placement.mode !== 'shared') note(`CPU placement ${describePlacement(placement)}`);
    const conn = await connectTarget(cfg, plan, runDir, placement);
    server = conn.server;
    const { target, health } = conn;
    const impls = implsUnderTest(cfg, plan, health, target);
    const bounds = await boundsStep(cfg, plan, impls, conn, reference !== undefined, runDir);
    const before = await scrapeBefore(cfg, target, runDir);

    const k6Args = ['run', '--no-usage-report', script!];
    const runtime = loadgenRuntimeEnv(cfg.loadgen, cfg.target);
    note(`k6 runtime: ${describeLoadgenRuntime(runtime)}${runtime['GOMAXPROCS'] ? '' : " (GOMAXPROCS: Go's default, the target is remote)"}`);
    const dashboard = writeDashboardConfig(runDir, plan);
    if (!dashboard.withDefaults) note("dashboard: k6's default tabs not found (xk6-dashboard-assets is not in the Go module cache: run 'make k6'); the dashboard shows our Streams/Levels tab alone");
    const k6Env = k6RunEnv({ env, cfg, plan, target, impls, manifest: dataset.manifest, runDir, ...(reference ? { reference } : {}), v2Env, runtime, dashboardConfig: dashboard.path });
    const phase = await k6Step({ cfg, plan, k6, k6Args, script: script!, env: k6Env, runDir, conn, impls, bounds, placement });
    await scrapeAfter(cfg, target, runDir, phase, before);

    const summary = await postProcess(join(runDir, 'summary.json'), phase, plan, cfg, { target, impls, plan, runDir, datasetDir: dataset.dir, maxImages: cfg.maxImages, memory: phase.samples, bounds, accuracy: cfg.accuracy && cfg.accuracyReplay && (conn.nativeApi || cfg.protocol === 'seed'), protocol: replayProtocol(cfg.protocol), serverReadyMs: conn.readyMs });
    if (summary && !phase.fault && !cfg.accuracy) note('accuracy post-processing skipped (ACCURACY=0)');
    else if (summary && !phase.fault && !cfg.accuracyReplay) note('accuracy replay skipped (ACCURACY_REPLAY=0); the in-run output checks ran');

    if (server && phase.fault && server.child.exitCode === null && server.child.signalCode === null) note('stopping the server that stopped answering');
    if (server) await step(phase.fault ? 'stop server (after the fault)' : 'stop server', () => stopServer(server!));
    server = undefined;

    const envJson = { ...envInfo({ k6, ep: health.ep, serverVersion: health.version, k6Command: [k6, ...k6Args], target, serverStarted: !cfg.target, env: { ...env, IMPL: cfg.impl, ...(cfg.accuracy ? {} : { ACCURACY: '0' }) } }), scenario: plan.name, impls, k6_runtime: runtime, server_ready_ms: conn.readyMs, server_settings: health.settings ?? null, cpu_placement: placement };
    await writeResults({ cfg, runDir, summary, fault: phase.fault, envJson });
    const failedPost = summary?.postprocess.filter((p) => !p.passed) ?? [];
    for (const p of failedPost) note(`post-processing ${p.name} FAILED: ${p.lines.join('; ')}`);
    for (const t of summary?.thresholds.filter((t) => !t.ok) ?? []) note(`threshold FAILED: ${t.metric}: ${t.expression}`);
    const undecided = summary ? undecidedFailures(summary) : [];
    for (const t of undecided) note(`threshold UNDECIDED (UNDECIDED=fail): ${t.metric}: ${t.expression}`);
    const invalid = summary?.levels.filter((r) => r.validity?.verdict === 'INVALID') ?? [];
    for (const r of invalid) note(`level ${r.impl} ${r.level} INVALID: ${r.validity!.reasons.map((x) => x.code).join(', ')} (summary.txt says what would fix it)${cfg.validity === 'fail' ? ' (VALIDITY=fail)' : ''}`);
    const exitCode = benchExitCode(phase.fault, phase.k6Code, failedPost.length, undecided.length, cfg.validity === 'fail' ? invalid.length : 0);
    note(`results in ${runDir} (results/latest); exit ${exitCode}${EXIT_MEANING[exitCode] ? ` = ${EXIT_MEANING[exitCode]}` : ''}`);
    return { runDir, exitCode, k6Code: phase.k6Code, summary, ...(phase.fault ? { fault: phase.fault } : {}) };
  } finally {
    if (server) await stopServer(server);
  }
}

if (isMain(import.meta.url)) {
  runMain('bench', async () => {
    const cfg = benchConfig(process.env);
    const result = await runUntilStable(cfg.scenario, process.env, cfg.stabilityMaxDuration_s, (extra) => runBench(cfg, extra));
    if (result.fault) console.error(`bench: ${result.fault}; partial results kept in ${result.runDir} (marked INCOMPLETE)`);
    return result.exitCode;
  }, { expected: [BenchError] });
}

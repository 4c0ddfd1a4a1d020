// How `make tune` measures one configuration (the search's Measure, tools/tune/types.ts): start the
// stack with the configuration's knobs (our server through the bench's own server helper, or Triton
// through `make triton`), run the same bench a user runs against it (every measurement a run folder
// under runs/), and read the summary into an objective with its interval and the constraints it
// breaks. The server stays up between a configuration's probe and its full run (start-up is seconds
// to minutes; a warm server is what a user runs anyway) and is stopped when the search moves on.
// Nothing here throws for a configuration that fails: the outcome carries `error`.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LevelRow, Summary } from '../../lib/summary.ts';
import { studentTQuantile } from '../../lib/confidence.ts';
import type { ModelName } from '../../lib/model-contract.ts';
import { benchConfig } from '../bench/config.ts';
import { runBench } from '../bench/run.ts';
import { startServer, stopServer } from '../common/server-process.ts';
import { resolvePlacement } from '../common/cpu-placement.ts';
import { peerBenchEnv, tritonRow, type PeerRow } from '../report/peers.ts';
import { startTriton, stopTriton, type TritonModelSet } from '../../peers/triton/driver.ts';
import { configKey } from './search.ts';
import type { Measure, Outcome, Space, TuneConfig } from './types.ts';
import type { SloBounds, TuneSettings } from './config.ts';

/** z of a two-sided 95 % interval. */
const Z95 = 1.96;

/**
 * A rate's 95 % interval from a count of n events in `seconds`, the count read as Poisson (as
 * lib/stability.ts reads a window's count), with the score interval (n + z^2/2 +- z sqrt(n + z^2/4)),
 * which unlike n +- z sqrt(n) keeps a positive upper end at n = 0 and never goes below 0. It covers
 * the sampling within one run only, not the drift within it (windowRateInterval) or between runs.
 */
export function countRateInterval(n: number, seconds: number): { lo: number; hi: number } {
  if (!(seconds > 0)) return { lo: 0, hi: 0 };
  const mid = n + (Z95 * Z95) / 2;
  const half = Z95 * Math.sqrt(n + (Z95 * Z95) / 4);
  return { lo: Math.max(0, mid - half) / seconds, hi: (mid + half) / seconds };
}

/**
 * The same rate's 95 % interval from the run's own stability windows (summary.json
 * levels[].stability.windows, 5 by default): Student's t over the windows' rates, centred on the run's
 * figure and scaled by `share` (goodput: the good share of accepted answers). On a busy host the
 * windows of one 2 s run of the stub ranged from 332 to 590 req/s where the Poisson interval of the
 * whole run was +-6 %: the windows see the drift within a run that the count does not. Null with
 * fewer than 3 windows.
 */
export function windowRateInterval(row: Pick<LevelRow, 'stability'>, estimate: number, share = 1): { lo: number; hi: number } | null {
  const rates = (row.stability?.windows ?? []).map((w) => w.rps).filter((x) => Number.isFinite(x));
  if (rates.length < 3) return null;
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const sd = Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / (rates.length - 1));
  const half = (studentTQuantile(0.975, rates.length - 1) * sd * share) / Math.sqrt(rates.length);
  return { lo: Math.max(0, estimate - half), hi: estimate + half };
}

/** The resident memory (MB) of a process and all its descendants, from /proc (field 24, rss in pages). */
export function treeRssMb(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      rss.set(Number(entry), Number(f[21]));
      children.set(Number(f[1]), [...(children.get(Number(f[1])) ?? []), Number(entry)]);
    } catch {
      // gone between readdir and read
    }
  }
  let pages = 0;
  for (const todo = [pid]; todo.length > 0; ) {
    const p = todo.pop()!;
    pages += rss.get(p) ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return (pages * 4096) / (1024 * 1024);
}

/** Samples a process tree's resident memory every second until stopped; the peak. */
function sampleTreeMemory(pid: number): { stop(): number | null } {
  let peak: number | null = null;
  const tick = () => {
    const mb = treeRssMb(pid);
    if (mb > 0) peak = Math.max(peak ?? 0, mb);
  };
  tick();
  const timer = setInterval(tick, 1000);
  return { stop: () => (tick(), clearInterval(timer), peak === null ? null : Math.round(peak)) };
}

type Json = { [k: string]: unknown };
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const deepMerge = (a: Json, b: Json): Json => Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, isObject(a[k]) && isObject(b[k]) ? deepMerge(a[k], b[k]) : k in b ? b[k] : a[k]]));

/**
 * The bounds file of every run: TUNE_SLO as the goodput's "on time" (goodput_latency_ms: per model under
 * a mix), laid over the user's BOUNDS_FILE when one is set, so goodput counts the answers within the
 * SLO being tuned for. Undefined without TUNE_SLO (the bench's own bounds say what on time is).
 */
export function writeSloBounds(dir: string, slo: SloBounds | null, scenario: string, userFile: string): string | undefined {
  if (slo === null) return undefined;
  const own: Json = slo.all !== undefined
    ? { slo: { [scenario]: { '*': { goodput_latency_ms: slo.all } } } }
    : { slo: { [scenario]: { '*': { models: Object.fromEntries(Object.entries(slo.models).map(([m, ms]) => [m, { goodput_latency_ms: ms }])) } } } };
  const user = userFile && existsSync(userFile) ? (JSON.parse(readFileSync(userFile, 'utf8')) as Json) : {};
  const path = join(dir, 'tune-bounds.json');
  writeFileSync(path, JSON.stringify(deepMerge(user, own), null, 2) + '\n');
  return path;
}

/** Where a measurement's run folders go, numbered across the whole tune run (a resumed run goes on counting). */
export function runCounter(dir: string): () => string {
  const runs = join(dir, 'runs');
  mkdirSync(runs, { recursive: true });
  let n = Math.max(0, ...readdirSync(runs).map((f) => Number(/^(\d+)-/.exec(f)?.[1] ?? 0)));
  return () => String(++n).padStart(3, '0');
}

export interface MeasureContext {
  cfg: TuneSettings;
  env: NodeJS.ProcessEnv;
  /** The tune run's folder. */
  dir: string;
  nextRun: () => string;
  /** The bounds file of every run (writeSloBounds), if any. */
  boundsFile?: string;
  /** Measurements of an earlier run (TUNE_RESUME's journal): their replay verdicts are not replayed again. */
  prior?: readonly Outcome[];
  say: (line: string) => void;
}

/** A running stack serving one configuration. */
interface Live {
  key: string;
  /** Bench knobs that aim a run at it (TARGET, IMPL, protocol). */
  benchEnv: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
  /** Triton: the config.pbtxt files it was started with, copied (the next start overwrites the repository). */
  modelConfigs?: string;
}

export interface Measurer {
  measure: Measure;
  /** Stops the server still up. */
  close(): Promise<void>;
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The p99 bound of one summary row: its model's under a mix, else the one bound. */
function boundOf(slo: SloBounds | null, row: LevelRow, mix: boolean): number | undefined {
  if (slo === null) return undefined;
  return (mix ? slo.models[row.level as ModelName] : undefined) ?? slo.all;
}

/** The replay's first failed line, short: `accuracy d0 labels_accuracy = 0, bound >= 1` (summary.txt has the rest). */
function firstBreach(line: string): string {
  const m = /^(accuracy \S+ \S+ = \S+).*?, (bound [^(;]+?)\s*(\(|;|$)/.exec(line);
  return m ? `${m[1]}, ${m[2]}` : line.length > 100 ? `${line.slice(0, 100)}...` : line;
}

/**
 * A bench summary judged: the objective (the sum over levels, a mix's streams each a level) with its
 * interval, and the constraints broken (`clear`: beyond doubt at 95 %).
 */
export function judge(summary: Summary, o: { objective: 'goodput' | 'rps'; slo: SloBounds | null; memoryCap_mb: number; memory_mb: number | null; accuracyRun: boolean }): Pick<Outcome, 'objective' | 'objective_lo' | 'objective_hi' | 'violations' | 'clear_violations' | 'figures'> {
  const mix = summary.kind === 'mix';
  const levels = summary.levels;
  let objective = 0, lo = 0, hi = 0;
  const violations: string[] = [];
  const clear: string[] = [];
  const figures: Outcome['figures'] = {};
  for (const row of levels) {
    const count = o.objective === 'goodput' ? (row.good ?? row.requests) : row.requests;
    const estimate = o.objective === 'goodput' ? (row.goodput_rps ?? row.rps) : row.rps;
    objective += estimate;
    // The wider of the two readings: the count's (small samples) and the windows' (drift within the run).
    const poisson = countRateInterval(count, row.duration_s);
    const windows = windowRateInterval(row, estimate, o.objective === 'goodput' && row.requests > 0 ? count / row.requests : 1);
    lo += Math.min(poisson.lo, windows?.lo ?? Infinity);
    hi += Math.max(poisson.hi, windows?.hi ?? 0);
    const name = levels.length > 1 ? `${row.level} ` : '';
    const p99 = row.latency_ms?.p99 ?? null;
    const bound = boundOf(o.slo, row, mix);
    if (mix) figures[`p99_ms_${row.level}`] = p99;
    if (bound === undefined) continue;
    if (p99 === null || row.requests === 0) {
      violations.push(`${name}no accepted answers`);
      clear.push(`${name}no accepted answers`);
      continue;
    }
    if (p99 > bound) violations.push(`${name}p99 ${Math.round(p99)} > ${bound} ms`);
    const p99lo = row.latency_ms?.intervals?.p99?.lower ?? null;
    if (p99lo !== null && p99lo > bound) clear.push(`${name}p99 >= ${Math.round(p99lo)} > ${bound} ms (95 %)`);
  }
  const sum = (f: (r: LevelRow) => number) => levels.reduce((n, r) => n + f(r), 0);
  const worst = levels.map((r) => r.latency_ms?.p99 ?? null).filter((x): x is number => x !== null);
  const worstRow = levels.find((r) => r.latency_ms?.p99 === Math.max(...worst));
  Object.assign(figures, {
    rps: round(sum((r) => r.rps)),
    goodput_rps: levels.every((r) => r.goodput_rps !== undefined) ? round(sum((r) => r.goodput_rps!)) : null,
    requests: sum((r) => r.requests),
    refused: sum((r) => r.refused),
    failed: sum((r) => r.failed),
    p50_ms: levels.length === 1 ? (levels[0]!.latency_ms?.p50 ?? null) : null,
    // The worst level's p99 (a mix: the stream furthest up), with its interval, for the frontier.
    p99_ms: worst.length > 0 ? Math.max(...worst) : null,
    p99_lo_ms: worstRow?.latency_ms?.intervals?.p99?.lower ?? null,
    p99_hi_ms: worstRow?.latency_ms?.intervals?.p99?.upper ?? null,
    memory_mb: o.memory_mb,
    duration_s: levels[0]?.duration_s ?? 0,
  });
  // Accuracy: the replay's verdict per implementation (post-run steps named `accuracy <impl>`).
  const acc = summary.postprocess.filter((p) => p.name.startsWith('accuracy'));
  // A target with no replay (Triton over v2) is judged by the in-run output checks alone.
  const inRun = summary.thresholds.filter((t) => t.metric.startsWith('output_'));
  const inRunOnly = inRun.length === 0 ? 'not run' : `in-run checks ${inRun.every((t) => t.ok) ? 'passed' : 'failed'}`;
  figures['accuracy'] = !o.accuracyRun ? 'not judged' : acc.length === 0 ? inRunOnly : acc.every((p) => p.passed) ? 'passed' : 'failed';
  for (const p of acc.filter((x) => !x.passed)) {
    const why = `${p.name} out of bounds${p.lines[0] ? ` (${firstBreach(p.lines[0])})` : ''}`;
    violations.push(why);
    clear.push(why);
  }
  if (o.memoryCap_mb > 0 && o.memory_mb !== null && o.memory_mb > o.memoryCap_mb) {
    // The peak is a maximum over the run's samples, not an estimate: over the cap is over.
    violations.push(`memory ${o.memory_mb} > ${o.memoryCap_mb} MB`);
    clear.push(`memory ${o.memory_mb} > ${o.memoryCap_mb} MB`);
  }
  return { objective: round(objective), objective_lo: round(lo), objective_hi: round(hi), violations, clear_violations: clear, figures };
}

/** The measurement of a stack: `start` brings a configuration up; everything else is shared. */
function measurer(ctx: MeasureContext, space: Space, start: (config: TuneConfig, run: string) => Promise<Live>): Measurer {
  let live: Live | undefined;
  // The replay's verdict per implementation: replayed on its first full run, then carried to its other
  // configurations (a worker pool's or batcher's knobs change how answers are scheduled, not what they
  // are; the in-run output checks still judge every answer of every run).
  const replayed = new Map<string, { passed: boolean; violations: string[]; run: string }>();
  for (const e of ctx.prior ?? []) {
    const impl = e.figures['impl'];
    if (e.stack !== space.stack || e.stage !== 'full' || typeof impl !== 'string' || (e.figures['accuracy'] !== 'passed' && e.figures['accuracy'] !== 'failed')) continue;
    replayed.set(impl, { passed: e.figures['accuracy'] === 'passed', violations: e.clear_violations.filter((v) => v.startsWith('accuracy')), run: /runs\/(\d+)-/.exec(e.runDirs[0] ?? '')?.[1] ?? '?' });
  }
  const stopLive = async () => {
    const l = live;
    live = undefined;
    await l?.stop().catch((e: Error) => ctx.say(`tune: stopping ${l.key}: ${e.message}`));
  };
  const measure: Measure = async (config, stage) => {
    const t0 = performance.now();
    const key = configKey(config);
    const run = ctx.nextRun();
    const base: Outcome = { key, stack: space.stack, config, stage, objective: 0, objective_lo: 0, objective_hi: 0, violations: [], clear_violations: [], figures: {}, runDirs: [], elapsed_s: 0 };
    const failed = (error: string): Outcome => ({ ...base, error, elapsed_s: round((performance.now() - t0) / 1000, 1) });
    try {
      if (live?.key !== key) {
        await stopLive();
        live = await start(config, run);
      }
    } catch (e) {
      return failed(`did not start: ${(e as Error).message.split('\n')[0]}`);
    }
    const l = live!;
    const seconds = stage === 'probe' ? ctx.cfg.probe_s : ctx.cfg.duration_s;
    const impl = l.benchEnv['IMPL'] ?? space.stack;
    const known = replayed.get(impl);
    const accuracyRun = stage === 'full' && ctx.cfg.accuracy && !known;
    const extra: Record<string, string> = {
      // ACCURACY=1: the in-run output checks on every run (goodput counts correct answers), the replay only where due.
      ...l.benchEnv, SCENARIO: ctx.cfg.scenario, DURATION: `${seconds}s`, ACCURACY: ctx.cfg.accuracy ? '1' : '0', ACCURACY_REPLAY: accuracyRun ? '1' : '0',
      // Our tool's verdicts, not the bench's: no host bounds, no rerun for stability, no live dashboard.
      HOST_BOUNDS: '0', STABILITY_MAX_DURATION: '0s', DASHBOARD: '0', RESULTS_ROOT: join(ctx.dir, 'runs', `${run}-${space.stack}-${stage}`),
      ...(ctx.boundsFile ? { BOUNDS_FILE: ctx.boundsFile } : {}),
    };
    const memory = sampleTreeMemory(l.pid);
    try {
      const result = await runBench(benchConfig({ ...ctx.env, ...extra }), extra);
      const memory_mb = memory.stop();
      const withRun = { ...base, runDirs: [result.runDir], ...(l.modelConfigs ? { figures: { model_configs: l.modelConfigs } } : {}) };
      if (result.fault || result.summary === null) {
        await stopLive();
        return { ...withRun, error: result.fault ? `server lost: ${result.fault}` : `no summary (k6 exit ${result.k6Code}; see ${result.runDir})`, elapsed_s: round((performance.now() - t0) / 1000, 1) };
      }
      const judged = judge(result.summary, { objective: ctx.cfg.objective, slo: ctx.cfg.slo, memoryCap_mb: ctx.cfg.memory_mb, memory_mb, accuracyRun });
      const verdict = judged.figures['accuracy'];
      if (accuracyRun && (verdict === 'passed' || verdict === 'failed')) replayed.set(impl, { passed: verdict === 'passed', violations: judged.clear_violations.filter((v) => v.startsWith('accuracy')), run });
      else if (known) {
        judged.figures['accuracy'] = `${known.passed ? 'passed' : 'failed'} (replayed in run ${known.run})`;
        const carried = known.violations.map((v) => `${v} (replayed in run ${known.run})`);
        judged.violations.push(...carried);
        judged.clear_violations.push(...carried);
      }
      return { ...withRun, ...judged, figures: { ...judged.figures, ...withRun.figures, impl, bench_exit: result.exitCode }, elapsed_s: round((performance.now() - t0) / 1000, 1) };
    } catch (e) {
      memory.stop();
      await stopLive();
      return failed(`bench failed: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  return { measure, close: stopLive };
}

/** Our server, started per configuration with its knobs (as `make server` would read them). */
export function ourMeasurer(ctx: MeasureContext, space: Space): Measurer {
  const bench = benchConfig(ctx.env);
  const placement = resolvePlacement(bench.cpuPlacement);
  return measurer(ctx, space, async (config, run) => {
    const logFile = join(ctx.dir, 'runs', `${run}-ours-server.log`);
    const knobs = { ...space.fixed, ...config };
    // startServer sets EP and MODELS_DIR itself: a configuration's own (a TUNE_AXES axis) must win.
    const server = await startServer({ ...bench.server, ep: knobs['EP'] ?? bench.server.ep, modelsDir: knobs['MODELS_DIR'] ?? bench.server.modelsDir, logFile, readyTimeout_s: bench.readyTimeout_s, env: knobs, cpus: placement.server_cpus });
    ctx.say(`tune: ours ${configKey(config)}: server ${server.url} ready in ${server.ready_ms} ms`);
    return { key: configKey(config), benchEnv: { TARGET: server.url, IMPL: config['IMPL']! }, pid: server.child.pid!, stop: async () => void (await stopServer(server)) };
  });
}

/** The repository `make triton` wrote (its start line names it): the config.pbtxt of each model, copied into `to`. */
function copyModelConfigs(logFile: string, to: string): string | undefined {
  const repo = /repository=(\S+)/.exec(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')?.[1];
  if (!repo || !existsSync(repo)) return undefined;
  for (const model of readdirSync(repo)) {
    const file = join(repo, model, 'config.pbtxt');
    if (!existsSync(file)) continue;
    mkdirSync(join(to, model), { recursive: true });
    copyFileSync(file, join(to, model, 'config.pbtxt'));
  }
  return to;
}

/** Triton, started per configuration through `make triton` with its TRITON_* knobs, benched as the report's peer row. */
export function tritonMeasurer(ctx: MeasureContext, space: Space): Measurer {
  const bench = benchConfig(ctx.env);
  return measurer(ctx, space, async (config, run) => {
    const logFile = join(ctx.dir, 'runs', `${run}-triton.log`);
    const knobs = { ...space.fixed, ...config };
    const set = (knobs['TRITON_MODEL_SET'] ?? 'instances') as TritonModelSet;
    const triton = await startTriton({ modelSet: set, logFile, readyTimeout_s: bench.readyTimeout_s, env: knobs });
    const stop = async () => void (await stopTriton(triton));
    ctx.say(`tune: triton ${configKey(config)}: ${triton.url} ready in ${(triton.ready_ms / 1000).toFixed(1)} s`);
    const row: PeerRow = { row: tritonRow(set), peer: 'triton', url: triton.url, metricsUrl: triton.metricsUrl, pid: triton.pid, stack: 'triton', stop };
    const modelConfigs = copyModelConfigs(logFile, join(ctx.dir, 'runs', `${run}-triton-models`));
    return { key: configKey(config), benchEnv: peerBenchEnv(row, ctx.env), pid: triton.pid, stop, ...(modelConfigs ? { modelConfigs } : {}) };
  });
}

export function measurerFor(ctx: MeasureContext, space: Space): Measurer {
  return space.stack === 'triton' ? tritonMeasurer(ctx, space) : ourMeasurer(ctx, space);
}

// `make report`: a concurrency sweep per implementation, interleaved and repeated, then one folder
// results/report/<timestamp>/ with report.md, report.json and SVG charts. With REUSE=<folders> it
// gathers existing run folders instead of running anything.
//
// Fairness: round r runs one sweep per implementation, starting at a rotated position, so drift of
// the machine (thermal, other load) hits every implementation alike and speedups can be paired per
// round. Server: SERVER=shared (default) starts ONE server with every measured implementation loaded
// and points each run at it (no start-up in any run; memory is shared by all loaded
// implementations); SERVER=fresh lets every run start its own server loading only its
// implementation. Each run is `make bench SCENARIO=sweep` in a child process, so its results folder,
// env.json and exit code are exactly the bench's own. With MIX=d0:4,d2:0.5 every run is
// `make bench SCENARIO=mix` with that mix instead of a sweep, and the report's columns are its models.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { HealthResponse, ImplementationInfo } from '../../lib/types.ts';
import { benchConfig } from '../bench/config.ts';
import { BenchError } from '../common/progress.ts';
import { loadHostBounds } from '../bench/run.ts';
import { k6Binary } from '../common/k6.ts';
import { timestamp } from '../common/results.ts';
import { startServer, stopServer, type StartedServer } from '../common/server-process.ts';
import { waitReady } from '../common/ready.ts';
import { getJson, listImplementations } from '../../lib/node/server-api.ts';
import { mixText, reportConfig, type ReportConfig } from './config.ts';
import { gatherRuns, isMixRun, isRunDir, isTimingRun, loadRun, ROLE_FILE, type RunRecord } from './gather.ts';
import { buildReport, type ReportMeta } from './model.ts';
import { distinctImpls, rowImpl } from './rows.ts';
import { resultsTableText } from './text.ts';
import { writeReport } from './render.ts';
import { eta, formatSeconds, plannedRunSeconds, schedule, type ScheduledRun } from './plan.ts';
import { ourStack, peerBenchEnv, peerCommands, peerReportKnobs, peersConfig, startPeers, stopPeers, tritonRow, withServersCpu, type PeerRow } from './peers.ts';
import { knobWords, tunedCommands, tunedImpl, tuneMeta, type TunedRow } from './tuned.ts';
import { peerV2Models, tritonPeer } from './peers/triton.ts';
import { startTriton, stopTriton, type TritonModelSet } from '../../peers/triton/driver.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';

const say = (line: string) => console.log(`report: ${line}`);

/** A path as the user would type it: relative inside the working directory, absolute outside it. */
function shown(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') ? resolve(p) : rel;
}

/** Knobs worth repeating in the reproduce commands when set (they change what is measured):
 * the server's (a server the report or a fresh run starts reads them) and the bench's. */
const SERVER_KNOBS = ['EP', 'MODELS_DIR', 'THREADS', 'GRAPH_OPT', 'WORKERS', 'PARALLEL_WORKERS', 'PARALLEL_THREADS', 'BATCHER_MAX_BATCH', 'BATCHER_MAX_DELAY', 'SPINNING'];
const BENCH_KNOBS = ['WARMUP', 'LEVEL_GAP', 'MAX_IMAGES', 'DATASET_DIR', 'MAX_VUS', 'BOUNDS_FILE', 'HOST_BOUNDS', 'HOST_BOUNDS_FILE', 'PROTOCOL', 'V2_MODELS', 'MODELS', 'LOADGEN_GOMAXPROCS', 'LOADGEN_GOGC'];

function knobArgs(env: NodeJS.ProcessEnv, names: string[]): string[] {
  return names.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => `${k}=${env[k]}`);
}

/** The load of every run: a LEVELS sweep, or the MIX (each model's stream at once). `levels` narrows a sweep (the accuracy pass: its highest level). */
export function loadKnobs(cfg: Pick<ReportConfig, 'levels' | 'mix'>, levels: number[] = cfg.levels): Record<string, string> {
  return cfg.mix ? { SCENARIO: 'mix', MIX: mixText(cfg.mix.streams), MIX_LOOP: cfg.mix.loop } : { SCENARIO: 'sweep', LEVELS: levels.join(',') };
}

/** The load knobs as words of a command line, SCENARIO apart (it comes first in a make bench line). */
function loadWords(cfg: Pick<ReportConfig, 'levels' | 'mix'>, levels?: number[]): { scenario: string[]; load: string[] } {
  const { SCENARIO, ...load } = loadKnobs(cfg, levels);
  return { scenario: [`SCENARIO=${SCENARIO}`], load: Object.entries(load).map(([k, v]) => `${k}=${v}`) };
}

export function reproduceCommands(cfg: ReportConfig, impls: string[], runs: ScheduledRun[], env: NodeJS.ProcessEnv, reportDir: string, peers: PeerRow[] = [], tuned: TunedRow[] = []): ReportMeta['commands'] {
  const serverKnobs = knobArgs(env, SERVER_KNOBS);
  const benchKnobs = knobArgs(env, BENCH_KNOBS);
  const knobs = [...benchKnobs, ...serverKnobs];
  const peerRows = new Set([...peers.map((p) => p.row), ...tuned.map((t) => t.row)]);
  const ours = impls.filter((i) => !peerRows.has(i));
  const peerKnobs = [...peerReportKnobs(peers, env), ...(cfg.tune ? [`TUNE=${shown(cfg.tune.dir)}`] : [])];
  const report = ['make', 'report', ...(ours.length > 0 ? [`IMPL=${ours.join(',')}`] : []), ...peerKnobs, ...loadWords(cfg).load, `DURATION=${cfg.duration}`, `REPEATS=${cfg.repeats}`, ...(cfg.server !== 'shared' ? [`SERVER=${cfg.server}`] : []), ...(cfg.target ? [`TARGET=${cfg.target}`] : []), ...(cfg.accuracy ? (cfg.accuracyDuration !== '5s' ? [`ACCURACY_DURATION=${cfg.accuracyDuration}`] : []) : ['ACCURACY=0']), ...knobs].join(' ');
  const reuse = `make report REUSE=${shown(reportDir)}`;
  const target = cfg.target || 'http://127.0.0.1:8000';
  const serverLine = cfg.server === 'shared' && !cfg.target && ours.length > 0 ? [['make', 'server', `IMPL=${distinctImpls(ours).join(',')}`, 'PORT=8000', ...serverKnobs].join(' ') + '  # in another shell: one server for every run'] : [];
  // A labelled row (invalid@a) is a bench of its implementation; the label is the report's alone.
  const bench = (row: string, levels: number[], duration: string, accuracy: 0 | 1): string => {
    const peer = peers.find((p) => p.row === row);
    const { scenario, load } = loadWords(cfg, levels);
    const t = tuned.find((x) => x.row === row);
    // A tuned row: its own server's line (make server / make triton with the tuned knobs) before its bench.
    if (t) return tunedCommands(t, { scenario, run: [...load, `DURATION=${duration}`, `ACCURACY=${accuracy}`], benchKnobs, serverKnobs, fresh: cfg.server === 'fresh', spec: cfg.tune ? shown(cfg.tune.dir) : '', v2Models: peerV2Models(env) }).join('\n');
    if (peer) return peerCommands(peer, { scenario, run: [...load, `DURATION=${duration}`, `ACCURACY=${accuracy}`], knobs: benchKnobs.filter((k) => !k.startsWith('PROTOCOL=') && !k.startsWith('V2_MODELS=')) }, env).join('\n');
    return ['make', 'bench', ...scenario, `IMPL=${rowImpl(row)}`, ...load, `DURATION=${duration}`, ...(cfg.server === 'shared' ? [`TARGET=${target}`] : []), `ACCURACY=${accuracy}`, ...benchKnobs, ...(cfg.server === 'fresh' ? serverKnobs : [])].join(' ');
  };
  const accuracyLines = cfg.accuracy ? accuracyRows(impls, tuned).map((i) => `${bench(i, [Math.max(...cfg.levels)], cfg.accuracyDuration, 1)}  # accuracy pass`) : [];
  const runLines = runs.map((r) => bench(r.impl, cfg.levels, cfg.duration, 0) + (rowImpl(r.impl) !== r.impl && !tuned.some((t) => t.row === r.impl) ? `  # row ${r.impl}` : ''));
  return { report, reuse, runs: [...serverLine, ...accuracyLines, ...runLines] };
}

/**
 * The rows that get an accuracy pass: one per implementation (a label changes no answer), on the first
 * row that measures it; a tuned row of ours whose implementation no other row measures gets its own
 * (on its own server), and Triton's tuned row one like every peer row.
 */
export function accuracyRows(rows: string[], tuned: TunedRow[]): string[] {
  const tunedRows = new Set(tuned.map((t) => t.row));
  const plain = distinctImpls(rows.filter((r) => !tunedRows.has(r)));
  return [...plain, ...tuned.filter((t) => t.stack !== 'ours' || !plain.includes(tunedImpl(t))).map((t) => t.row)];
}

/** Runs one `make bench` sweep as a child process; its output goes to `logFile`, its progress lines to the console. */
function runBenchChild(env: NodeJS.ProcessEnv, logFile: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/bench/run.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const echo = (chunk: Buffer) => {
      log.write(chunk);
      for (const line of chunk.toString().split('\n')) if (line.startsWith('bench: ')) console.log(`  ${line}`);
    };
    child.stdout.on('data', echo);
    child.stderr.on('data', echo);
    child.on('error', reject);
    child.on('close', (code, signal) => log.end(() => resolvePromise(code ?? (signal ? 128 : 1))));
  });
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Starts a server loading `impls` ('all' or a comma list): the server reads the same IMPL as the bench. */
async function startServerWith(impls: string, logFile: string, readyTimeout_s: number): Promise<StartedServer> {
  const base = benchConfig({ ...process.env, SCENARIO: 'sweep' });
  // The shared server must load every measured implementation.
  return startServer({ ...base.server, logFile, readyTimeout_s, env: { IMPL: impls } });
}

/** A tuned row made ready: its server started (or, SERVER=fresh, the knobs each run's own server gets). */
interface StartedTuned {
  row: TunedRow;
  /** The bench knobs of its runs: TARGET (and Triton's protocol), or the server knobs with SERVER=fresh. */
  benchEnv: Record<string, string>;
  /** Its server's process tree (none with SERVER=fresh: each run starts its own). */
  pid?: number;
  url?: string;
  logFile?: string;
  stack: string;
  description: string;
  exited(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts each tuned row's server with its knobs, one at a time (they idle while other rows are
 * measured): ours through the bench's own server helper (its knobs over this environment, as `make
 * server` reads them), Triton through `make triton`. With SERVER=fresh ours starts nothing: every run
 * of the row starts its own server with the knobs, like every other row's. Stops those started if one fails.
 */
async function startTuned(cfg: ReportConfig, logsDir: string, readyTimeout_s: number): Promise<StartedTuned[]> {
  const started: StartedTuned[] = [];
  // The folder itself, not `latest`: it stays what was quoted when latest moves on.
  const spec = cfg.tune ? shown(cfg.tune.dir) : '';
  try {
    for (const row of cfg.tune?.rows ?? []) {
      const knobs = knobWordsText(row);
      const logFile = join(logsDir, `${row.row}.log`);
      const t0 = performance.now();
      if (row.stack === 'triton') {
        const set = (row.knobs['TRITON_MODEL_SET'] ?? 'instances') as TritonModelSet;
        const triton = await startTriton({ modelSet: set, logFile, readyTimeout_s, env: { ...row.knobs } });
        say(`tuned row ${row.row} ${triton.url} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s with ${knobs} (log ${shown(triton.logFile)})`);
        started.push({
          row, pid: triton.pid, url: triton.url, logFile: triton.logFile,
          benchEnv: { TARGET: triton.url, TARGET_METRICS: triton.metricsUrl, PROTOCOL: 'v2', V2_MODELS: peerV2Models(process.env), V2_VERSION: '1', IMPL: row.row },
          stack: `${tritonPeer.stack(tritonRow(set))}; started with ${knobs} (make tune's best, TUNE=${spec})`,
          description: `Triton with make tune's best configuration: ${knobs}`,
          exited: () => triton.child.exitCode !== null,
          stop: async () => void (await stopTriton(triton)),
        });
        continue;
      }
      const impl = tunedImpl(row);
      const description = `${impl} with make tune's best knobs: ${knobs}`;
      if (cfg.server === 'fresh') {
        started.push({ row, benchEnv: { ...row.knobs, IMPL: impl, TARGET: '' }, stack: `our server as every run's, started by each run with ${knobs} (make tune's best, TUNE=${spec})`, description, exited: () => false, stop: async () => undefined });
        continue;
      }
      const base = benchConfig({ ...process.env, SCENARIO: 'sweep' });
      // startServer sets EP and MODELS_DIR itself: the tuned configuration's own (a TUNE_AXES axis, or fixed) must win.
      const server = await startServer({ ...base.server, ep: row.knobs['EP'] ?? base.server.ep, modelsDir: row.knobs['MODELS_DIR'] ?? base.server.modelsDir, logFile, readyTimeout_s, env: { ...row.knobs } });
      const health = await getJson<HealthResponse>(`${server.url}/health`);
      say(`tuned row ${row.row} ${server.url} ready in ${(server.ready_ms / 1000).toFixed(1)} s with ${knobs} (log ${shown(server.logFile)})`);
      const listed = (await listImplementations(server.url)).find((i) => i.name === impl);
      started.push({
        row, pid: server.child.pid!, url: server.url, logFile: server.logFile,
        benchEnv: { TARGET: server.url, IMPL: impl },
        stack: `${ourStack(health.version)}; a server of its own started with ${knobs} (make tune's best, TUNE=${spec})`,
        description: `${listed?.description ?? impl}; make tune's best knobs: ${knobs}`,
        exited: () => server.child.exitCode !== null,
        stop: async () => void (await stopServer(server)),
      });
    }
    return started;
  } catch (e) {
    await stopTunedRows(started);
    throw e;
  }
}

async function stopTunedRows(rows: StartedTuned[]): Promise<void> {
  for (const r of rows) await r.stop();
}

const knobWordsText = (row: TunedRow): string => knobWords(row.knobs).join(' ');

interface Measured {
  runs: RunRecord[];
  impls: string[];
  implementations: ImplementationInfo[];
  server: ReportMeta['server'];
  commands: ReportMeta['commands'];
  missing: number;
  stacks: NonNullable<ReportMeta['stacks']>;
  tune?: ReportMeta['tune'];
}

/** The server to list implementations from (and, when shared, to measure): TARGET, or one the report starts. */
async function reportServer(cfg: ReportConfig, reportDir: string, serverImpls: string, readyTimeout_s: number): Promise<{ target: string; health: HealthResponse; server?: StartedServer }> {
  if (cfg.target) {
    const health = await waitReady(cfg.target, 30);
    say(`measuring the running server ${cfg.target} (ep ${health.ep})`);
    return { target: cfg.target, health };
  }
  const t0 = performance.now();
  const logFile = join(reportDir, 'server.log');
  const server = await startServerWith(serverImpls, logFile, readyTimeout_s).catch((e: Error) => {
    // The server checks IMPL against its registry and says which names it knows.
    const refused = tail(logFile, 20).split('\n').find((l) => /unknown implementation/i.test(l));
    throw refused ? new BenchError(`IMPL=${cfg.impls.join(',')}: the server refused it (${refused.trim()})`) : e;
  });
  const health = await getJson<HealthResponse>(`${server.url}/health`);
  say(`${cfg.server === 'fresh' ? 'listing server (SERVER=fresh: every run starts its own)' : 'server'} ${server.url} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (IMPL=${serverImpls}, ep ${health.ep}, log ${shown(server.logFile)})`);
  return { target: server.url, health, server };
}

/** IMPL, or every implementation the server lists; each must be served. */
async function implsToMeasure(cfg: ReportConfig, target: string): Promise<{ impls: string[]; listed: ImplementationInfo[] }> {
  const listed = await listImplementations(target);
  const names = listed.map((i) => i.name);
  const impls = cfg.impls.length > 0 ? [...cfg.impls] : names;
  const unknown = impls.filter((i) => !names.includes(rowImpl(i)));
  if (unknown.length > 0) throw new BenchError(`IMPL=${unknown.join(',')} is not served by ${target}: expected a comma list of ${names.join(', ')} (each may carry a row label: name@label)`);
  if (!impls.some((i) => rowImpl(i) === 'baseline')) say(`IMPL has no baseline: every ratio is over the first row, ${impls[0]}`);
  return { impls, listed };
}

/** The report's statement of how the server was run (SERVER=shared, TARGET or fresh), for report.md. */
export function serverStatement(cfg: Pick<ReportConfig, 'server' | 'target'>, o: { target: string; serverImpls: string; ready_ms?: number; settings: HealthResponse['settings'] }): ReportMeta['server'] {
  if (cfg.server !== 'shared') {
    return {
      mode: 'fresh',
      statement: 'every run started its own server loading only the implementation under test (make bench without TARGET; start-to-ready is in each run\'s env.json as server_ready_ms) and stopped it afterwards, so no run shares memory or warm caches with another implementation. Each run\'s warm-up requests are excluded.',
      settings: o.settings,
    };
  }
  return {
    mode: cfg.target ? 'target' : 'shared',
    statement: cfg.target
      ? `every run measured the already running server ${cfg.target} (started outside the report; its start-up is not measured, and it holds whatever implementations it was started with).`
      : `one server process for the whole session, started by the report with IMPL=${o.serverImpls} (ready in ${o.ready_ms} ms), every measured implementation loaded in it from the start; runs never include a server start, and all loaded implementations share that process's memory and CPU (an idle implementation holds its sessions but runs nothing while another is measured). Each run's warm-up requests are excluded.`,
    url: o.target,
    ready_ms: o.ready_ms,
    settings: o.settings,
  };
}

/** One make bench run (a sweep or a mix: `knobs` hold SCENARIO) in a child process: its run record,
 * or null (reported, counted in `missing`) when it wrote none. */
type BenchOnce = (label: string, impl: string, root: string, knobs: Record<string, string>, logName: string) => Promise<RunRecord | null>;

/**
 * The report's way to run one bench: in a child process against the shared server (or its own with
 * SERVER=fresh, or a peer's), while the CPU time of every server kept up across runs is sampled.
 */
function benchRunner(o: { cfg: ReportConfig; target: string; logsDir: string; server?: StartedServer; peers: PeerRow[]; tuned: StartedTuned[] }): { benchOnce: BenchOnce; missing: () => number } {
  const { cfg, server, peers, tuned } = o;
  let missing = 0;
  // Every server tree that stays up across runs, for its CPU time during each run (servers-cpu.json).
  const serverPids: Record<string, number> = { ...(server && cfg.server === 'shared' ? { ours: server.child.pid! } : {}), ...Object.fromEntries(peers.map((p) => [p.row, p.pid])), ...Object.fromEntries(tuned.filter((t) => t.pid !== undefined).map((t) => [t.row.row, t.pid!])) };
  const benchChild: BenchOnce = async (label, impl, root, knobs, logName) => {
    mkdirSync(root, { recursive: true });
    const before = new Set(readdirSync(root));
    const peer = peers.find((p) => p.row === impl);
    const own = tuned.find((t) => t.row.row === impl);
    const env: NodeJS.ProcessEnv = { ...process.env, IMPL: rowImpl(impl), RESULTS_ROOT: root, DASHBOARD: '0', TARGET: cfg.server === 'shared' ? o.target : '', ...knobs, ...(peer ? peerBenchEnv(peer, process.env) : {}), ...(own ? own.benchEnv : {}) };
    const logFile = join(o.logsDir, `${logName}.log`);
    const t0 = performance.now();
    const code = await runBenchChild(env, logFile);
    const wall_s = (performance.now() - t0) / 1000;
    const created = readdirSync(root).filter((n) => !before.has(n) && n !== 'latest' && isRunDir(join(root, n)));
    if (created.length === 1) {
      say(`${label} done in ${formatSeconds(wall_s)}: exit ${code}${code === 99 ? ' (k6 thresholds failed; figures kept)' : code === 98 ? ' (a post-processing gate failed; figures kept)' : ''}`);
      return { ...loadRun(join(root, created[0]!)), exitCode: code, wall_s };
    }
    missing++;
    say(`${label} (${impl}) wrote no summary (exit ${code}); last lines of ${shown(logFile)}:\n${tail(logFile, 8)}`);
    if (server && server.child.exitCode !== null) throw new BenchError(`the shared server exited (code ${server.child.exitCode}) during ${label}: see ${shown(server.logFile)}`);
    if (own?.exited()) throw new BenchError(`the server of the tuned row ${impl} exited during ${label}: see ${shown(own.logFile ?? o.logsDir)}`);
    return null;
  };
  return { benchOnce: (...args) => withServersCpu(serverPids, () => benchChild(...args)), missing: () => missing };
}

/** One accuracy pass per implementation (level `level`, or the mix, with k6's in-run output checks), before the timed rounds. */
async function accuracyPasses(cfg: ReportConfig, impls: string[], level: number, reportDir: string, benchOnce: BenchOnce, timedLeft_s: number): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  const accuracyDir = join(reportDir, 'accuracy');
  const accuracyWall: number[] = [];
  const planned_s = plannedRunSeconds({ levels: [level], duration_s: cfg.accuracyDuration_s, gap_s: 0, mix: cfg.mix });
  const load = cfg.mix ? `MIX=${mixText(cfg.mix.streams)} (${cfg.mix.loop} loop)` : `level ${level}`;
  for (const [i, impl] of impls.entries()) {
    const label = `accuracy ${i + 1}/${impls.length}`;
    // ETA: the accuracy passes left (mean so far, else the plan of one level), then the timed rounds.
    const left = eta(accuracyWall, impls.length - i, planned_s) + timedLeft_s;
    say(`${label}: ${impl} - ${load} for ${cfg.accuracyDuration} with k6's in-run output checks, then the sequential replay (timings not used); ETA ${formatSeconds(left)}`);
    const run = await benchOnce(label, impl, accuracyDir, { ...loadKnobs(cfg, [level]), DURATION: cfg.accuracyDuration, ACCURACY: '1' }, `accuracy-${impl}`);
    if (!run) continue;
    accuracyWall.push(run.wall_s ?? 0);
    writeFileSync(join(run.dir, ROLE_FILE), JSON.stringify({ role: 'accuracy', note: 'make report accuracy pass: timings taken with in-run output checks, not used for timing' }) + '\n');
    runs.push({ ...run, role: 'accuracy' });
  }
  return runs;
}

/** A run's load in the progress lines: `sweep LEVELS=1,4,8` or `mix MIX=d0:4,d2:0.5 MIX_LOOP=open`. */
const loadText = (cfg: ReportConfig): string => (cfg.mix ? `mix MIX=${mixText(cfg.mix.streams)} MIX_LOOP=${cfg.mix.loop}` : `sweep LEVELS=${cfg.levels.join(',')}`);

/** The timed runs (sweeps, or mixes) in their interleaved order, each run tagged with its round. */
async function timedRounds(cfg: ReportConfig, plan: ScheduledRun[], planned_s: number, reportDir: string, benchOnce: BenchOnce): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  const wall: number[] = [];
  const started = performance.now();
  for (const item of plan) {
    const label = `run ${item.index}/${plan.length}`;
    say(`${label} (round ${item.round}/${cfg.repeats}): ${item.impl} - ${loadText(cfg)} DURATION=${cfg.duration}; elapsed ${formatSeconds((performance.now() - started) / 1000)}, ETA ${formatSeconds(eta(wall, plan.length - item.index + 1, planned_s))}`);
    const run = await benchOnce(label, item.impl, join(reportDir, 'runs'), { ...loadKnobs(cfg), DURATION: cfg.duration, ACCURACY: '0' }, `${String(item.index).padStart(3, '0')}-${item.impl}`);
    if (run) {
      // The round travels with the run, so speedups pair runs of the same round even when one is missing.
      writeFileSync(join(run.dir, ROLE_FILE), JSON.stringify({ role: 'timing', round: item.round, row: item.impl }) + '\n');
      runs.push({ ...run, round: item.round, row: item.impl });
      wall.push(run.wall_s ?? 0);
    }
  }
  return runs;
}

async function measure(cfg: ReportConfig, reportDir: string): Promise<Measured> {
  k6Binary(); // fail before any server starts when there is no k6
  const logsDir = join(reportDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const readyTimeout_s = benchConfig({ ...process.env, SCENARIO: 'sweep' }).readyTimeout_s;
  // Only the implementations measured are loaded (the server reads IMPL like the bench); with
  // SERVER=fresh this server only lists them and each run then starts its own.
  // SERVER=fresh: the listing server also loads the tuned rows' implementations, so a name it lacks stops the report now.
  const tunedOurs = cfg.server === 'fresh' ? (cfg.tune?.rows ?? []).filter((t) => t.stack === 'ours').map(tunedImpl) : [];
  const serverImpls = cfg.impls.length > 0 ? distinctImpls([...cfg.impls, ...tunedOurs]).join(',') : 'all';

  let server: StartedServer | undefined;
  let peers: PeerRow[] = [];
  let tuned: StartedTuned[] = [];
  try {
    const started = await reportServer(cfg, reportDir, serverImpls, readyTimeout_s);
    server = started.server;
    const { target, health } = started;
    const { impls, listed } = await implsToMeasure(cfg, target);
    // PEERS: their rows join ours in every round (started now, idle while another row is measured).
    peers = await startPeers(peersConfig(process.env), logsDir, readyTimeout_s, say);
    // TUNE: each stack's best, a server of its own with its knobs (our tuned row after ours, Triton's after the peers).
    tuned = await startTuned(cfg, logsDir, readyTimeout_s);
    for (const note of cfg.tune?.notes ?? []) say(note);
    const ours = [...impls];
    const tunedOf = (stack: string) => tuned.filter((t) => t.row.stack === stack);
    impls.push(...tunedOf('ours').map((t) => t.row.row), ...peers.map((p) => p.row), ...tunedOf('triton').map((t) => t.row.row));
    // One entry per row: a labelled row carries its implementation's description under the row's name.
    const implementations = [
      ...ours.map((n) => ({ ...listed.find((i) => i.name === rowImpl(n))!, name: n })),
      ...tunedOf('ours').map((t) => ({ name: t.row.row, description: t.description, lossless: listed.find((i) => i.name === tunedImpl(t.row))?.lossless ?? false })),
      ...peers.map((p) => ({ name: p.row, description: p.stack, lossless: true })),
      ...tunedOf('triton').map((t) => ({ name: t.row.row, description: t.description, lossless: true })),
    ];
    const stacks: NonNullable<ReportMeta['stacks']> = [
      ...(ours.length > 0 ? [{ server: 'ours', rows: ours, stack: ourStack(health.version), url: cfg.server === 'shared' ? target : undefined }] : []),
      ...tunedOf('ours').map((t) => ({ server: t.row.row, rows: [t.row.row], stack: t.stack, url: t.url })),
      ...peers.map((p) => ({ server: p.row, rows: [p.row], stack: p.stack, url: p.url })),
      ...tunedOf('triton').map((t) => ({ server: t.row.row, rows: [t.row.row], stack: t.stack, url: t.url })),
    ];
    const shared = serverStatement(cfg, { target, serverImpls, ...(server ? { ready_ms: server.ready_ms } : {}), settings: health.settings });
    const serverInfo = tuned.length > 0 ? { ...shared, statement: `${shared.statement} The tuned rows (${tuned.map((t) => t.row.row).join(', ')}) ran on servers of their own, started with their tuned knobs (Tuned rows, below).` } : shared;
    if (cfg.server === 'fresh' && server) {
      await stopServer(server); // only needed to list the implementations
      server = undefined;
    }

    const plan = schedule(impls, cfg.repeats);
    const commands = reproduceCommands(cfg, impls, plan, process.env, reportDir, peers, tuned.map((t) => t.row));
    const planned_s = plannedRunSeconds(cfg);
    const accuracyLevel = Math.max(...cfg.levels);
    const load = cfg.mix ? `MIX=${mixText(cfg.mix.streams)} (${cfg.mix.loop} loop, every model's stream at once) for ${cfg.duration}` : `levels ${cfg.levels.join(',')} at ${cfg.duration} each`;
    say(`${plan.length} timed runs: ${cfg.repeats} round(s) x ${impls.length} implementation(s) (${impls.join(', ')}), ${load}, server ${serverInfo.mode}; planned about ${formatSeconds(plan.length * planned_s)}${cfg.accuracy ? `, after an accuracy pass per implementation (${cfg.mix ? 'the same mix' : `level ${accuracyLevel}`}, ${cfg.accuracyDuration})` : ' (ACCURACY=0: no accuracy pass)'}`);

    const { benchOnce, missing } = benchRunner({ cfg, target, logsDir, ...(server ? { server } : {}), peers, tuned });
    // Accuracy is a property of the implementation: one pass each, however many rows it has.
    const runs = cfg.accuracy ? await accuracyPasses(cfg, accuracyRows(impls, tuned.map((t) => t.row)), accuracyLevel, reportDir, benchOnce, plan.length * planned_s) : [];
    runs.push(...(await timedRounds(cfg, plan, planned_s, reportDir, benchOnce)));
    return { runs, impls, implementations, server: serverInfo, commands, missing: missing(), stacks, ...(cfg.tune ? { tune: tuneMeta(cfg.tune, loadText(cfg)) } : {}) };
  } finally {
    await stopTunedRows(tuned);
    await stopPeers(peers);
    if (server) await stopServer(server);
  }
}

export async function makeReport(env: NodeJS.ProcessEnv = process.env): Promise<{ dir: string; missing: number }> {
  const cfg = reportConfig(env);
  const created = new Date();
  const reportRoot = resolve(cfg.resultsRoot, 'report');
  const dir = join(reportRoot, timestamp(created));
  mkdirSync(dir, { recursive: true });
  say(`report folder ${shown(dir)}`);
  // The host bounds make bench gates against (HOST_BOUNDS=0 or no file: none), read by the bench's own reader.
  const calibration = loadHostBounds(benchConfig({ ...env, SCENARIO: 'sweep' })) ?? null;

  let meta: ReportMeta;
  let runs: RunRecord[];
  let missing = 0;
  if (cfg.reuse.length > 0) {
    runs = gatherRuns(cfg.reuse, say);
    const timed = runs.filter(isTimingRun);
    if (timed.length === 0) throw new BenchError(`REUSE=${cfg.reuse.join(',')} holds no timed sweep, concurrency or mix run folders: point it at results/<run> folders, a report's runs/ or a report folder`);
    say(`gathered ${timed.length} timed run folder(s)${runs.length > timed.length ? ` and ${runs.length - timed.length} accuracy-only one(s)` : ''}`);
    // One report, one kind: a sweep's levels and a mix's models are no columns of one table.
    const mixes = timed.filter(isMixRun).length;
    if (cfg.mix && mixes === 0) throw new BenchError(`REUSE=${cfg.reuse.join(',')} with MIX=${mixText(cfg.mix.streams)}: none of its runs is a mix (SCENARIO=mix); drop MIX to report its sweeps`);
    if (!cfg.mix && mixes > 0 && mixes < timed.length) say(`${mixes} mix run(s) left out: the report is the sweeps'; set MIX (their mix) to report the mix runs instead`);
    const started = timed.filter((r) => r.env?.['server_started_by_bench'] === true).length;
    const targets = [...new Set(timed.filter((r) => r.env?.['server_started_by_bench'] === false).map((r) => String(r.env?.['target'])))];
    meta = {
      created: created.toISOString(),
      mode: 'reuse',
      config: { impls: cfg.impls, levels: cfg.levelsGiven ? cfg.levels : [], duration: [...new Set(timed.flatMap((r) => r.summary.levels.map((l) => `${l.duration_s}s`)))].join('/'), repeats: 0, server: 'gathered', accuracy: runs.some((r) => r.accuracy), reuse: cfg.reuse, ...(cfg.mix ? { mix: cfg.mix } : {}) },
      server: { mode: 'gathered', statement: `gathered runs: ${started} started their own server (make bench without TARGET)${targets.length > 0 ? `, ${timed.length - started} measured a running server (${targets.join(', ')})` : ''}.` },
      implementations: [],
      commands: { report: `make report REUSE=${cfg.reuse.join(',')}${cfg.impls.length > 0 ? ` IMPL=${cfg.impls.join(',')}` : ''}${cfg.levelsGiven ? ` LEVELS=${cfg.levels.join(',')}` : ''}${cfg.mix ? ` ${loadWords(cfg).load.join(' ')}` : ''}`, reuse: `make report REUSE=${cfg.reuse.join(',')}`, runs: [...new Set(runs.map((r) => (r.env?.['command'] as { make?: string } | undefined)?.make).filter((c): c is string => Boolean(c)))] },
      calibration,
    };
  } else {
    const m = await measure(cfg, dir);
    runs = m.runs;
    missing = m.missing;
    meta = {
      created: created.toISOString(),
      mode: 'run',
      config: { impls: m.impls, levels: cfg.mix ? [] : cfg.levels, duration: cfg.duration, repeats: cfg.repeats, server: m.server.mode, accuracy: cfg.accuracy, reuse: [], ...(cfg.mix ? { mix: cfg.mix } : {}) },
      server: m.server,
      implementations: m.implementations,
      commands: m.commands,
      calibration,
      stacks: m.stacks,
      ...(m.tune ? { tune: m.tune } : {}),
    };
  }

  const harnessFile = resolve(cfg.resultsRoot, 'harness', 'latest', 'harness.txt');
  meta.harness = existsSync(harnessFile) ? { file: realpathSync(harnessFile), text: readFileSync(harnessFile, 'utf8') } : null;
  const report = buildReport(runs, meta);
  const written = await writeReport(dir, report);
  const latest = join(reportRoot, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(basename(dir), latest);
  console.log(resultsTableText(report));
  say(`wrote ${written.map((p) => shown(p)).join(', ')} (${shown(latest)} points at it)`);
  return { dir, missing };
}

if (isMain(import.meta.url)) {
  runMain('report', async () => {
    const { missing } = await makeReport();
    if (missing === 0) return 0;
    console.error(`report: ${missing} run(s) wrote no summary and are missing from the report: see the run logs in the report folder's logs/`);
    return 1;
  }, { expected: [BenchError] });
}

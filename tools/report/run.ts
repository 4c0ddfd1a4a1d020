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
import { ourStack, peerBenchEnv, peerCommands, peerReportKnobs, peersConfig, startPeers, stopPeers, withServersCpu, type PeerRow } from './peers.ts';
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

export function reproduceCommands(cfg: ReportConfig, impls: string[], runs: ScheduledRun[], env: NodeJS.ProcessEnv, reportDir: string, peers: PeerRow[] = []): ReportMeta['commands'] {
  const serverKnobs = knobArgs(env, SERVER_KNOBS);
  const benchKnobs = knobArgs(env, BENCH_KNOBS);
  const knobs = [...benchKnobs, ...serverKnobs];
  const peerRows = new Set(peers.map((p) => p.row));
  const ours = impls.filter((i) => !peerRows.has(i));
  const peerKnobs = peerReportKnobs(peers, env);
  const report = ['make', 'report', `IMPL=${ours.join(',')}`, ...peerKnobs, ...loadWords(cfg).load, `DURATION=${cfg.duration}`, `REPEATS=${cfg.repeats}`, ...(cfg.server !== 'shared' ? [`SERVER=${cfg.server}`] : []), ...(cfg.target ? [`TARGET=${cfg.target}`] : []), ...(cfg.accuracy ? (cfg.accuracyDuration !== '5s' ? [`ACCURACY_DURATION=${cfg.accuracyDuration}`] : []) : ['ACCURACY=0']), ...knobs].join(' ');
  const reuse = `make report REUSE=${shown(reportDir)}`;
  const target = cfg.target || 'http://127.0.0.1:8000';
  const serverLine = cfg.server === 'shared' && !cfg.target ? [['make', 'server', `IMPL=${distinctImpls(ours).join(',')}`, 'PORT=8000', ...serverKnobs].join(' ') + '  # in another shell: one server for every run'] : [];
  // A labelled row (invalid@a) is a bench of its implementation; the label is the report's alone.
  const bench = (row: string, levels: number[], duration: string, accuracy: 0 | 1): string => {
    const peer = peers.find((p) => p.row === row);
    const { scenario, load } = loadWords(cfg, levels);
    if (peer) return peerCommands(peer, { scenario, run: [...load, `DURATION=${duration}`, `ACCURACY=${accuracy}`], knobs: benchKnobs.filter((k) => !k.startsWith('PROTOCOL=') && !k.startsWith('V2_MODELS=')) }, env).join('\n');
    return ['make', 'bench', ...scenario, `IMPL=${rowImpl(row)}`, ...load, `DURATION=${duration}`, ...(cfg.server === 'shared' ? [`TARGET=${target}`] : []), `ACCURACY=${accuracy}`, ...benchKnobs, ...(cfg.server === 'fresh' ? serverKnobs : [])].join(' ');
  };
  const accuracyLines = cfg.accuracy ? distinctImpls(impls).map((i) => `${bench(i, [Math.max(...cfg.levels)], cfg.accuracyDuration, 1)}  # accuracy pass`) : [];
  const runLines = runs.map((r) => bench(r.impl, cfg.levels, cfg.duration, 0) + (rowImpl(r.impl) !== r.impl ? `  # row ${r.impl}` : ''));
  return { report, reuse, runs: [...serverLine, ...accuracyLines, ...runLines] };
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

interface Measured {
  runs: RunRecord[];
  impls: string[];
  implementations: ImplementationInfo[];
  server: ReportMeta['server'];
  commands: ReportMeta['commands'];
  missing: number;
  stacks: NonNullable<ReportMeta['stacks']>;
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
function benchRunner(o: { cfg: ReportConfig; target: string; logsDir: string; server?: StartedServer; peers: PeerRow[] }): { benchOnce: BenchOnce; missing: () => number } {
  const { cfg, server, peers } = o;
  let missing = 0;
  // Every server tree that stays up across runs, for its CPU time during each run (servers-cpu.json).
  const serverPids: Record<string, number> = { ...(server && cfg.server === 'shared' ? { ours: server.child.pid! } : {}), ...Object.fromEntries(peers.map((p) => [p.row, p.pid])) };
  const benchChild: BenchOnce = async (label, impl, root, knobs, logName) => {
    mkdirSync(root, { recursive: true });
    const before = new Set(readdirSync(root));
    const peer = peers.find((p) => p.row === impl);
    const env: NodeJS.ProcessEnv = { ...process.env, IMPL: rowImpl(impl), RESULTS_ROOT: root, DASHBOARD: '0', TARGET: cfg.server === 'shared' ? o.target : '', ...knobs, ...(peer ? peerBenchEnv(peer, process.env) : {}) };
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
  const serverImpls = cfg.impls.length > 0 ? distinctImpls(cfg.impls).join(',') : 'all';

  let server: StartedServer | undefined;
  let peers: PeerRow[] = [];
  try {
    const started = await reportServer(cfg, reportDir, serverImpls, readyTimeout_s);
    server = started.server;
    const { target, health } = started;
    const { impls, listed } = await implsToMeasure(cfg, target);
    // PEERS: their rows join ours in every round (started now, idle while another row is measured).
    peers = await startPeers(peersConfig(process.env), logsDir, readyTimeout_s, say);
    const ours = [...impls];
    impls.push(...peers.map((p) => p.row));
    // One entry per row: a labelled row carries its implementation's description under the row's name.
    const implementations = [...ours.map((n) => ({ ...listed.find((i) => i.name === rowImpl(n))!, name: n })), ...peers.map((p) => ({ name: p.row, description: p.stack, lossless: true }))];
    const stacks: NonNullable<ReportMeta['stacks']> = [{ server: 'ours', rows: ours, stack: ourStack(health.version), url: cfg.server === 'shared' ? target : undefined }, ...peers.map((p) => ({ server: p.row, rows: [p.row], stack: p.stack, url: p.url }))];
    const serverInfo = serverStatement(cfg, { target, serverImpls, ...(server ? { ready_ms: server.ready_ms } : {}), settings: health.settings });
    if (cfg.server === 'fresh' && server) {
      await stopServer(server); // only needed to list the implementations
      server = undefined;
    }

    const plan = schedule(impls, cfg.repeats);
    const commands = reproduceCommands(cfg, impls, plan, process.env, reportDir, peers);
    const planned_s = plannedRunSeconds(cfg);
    const accuracyLevel = Math.max(...cfg.levels);
    const load = cfg.mix ? `MIX=${mixText(cfg.mix.streams)} (${cfg.mix.loop} loop, every model's stream at once) for ${cfg.duration}` : `levels ${cfg.levels.join(',')} at ${cfg.duration} each`;
    say(`${plan.length} timed runs: ${cfg.repeats} round(s) x ${impls.length} implementation(s) (${impls.join(', ')}), ${load}, server ${serverInfo.mode}; planned about ${formatSeconds(plan.length * planned_s)}${cfg.accuracy ? `, after an accuracy pass per implementation (${cfg.mix ? 'the same mix' : `level ${accuracyLevel}`}, ${cfg.accuracyDuration})` : ' (ACCURACY=0: no accuracy pass)'}`);

    const { benchOnce, missing } = benchRunner({ cfg, target, logsDir, ...(server ? { server } : {}), peers });
    // Accuracy is a property of the implementation: one pass each, however many rows it has.
    const runs = cfg.accuracy ? await accuracyPasses(cfg, distinctImpls(impls), accuracyLevel, reportDir, benchOnce, plan.length * planned_s) : [];
    runs.push(...(await timedRounds(cfg, plan, planned_s, reportDir, benchOnce)));
    return { runs, impls, implementations, server: serverInfo, commands, missing: missing(), stacks };
  } finally {
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

// `make report TUNE=results/tune/<ts>` (or TUNE=latest): quote a tuning result. Each stack's best
// configuration in make tune's tune.json (tools/tune/output.ts) becomes a row of the report, run in
// the same interleaved rounds as the other rows so its ratios carry the report's intervals: our
// server's best as `<IMPL>@tuned` (a server of its own started with the best knobs: they are
// process-wide, so it cannot share the report's server) and Triton's as `triton-tuned` (`make
// triton` with its best TRITON_* knobs). The tuning's workload (its scenario's levels, or its mix) is
// what the report runs unless LEVELS or MIX is set. Pure reading and wording here; tools/report/run.ts
// starts the servers.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../lib/env.ts';
import { INVALID as INVALID_KNOB } from '../../lib/knobs.ts';
import { SCENARIO_KNOBS, scenarioSpec, SCENARIOS, type MixLoop, type MixStream } from '../../lib/scenarios.ts';
import type { StackResult, TuneReport } from '../tune/output.ts';
import type { Outcome, TuneConfig } from '../tune/types.ts';
import { rowImpl } from './rows.ts';

/** The one name of a tuned row: our row is `<IMPL>@tuned`, Triton's `triton-tuned`. */
export const TUNED = 'tuned';

export type TunedStack = 'ours' | 'triton';

export interface TunedRow {
  /** The report row: `concurrent@tuned` (ours) or `triton-tuned`. */
  row: string;
  stack: TunedStack;
  /** Every knob its server starts with: the stack's fixed knobs, then the best configuration's. */
  knobs: TuneConfig;
  /** What the tuning measured for it (its objective, 95 % interval and unit), in words. */
  tuned: string;
}

/** The tuning's workload as the report runs it: LEVELS of a sweep, or a MIX. */
export type TunedLoad = { levels: number[] } | { mix: { streams: MixStream[]; loop: MixLoop } };

export interface TuneQuote {
  /** TUNE as given (for the reproduce line) and the folder it names, resolved. */
  spec: string;
  dir: string;
  created: string;
  scenario: string;
  /** The tuning's workload; null where the report cannot run it (`loadNote` says why). */
  load: TunedLoad | null;
  loadNote?: string;
  rows: TunedRow[];
  /** A line per stack left out (no feasible best), and where the report's protocol differs from the tuning's. */
  notes: string[];
  /** The protocol our best was measured over (its run's PROTOCOL and V2_MODELS as set), where its env.json says. */
  protocol?: Record<string, string>;
}

/** The folder TUNE names: `latest` is RESULTS_ROOT/tune/latest. */
export function tuneDir(spec: string, resultsRoot: string): string {
  return spec === 'latest' ? resolve(resultsRoot, 'tune', 'latest') : resolve(spec);
}

const fix = 'name a results/tune/<timestamp> folder written by make tune (or TUNE=latest), or run make tune first';

/** Reads tune.json from the folder TUNE names; every refusal is one line naming the cause and the fix. */
export function readTuneReport(spec: string, resultsRoot: string): { dir: string; report: TuneReport } {
  const dir = tuneDir(spec, resultsRoot);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`TUNE=${spec}: no such folder (${dir}): ${fix}`);
  const file = join(dir, 'tune.json');
  if (!existsSync(file)) throw new ConfigError(`TUNE=${spec} has no tune.json (${dir}): ${fix}`);
  let report: TuneReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as TuneReport;
  } catch (e) {
    throw new ConfigError(`TUNE=${spec}: ${file} is not JSON (${(e as Error).message}): ${fix}`);
  }
  if (!report || !Array.isArray(report.stacks) || typeof report.config?.scenario !== 'string') throw new ConfigError(`TUNE=${spec}: ${file} is not make tune's tune.json (no stacks or config.scenario): ${fix}`);
  return { dir: realpathSync(dir), report };
}

const feasible = (o: Outcome | null | undefined): o is Outcome => Boolean(o) && !o!.error && (o!.violations ?? []).length === 0;

const n3 = (x: number): string => String(+x.toPrecision(3));

/** One stack's best as a row, or why it has none. */
function rowOf(s: StackResult, unit: string): TunedRow | string {
  const best = s.best;
  if (s.stack !== 'ours' && s.stack !== 'triton') return `TUNE: stack ${s.stack} is left out: the report runs tuned rows of ours and triton only`;
  if (!feasible(best)) return `TUNE: ${s.stack} has no feasible best configuration in this tune.json (search ${s.end}${s.error ? `: ${s.error}` : ''}; its tune.txt says what each broke): its row is left out`;
  const knobs: TuneConfig = { ...(s.fixed ?? {}), ...best.config };
  if (s.stack === 'ours' && !knobs['IMPL']) return 'TUNE: ours: its best configuration names no IMPL: its row is left out';
  const row = s.stack === 'ours' ? `${rowImpl(knobs['IMPL']!)}@${TUNED}` : `triton-${TUNED}`;
  const tuned = `${unit} ${n3(best.objective)} [${n3(best.objective_lo)}, ${n3(best.objective_hi)}]${best.stage === 'probe' ? ' (probe)' : ''}`;
  return { row, stack: s.stack, knobs: s.stack === 'ours' ? { ...knobs, IMPL: rowImpl(knobs['IMPL']!) } : knobs, tuned };
}

/** A run folder's env.json `knobs` (what its bench was given): where tune.json says, else at the same place under this tune folder (moved since). */
function runKnobs(dir: string, runDirs: readonly string[]): Record<string, string> | null {
  // make tune's runs: runs/NNN-<stack>-<stage>/<run folder>.
  for (const d of runDirs) {
    for (const f of [join(d, 'env.json'), join(dir, 'runs', basename(dirname(d)), basename(d), 'env.json')]) {
      if (!existsSync(f)) continue;
      try {
        return (JSON.parse(readFileSync(f, 'utf8')) as { knobs?: Record<string, string> }).knobs ?? {};
      } catch {
        // an unreadable env.json says nothing
      }
    }
  }
  return null;
}

/**
 * The tuning's workload: concurrencyN is LEVELS=N; sweep its LEVELS; mix its MIX and MIX_LOOP. Read
 * from tune.json's config (levels, mix, mix_loop) where it carries them, else from the best run's
 * env.json; a scenario the report cannot run (rate, capacity, ...) is null with why.
 */
export function tunedLoad(report: TuneReport, dir: string): { load: TunedLoad | null; note?: string } {
  const scenario = report.config.scenario;
  const config = report.config as TuneReport['config'] & { levels?: number[]; mix?: string; mix_loop?: MixLoop };
  const spec = SCENARIOS[scenario] ? scenarioSpec(scenario) : null;
  const best = report.stacks.map((s) => s.best).find(feasible);
  const knobs = (): Record<string, string> | null => runKnobs(dir, best?.runDirs ?? []);
  if (spec?.kind === 'concurrency') return { load: { levels: [spec.vus!] } };
  if (spec?.kind === 'sweep') {
    const raw = config.levels?.join(',') ?? knobs()?.['LEVELS'] ?? SCENARIO_KNOBS.levels.default.join(',');
    const levels = SCENARIO_KNOBS.levels.parse(raw);
    return levels === INVALID_KNOB ? { load: null, note: `the tuning's LEVELS=${raw} cannot be read` } : { load: { levels } };
  }
  if (spec?.kind === 'mix') {
    const k = knobs();
    const raw = config.mix ?? k?.['MIX'];
    if (raw === undefined) return { load: null, note: 'the tuning ran SCENARIO=mix, but neither tune.json nor its best run folder says which MIX' };
    const streams = SCENARIO_KNOBS.mix.parse(raw);
    const loop = config.mix_loop ?? (k?.['MIX_LOOP'] as MixLoop | undefined) ?? SCENARIO_KNOBS.mixLoop.default;
    return streams === INVALID_KNOB ? { load: null, note: `the tuning's MIX=${raw} cannot be read` } : { load: { mix: { streams, loop } } };
  }
  return { load: null, note: `the tuning measured SCENARIO=${scenario}, which a report cannot run (it runs LEVELS sweeps or a MIX)` };
}

/** TUNE read into the report's tuned rows; refuses (one line) a tune.json with no feasible best in any stack. */
export function readTune(spec: string, resultsRoot: string): TuneQuote {
  const { dir, report } = readTuneReport(spec, resultsRoot);
  const unit = report.config.objective === 'rps' ? 'req/s' : 'goodput req/s';
  const rows: TunedRow[] = [];
  const notes: string[] = [];
  for (const s of report.stacks) {
    const r = rowOf(s, unit);
    if (typeof r === 'string') notes.push(r);
    else rows.push(r);
  }
  if (rows.length === 0) {
    const why = report.stacks.length === 0 ? 'no stack was searched' : report.stacks.map((s) => `${s.stack}: ${s.best ? 'its best is infeasible' : `none feasible (search ${s.end})`}`).join('; ');
    throw new ConfigError(`TUNE=${spec}: no stack has a feasible best configuration in ${join(dir, 'tune.json')} (${why}): loosen TUNE_SLO or TUNE_MEMORY_MB, or widen the search, and run make tune again`);
  }
  const { load, note } = tunedLoad(report, dir);
  const ours = report.stacks.find((s) => s.stack === 'ours')?.best;
  const knobs = ours ? runKnobs(dir, ours.runDirs ?? []) : null;
  const protocol = knobs ? Object.fromEntries(['PROTOCOL', 'V2_MODELS'].filter((k) => knobs[k]).map((k) => [k, knobs[k]!])) : undefined;
  return { spec, dir, created: report.created, scenario: report.config.scenario, load, ...(note ? { loadNote: note } : {}), rows, notes, ...(protocol ? { protocol } : {}) };
}

/**
 * A line when our rows would run over another protocol than the tuning measured our best on (the
 * tuning with PROTOCOL=v2 V2_MODELS=d0,d1,d2 beside Triton, the report with the native API): the
 * figures would not be the tuned ones. Null when they agree or the tuning's runs do not say.
 */
export function protocolNote(q: TuneQuote, env: Readonly<Record<string, string | undefined>>): string | null {
  if (!q.protocol) return null;
  const tuned = q.protocol['PROTOCOL'] ?? 'native';
  const here = env['PROTOCOL']?.trim() || 'native';
  if (tuned === here && (q.protocol['V2_MODELS'] ?? '') === (env['V2_MODELS']?.trim() ?? '')) return null;
  const words = Object.entries(q.protocol).map(([k, v]) => `${k}=${v}`).join(' ') || 'PROTOCOL=native';
  return `TUNE: the tuning measured our best over ${words}, this report runs our rows over PROTOCOL=${here}${env['V2_MODELS'] ? ` V2_MODELS=${env['V2_MODELS']}` : ''}: set ${words} to measure them as tuned`;
}

/** A tuned row of ours: the implementation it serves. */
export const tunedImpl = (t: TunedRow): string => t.knobs['IMPL'] ?? rowImpl(t.row);

/** A shell word: left bare when safe, else single-quoted (as make tune's recommendation writes them). */
const word = (s: string): string => (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Knobs as `KEY=value` words. */
export const knobWords = (knobs: Readonly<Record<string, string>>): string[] => Object.entries(knobs).map(([k, v]) => word(`${k}=${v}`));

/** Ports of the tuned rows' servers in the reproduce lines (the shared server's is 8000, Triton peers' 8100). */
export const TUNED_PORTS = { ours: 8001, triton: 8110, tritonMetrics: 8112 } as const;

/**
 * The reproduce lines of a tuned row: its server (started by hand, in another shell) and the bench
 * run against it. `load` holds SCENARIO first, then LEVELS or MIX, DURATION and ACCURACY; `benchKnobs`
 * the bench knobs the user set; `serverKnobs` the server knobs the user set (the tuned ones win);
 * `fresh`: the bench starts the server itself with the knobs (SERVER=fresh); `v2Models` Triton's.
 */
export function tunedCommands(t: TunedRow, o: { scenario: string[]; run: string[]; benchKnobs: string[]; serverKnobs: string[]; fresh: boolean; spec: string; v2Models: string }): string[] {
  const own = new Set(Object.keys(t.knobs));
  const serverWords = [...o.serverKnobs.filter((w) => !own.has(w.split('=')[0]!)), ...knobWords(t.knobs)];
  if (t.stack === 'triton') {
    return [
      `make triton ${knobWords(t.knobs).join(' ')} TRITON_PORT=${TUNED_PORTS.triton} TRITON_METRICS_PORT=${TUNED_PORTS.tritonMetrics}  # in another shell: the row ${t.row} (TUNE=${o.spec})`,
      ['make', 'bench', ...o.scenario, `IMPL=${t.row}`, `TARGET=http://127.0.0.1:${TUNED_PORTS.triton}`, `TARGET_METRICS=http://127.0.0.1:${TUNED_PORTS.tritonMetrics}/metrics`, 'PROTOCOL=v2', 'V2_VERSION=1', ...o.run, `V2_MODELS=${o.v2Models}`, ...o.benchKnobs.filter((k) => !k.startsWith('PROTOCOL=') && !k.startsWith('V2_MODELS='))].join(' '),
    ];
  }
  const impl = tunedImpl(t);
  if (o.fresh) return [['make', 'bench', ...o.scenario, ...serverWords.filter((w) => !w.startsWith('IMPL=')), `IMPL=${impl}`, ...o.run, ...o.benchKnobs].join(' ') + `  # row ${t.row} (TUNE=${o.spec})`];
  return [
    `make server ${serverWords.join(' ')} PORT=${TUNED_PORTS.ours}  # in another shell: the row ${t.row} (TUNE=${o.spec})`,
    ['make', 'bench', ...o.scenario, `IMPL=${impl}`, ...o.run, `TARGET=http://127.0.0.1:${TUNED_PORTS.ours}`, ...o.benchKnobs].join(' ') + `  # row ${t.row}`,
  ];
}

/** The report.md lines that say where the tuned rows come from and what each one runs. */
export interface TuneMeta {
  dir: string;
  created: string;
  scenario: string;
  /** The workload the report ran, in words, and whether it is the tuning's. */
  load: string;
  rows: { row: string; stack: TunedStack; knobs: string; tuned: string }[];
  notes: string[];
}

export function tuneMeta(q: TuneQuote, load: string): TuneMeta {
  return { dir: q.dir, created: q.created, scenario: q.scenario, load, rows: q.rows.map((r) => ({ row: r.row, stack: r.stack, knobs: knobWords(r.knobs).join(' '), tuned: r.tuned })), notes: [...q.notes, ...(q.loadNote ? [`TUNE: ${q.loadNote}: the report runs ${load}`] : [])] };
}

// Reads results folders written by `make bench` (summary.json, env.json, accuracy.json, memory.json)
// into the records the report is built from. A run folder is found directly, inside a folder of runs
// (results/, a report's runs/ or accuracy/) or inside a report folder; `latest` links are not
// counted twice. A run the report made for accuracy only carries report-role.json: its timings,
// taken with k6's in-run output checks on, are never mixed with the timed rounds.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../../lib/env.ts';
import type { Summary } from '../../lib/summary.ts';
import type { AccuracyFile } from '../accuracy/replay.ts';
import { runBreakdown, type ServerBreakdown } from './breakdown.ts';
import { SERVERS_CPU_FILE, type ServersCpu } from './peers.ts';

export interface RunRecord {
  /** Absolute path of the run folder. */
  dir: string;
  /** Folder name: <timestamp>-<scenario>-<impl>, so names sort by start time. */
  name: string;
  summary: Summary;
  env: Record<string, unknown> | null;
  accuracy: AccuracyFile | null;
  /** Server memory (memory.json): device and the peak since the bench reset it before k6 started. */
  memory: { device: string; peak_mb: number } | null;
  /** timing: a timed sweep; accuracy: the report's accuracy pass (figures not used for timing). */
  role: RunRole;
  /** The report round this timed run belongs to (from report-role.json); absent for runs made by hand. */
  round?: number;
  /** The report row this run measured (report-role.json), e.g. invalid@a for IMPL=invalid@a,invalid@b;
   * absent for runs made by hand, whose row is the implementation the summary names. */
  row?: string;
  /** The bench's exit code and wall time when the report ran it (gathered runs: unknown). */
  exitCode?: number;
  wall_s?: number;
  /** CPU time of every long-lived server tree during the run (servers-cpu.json; report runs only). */
  serversCpu?: ServersCpu;
  /** The server's own time split per request, from its /metrics scraped before and after. */
  breakdown?: ServerBreakdown | null;
}

type RunRole = 'timing' | 'accuracy';
export const ROLE_FILE = 'report-role.json';
/** Sub-folders of a report folder that hold run folders. */
const RUN_FOLDERS = ['runs', 'accuracy'] as const;

/** Closed-loop scenarios whose level is a concurrency (VUs): the ones a concurrency sweep report compares. */
const CONCURRENCY_KINDS = new Set(['sweep', 'concurrency']);

/** A timed run of a concurrency sweep (its levels are VUs). */
export function isSweepRun(run: RunRecord): boolean {
  return CONCURRENCY_KINDS.has(run.summary.kind) && run.summary.unit === 'vus';
}

/** A timed run of a traffic mix (SCENARIO=mix: its levels are models). */
export function isMixRun(run: RunRecord): boolean {
  return run.summary.kind === 'mix';
}

/** A run whose timings a report compares: a sweep's or a mix's (a report holds one kind: model.ts). */
export function isTimingRun(run: RunRecord): boolean {
  return run.role === 'timing' && (isSweepRun(run) || isMixRun(run));
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON (${(e as Error).message}): remove that run from REUSE or re-run it`);
  }
}

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, 'summary.json'));
}

/** Run folders named by one REUSE entry. */
function expandRunDirs(entry: string): string[] {
  const dir = resolve(entry);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`REUSE entry ${entry} is not a folder: name run folders (results/<run>), a folder of them, or a report folder`);
  if (isRunDir(dir)) return [dir];
  const sub = RUN_FOLDERS.map((f) => join(dir, f)).filter((p) => existsSync(p));
  return (sub.length > 0 ? sub : [dir]).flatMap((parent) =>
    readdirSync(parent)
      .map((n) => join(parent, n))
      .filter((p) => statSync(p).isDirectory() && isRunDir(p)),
  );
}

export function loadRun(dir: string): RunRecord {
  const summary = readJson<Summary>(join(dir, 'summary.json'));
  if (!summary) throw new ConfigError(`${dir} has no summary.json: not a bench run folder`);
  const memory = readJson<{ device?: string; after?: { peak_mb?: number } | null }>(join(dir, 'memory.json'));
  const peak = memory?.after?.peak_mb;
  const role = readJson<{ role?: RunRole; round?: number; row?: string }>(join(dir, ROLE_FILE));
  const serversCpu = readJson<ServersCpu>(join(dir, SERVERS_CPU_FILE));
  return {
    dir,
    name: basename(dir),
    summary,
    env: readJson(join(dir, 'env.json')),
    accuracy: readJson<AccuracyFile>(join(dir, 'accuracy.json')),
    memory: typeof peak === 'number' ? { device: memory?.device ?? 'unknown', peak_mb: Math.round(peak) } : null,
    role: role?.role === 'accuracy' ? 'accuracy' : 'timing',
    ...(typeof role?.round === 'number' ? { round: role.round } : {}),
    ...(typeof role?.row === 'string' && summary.impls.length === 1 ? { row: role.row } : {}),
    ...(serversCpu ? { serversCpu } : {}),
    breakdown: summary.impls.length === 1 ? runBreakdown(dir, summary.impls[0]!) : null,
  };
}

/** Loads every run named by the REUSE entries, once each, oldest first; skips (with a note) runs
 * that are neither concurrency runs nor carry an accuracy.json. */
export function gatherRuns(entries: string[], note: (line: string) => void = () => {}): RunRecord[] {
  const seen = new Set<string>();
  const runs: RunRecord[] = [];
  for (const entry of entries) {
    const dirs = expandRunDirs(entry);
    if (dirs.length === 0) note(`REUSE ${entry}: no run folders found in it`);
    for (const dir of dirs) {
      const real = realpathSync(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      const run = loadRun(real);
      // An accuracy pass without accuracy.json (a v2-only peer: no replay) still carries its in-run checks.
      if (!isTimingRun(run) && !run.accuracy && run.role !== 'accuracy') {
        note(`skipping ${run.name}: scenario ${run.summary.scenario} (${run.summary.kind}) is neither a concurrency sweep nor a mix and has no accuracy.json`);
        continue;
      }
      runs.push(run);
    }
  }
  return runs.sort((a, b) => a.name.localeCompare(b.name));
}

// One probe of `make region` / `make interference`: a mix run (SCENARIO=mix) of the bench against a
// running target, judged per model against REGION_SLO. A probe passes when every model's stream
// kept its accepted p99 within its bound (k6's own reading of the sample), missed no more than 1 % of
// its arrivals (dropped, or answered later than the bound from the scheduled arrival) and had no more
// than 1 % refused or failed. Every probe is a run folder a user can open.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MixStream } from '../../lib/scenarios.ts';
import type { LevelRow } from '../../lib/summary.ts';
import type { ModelName } from '../../lib/model-contract.ts';
import { benchConfig } from '../bench/config.ts';
import { runBench } from '../bench/run.ts';
import { mixText } from './search.ts';

/** What the region allows besides the latency bound: missed arrivals, refused or failed requests. */
export const MISS_MAX = 0.01;

export interface StreamFigures {
  model: ModelName;
  offered_rps: number;
  rps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  slo_ms: number;
  missed_ratio: number;
  /** Refused + failed over every request sent. */
  lost_ratio: number;
  within: boolean;
}

export interface ProbeResult {
  mix: string;
  pass: boolean;
  why: string;
  streams: StreamFigures[];
  runDir: string;
  exitCode: number;
}

/** The bounds file a probe runs with: each model's p99 bound as its stream's (slo.mix.*.models). */
export function writeSloFile(dir: string, slo: Partial<Record<ModelName, number>>): string {
  const path = join(dir, 'region-bounds.json');
  const models = Object.fromEntries(Object.entries(slo).map(([m, p99]) => [m, { p99_ms: p99 }]));
  writeFileSync(path, JSON.stringify({ slo: { mix: { '*': { models } } } }, null, 2) + '\n');
  return path;
}

/** A stream's figures from its summary row, judged against its bound. */
export function judgeStream(row: LevelRow | undefined, stream: MixStream, slo_ms: number): StreamFigures {
  const sent = row ? row.requests + row.refused + row.failed : 0;
  const p99 = row?.latency_ms?.p99 ?? null;
  const missed = row?.missed_ratio ?? 0;
  const lost = sent > 0 ? (row!.refused + row!.failed) / sent : 1;
  const within = row !== undefined && row.requests > 0 && p99 !== null && p99 <= slo_ms && missed <= MISS_MAX && lost <= MISS_MAX;
  return { model: stream.model, offered_rps: stream.value, rps: row?.rps ?? 0, p50_ms: row?.latency_ms?.p50 ?? null, p99_ms: p99, slo_ms, missed_ratio: missed, lost_ratio: Math.round(lost * 1e4) / 1e4, within };
}

/** Why a stream is over, in words. */
function overWhy(s: StreamFigures): string {
  const parts: string[] = [];
  if (s.p99_ms === null) parts.push('no accepted answers');
  else if (s.p99_ms > s.slo_ms) parts.push(`p99 ${Math.round(s.p99_ms)} > ${s.slo_ms} ms`);
  if (s.missed_ratio > MISS_MAX) parts.push(`missed ${(s.missed_ratio * 100).toFixed(1)}%`);
  if (s.lost_ratio > MISS_MAX) parts.push(`refused/failed ${(s.lost_ratio * 100).toFixed(1)}%`);
  return `${s.model} ${parts.join(', ')}`;
}

/** Runs the mix `streams` against the row's target (rowEnv: TARGET, IMPL and protocol knobs) and judges it. */
export async function runProbe(o: { streams: MixStream[]; rowEnv: Record<string, string>; slo: Partial<Record<ModelName, number>>; sloFile: string; duration_s: number; warmup: number; resultsRoot: string }): Promise<ProbeResult> {
  const mix = mixText(o.streams);
  const extra: Record<string, string> = {
    ...o.rowEnv, SCENARIO: 'mix', MIX: mix, MIX_LOOP: 'open', DURATION: `${o.duration_s}s`, WARMUP: String(o.warmup),
    ACCURACY: '0', HOST_BOUNDS: '0', BOUNDS_FILE: o.sloFile, RESULTS_ROOT: o.resultsRoot, DASHBOARD: '0', STABILITY_MAX_DURATION: '0s',
  };
  const result = await runBench(benchConfig({ ...process.env, ...extra }), extra);
  const rows = result.summary?.levels ?? [];
  const streams = o.streams.map((st) => judgeStream(rows.find((r) => r.level === st.model), st, o.slo[st.model]!));
  const over = streams.filter((s) => !s.within);
  const pass = result.summary !== null && !result.fault && over.length === 0;
  const why = result.fault ? `server lost: ${result.fault}` : result.summary === null ? `no summary (k6 exit ${result.k6Code})` : over.map(overWhy).join('; ');
  return { mix, pass, why, streams, runDir: result.runDir, exitCode: result.exitCode };
}

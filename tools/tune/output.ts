// What `make tune` writes into results/tune/<timestamp>/: tune.json (every configuration measured with
// its figures and intervals, each stack's best and how its search ended), tune.txt (the top
// configurations per stack and the recommendation), frontier-p99.svg and frontier-memory.svg (the
// objective against p99 and against memory, each stack's Pareto frontier drawn), recommendation.txt
// (the commands to run the best configuration: `make server ...` for ours, `make triton ...` with the
// model configs copied beside it for Triton) and, with TARGET_RATE, the replicas it needs.
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSvg } from '../report/charts.ts';
import { compareOutcomes, feasible, type SearchEnd } from './search.ts';
import { pareto } from './pareto.ts';
import { frontierChartSpec, type FrontierChartPoint } from './chart.ts';
import { appliesTo } from './space.ts';
import type { Outcome, Space, TuneConfig } from './types.ts';

export interface StackResult {
  stack: string;
  /** The axes searched (knob, values, start) and the knobs every configuration carried. */
  space: { knob: string; values: readonly string[]; start: string; applies?: string }[];
  fixed: TuneConfig;
  /** How the search ended; `failed`: it could not run at all (why in `error`). */
  end: SearchEnd | 'failed';
  error?: string;
  best: Outcome | null;
  /** Every configuration tried, its final outcome (full, or the probe it was stopped after), in the order tried. */
  outcomes: Outcome[];
}

export interface Replicas {
  target_rps: number;
  headroom: number;
  /** What one replica is planned at: the objective's lower bound x (1 - headroom). */
  per_replica_rps: number;
  replicas: number | null;
  why: string;
}

export interface Recommendation {
  stack: string;
  key: string;
  config: TuneConfig;
  objective: number;
  objective_lo: number;
  objective_hi: number;
  /** The command line that runs it. */
  command: string;
  /** Triton: the folder of config.pbtxt files (one per model) the command writes, copied here. */
  model_configs?: string;
  replicas?: Replicas;
}

export interface TuneReport {
  created: string;
  host: { cpu: string; cores: number };
  config: { search: string; scenario: string; objective: string; slo: string; accuracy: boolean; memory_cap_mb: number; duration_s: number; probe_s: number; budget_s: number; target_rate: number; headroom: number };
  stacks: StackResult[];
  recommendation: Recommendation[];
  /** Earlier runs this one continued (TUNE_RESUME): their start times. */
  resumed?: string[];
  elapsed_s: number;
}

/** A shell word: left bare when safe, else single-quoted. */
const word = (s: string): string => (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The configuration's knobs as `KNOB=value` words. */
export const knobWords = (c: TuneConfig): string => Object.entries(c).map(([k, v]) => word(`${k}=${v}`)).join(' ');

/** The command that runs a configuration of a stack. */
export function commandOf(stack: string, c: TuneConfig): string {
  return stack === 'triton' ? `make triton ${knobWords(c)}` : `make server ${knobWords(c)}`;
}

/** Replicas needed for `target` req/s when one is planned at its lower bound less the headroom. */
export function replicasFor(best: Pick<Outcome, 'objective_lo'>, target: number, headroom: number, unit: string): Replicas {
  const per = Math.round(best.objective_lo * (1 - headroom) * 1000) / 1000;
  if (!(per > 0)) return { target_rps: target, headroom, per_replica_rps: per, replicas: null, why: `the best configuration's ${unit} has no positive lower bound: measure longer (DURATION) before sizing replicas` };
  const n = Math.ceil(target / per);
  return { target_rps: target, headroom, per_replica_rps: per, replicas: n, why: `ceil(${target} / (${best.objective_lo} x (1 - ${headroom}))) = ceil(${target} / ${per}) = ${n}` };
}

/** Each stack's recommendation: its best configuration, the command, the model configs (Triton), the replicas for TARGET_RATE. */
export function recommend(stacks: StackResult[], dir: string, o: { targetRate: number; headroom: number; unit: string }): Recommendation[] {
  const out: Recommendation[] = [];
  for (const s of stacks) {
    const b = s.best;
    if (!b) continue;
    const r: Recommendation = { stack: s.stack, key: b.key, config: b.config, objective: b.objective, objective_lo: b.objective_lo, objective_hi: b.objective_hi, command: commandOf(s.stack, b.config) };
    const from = typeof b.figures['model_configs'] === 'string' ? b.figures['model_configs'] : undefined;
    if (from && existsSync(from)) {
      const to = join(dir, `${s.stack}-model-configs`);
      cpSync(from, to, { recursive: true });
      r.model_configs = to;
    }
    if (o.targetRate > 0) r.replicas = replicasFor(b, o.targetRate, o.headroom, o.unit);
    out.push(r);
  }
  return out;
}

const num = (x: number | string | null | undefined, digits = 3): string => (typeof x === 'number' ? String(+x.toPrecision(digits)) : x === null || x === undefined ? '-' : x);

/** A configuration's verdict in words. */
export function verdictOf(o: Outcome): string {
  if (o.error) return `error: ${o.error}`;
  if (o.stopped_early) return `stopped after its probe: ${o.stopped_early}`;
  if (o.violations.length > 0) return `infeasible: ${o.violations.join('; ')}`;
  return 'feasible';
}

const ENDS: Record<StackResult['end'], string> = { converged: 'converged (no neighbour better)', exhausted: 'every configuration tried', budget: 'TUNE_BUDGET spent', max_configs: 'TUNE_MAX_CONFIGS reached', failed: 'could not run' };

/** The configuration without the knobs every one of its stack carries. */
const ownKnobs = (o: Outcome, fixed: TuneConfig): string => knobWords(Object.fromEntries(Object.entries(o.config).filter(([k, v]) => fixed[k] !== v)));

export function tuneTable(r: TuneReport, top = 10): string {
  const unit = r.config.objective === 'goodput' ? 'goodput req/s' : 'req/s';
  const lines = [`make tune ${r.created}: ${r.config.search} search, SCENARIO=${r.config.scenario}, maximise ${unit} (95 % interval), p99 SLO ${r.config.slo}, accuracy ${r.config.accuracy ? 'judged' : 'not judged'}, memory cap ${r.config.memory_cap_mb > 0 ? `${r.config.memory_cap_mb} MB` : 'none'}; runs of ${r.config.duration_s} s after probes of ${r.config.probe_s} s`];
  for (const s of r.stacks) {
    lines.push('', `${s.stack}: ${s.outcomes.length} configuration(s) tried, ${s.outcomes.filter(feasible).length} feasible; search ${ENDS[s.end]}${s.error ? `: ${s.error}` : ''}${Object.keys(s.fixed).length ? `; every one with ${knobWords(s.fixed)}` : ''}`);
    // The recommended one first (on a full tie, objective, memory and p99 alike, the search keeps the one it found first), then by rank.
    const ranked = [...s.outcomes].sort((a, b) => (a.key === s.best?.key ? -1 : b.key === s.best?.key ? 1 : compareOutcomes(a, b))).slice(0, top);
    if (ranked.length === 0) continue;
    lines.push(['#', 'configuration', unit, 'p99 ms', 'memory MB', 'accuracy', 'verdict'].join(' | '));
    ranked.forEach((o, i) => {
      const f = o.figures;
      const obj = o.error ? '-' : `${num(o.objective)} [${num(o.objective_lo)}, ${num(o.objective_hi)}]${o.stage === 'probe' ? ' (probe)' : ''}`;
      lines.push([String(i + 1), ownKnobs(o, s.fixed) || '(the fixed knobs)', obj, num(f['p99_ms'] as number | null, 4), num(f['memory_mb'] as number | null, 4), num(f['accuracy'] as string | undefined), verdictOf(o)].join(' | '));
    });
    if (s.outcomes.length > top) lines.push(`(${s.outcomes.length - top} more in tune.json)`);
  }
  lines.push('', ...recommendationLines(r));
  return lines.join('\n') + '\n';
}

export function recommendationLines(r: TuneReport): string[] {
  const unit = r.config.objective === 'goodput' ? 'goodput req/s' : 'req/s';
  const lines: string[] = [];
  for (const s of r.stacks) {
    const rec = r.recommendation.find((x) => x.stack === s.stack);
    if (!rec) {
      lines.push(`# ${s.stack}: no feasible configuration found: nothing to recommend (tune.txt says what each broke)`);
      continue;
    }
    lines.push(`# ${s.stack}: best ${unit} ${num(rec.objective)} [${num(rec.objective_lo)}, ${num(rec.objective_hi)}]`);
    if (rec.model_configs) lines.push(`# the model configs (config.pbtxt) it writes and serves: ${rec.model_configs}`);
    if (rec.replicas) lines.push(`# TARGET_RATE=${rec.replicas.target_rps}: ${rec.replicas.replicas ?? 'unknown'} replica(s) with ${rec.replicas.headroom * 100} % headroom: ${rec.replicas.why}`);
    lines.push(rec.command);
  }
  return lines;
}

/** One stack's points on a figure, its frontier marked (feasible configurations only: the others are no option). */
function chartPoints(r: TuneReport, x: (o: Outcome) => number | null): FrontierChartPoint[] {
  return r.stacks.flatMap((s) => {
    const measured = s.outcomes.filter((o) => !o.error && x(o) !== null);
    const front = new Set(pareto(measured.filter(feasible), { get: x, better: 'lower' }, { get: (o) => o.objective, better: 'higher' }));
    return measured.map((o) => ({ stack: s.stack, label: ownKnobs(o, s.fixed) || s.stack, x: x(o)!, y: o.objective, feasible: feasible(o), frontier: front.has(o) }));
  });
}

const figure = (name: string) => (o: Outcome): number | null => (typeof o.figures[name] === 'number' ? (o.figures[name] as number) : null);

/** tune.json, tune.txt, recommendation.txt and the two frontier charts; returns the table. */
export async function writeTune(dir: string, r: TuneReport): Promise<string> {
  writeFileSync(join(dir, 'tune.json'), JSON.stringify(r, null, 2) + '\n');
  const table = tuneTable(r);
  writeFileSync(join(dir, 'tune.txt'), table);
  writeFileSync(join(dir, 'recommendation.txt'), recommendationLines(r).join('\n') + '\n');
  const unit = r.config.objective === 'goodput' ? 'goodput (req/s)' : 'requests/s';
  const stacks = r.stacks.map((s) => s.stack);
  writeFileSync(join(dir, 'frontier-p99.svg'), await renderSvg(frontierChartSpec(chartPoints(r, figure('p99_ms')), { title: `${unit} against p99, ${r.config.scenario}: by configuration`, x: 'p99 (ms)', y: unit, stacks })));
  writeFileSync(join(dir, 'frontier-memory.svg'), await renderSvg(frontierChartSpec(chartPoints(r, figure('memory_mb')), { title: `${unit} against peak memory, ${r.config.scenario}: by configuration`, x: 'peak resident memory (MB)', y: unit, stacks })));
  return table;
}

/** The axes of a space as tune.json records them. */
export const spaceRecord = (space: Space): StackResult['space'] => space.dimensions.map((d) => ({ knob: d.knob, values: d.values, start: d.start, ...(appliesTo(space.stack, d.knob) ? { applies: appliesTo(space.stack, d.knob)! } : {}) }));

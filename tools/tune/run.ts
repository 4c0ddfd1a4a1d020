// `make tune`: which serving configuration to run. For each stack (our server; Triton with PEERS=triton)
// a search (tools/tune/search.ts: quick = hill climbing from the shipped defaults, or exhaustive over the
// grid) over its space (space.ts), each configuration started with its knobs and measured by the bench
// (measure.ts: a short probe, then the full run unless the probe is hopeless), maximising goodput or
// requests/s under the p99 SLO, the accuracy bounds and a memory cap. One progress line per
// configuration; TUNE_BUDGET bounds the whole run; every measurement goes to a journal, so TUNE_RESUME
// continues an interrupted run. Writes results/tune/<timestamp>/ (output.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import { ConfigError } from '../../lib/env.ts';
import { BenchError, note } from '../common/progress.ts';
import { budget, toolDir } from '../region/output.ts';
import { tuneConfig, type TuneSettings } from './config.ts';
import { configText, spacesOf } from './space.ts';
import { measurerFor, runCounter, writeSloBounds } from './measure.ts';
import { exhaustive, quick, type SearchProgress } from './search.ts';
import { openJournal } from './journal.ts';
import { recommend, spaceRecord, writeTune, verdictOf, type StackResult, type TuneReport } from './output.ts';
import type { Outcome, Space } from './types.ts';

const JOURNAL = 'journal.jsonl';

const n3 = (x: number | string | null | undefined): string => (typeof x === 'number' ? String(+x.toPrecision(3)) : String(x ?? '-'));

/** The progress line of one configuration: what, its figures, its verdict, the budget left. */
export function progressLine(o: Outcome, p: SearchProgress, space: Space, unit: string, clock: string): string {
  const f = o.figures;
  const figures = o.error
    ? ''
    : `${unit} ${n3(o.objective)} [${n3(o.objective_lo)}, ${n3(o.objective_hi)}], p99 ${n3(f['p99_ms'] as number | null)} ms, ${n3(f['memory_mb'] as number | null)} MB${/^(passed|failed)/.test(String(f['accuracy'])) ? `, accuracy ${f['accuracy']}` : ''}${o.stage === 'probe' ? ' (probe)' : ''}: `;
  const best = p.best ? (p.best.key === o.key ? ', best so far' : `; best ${n3(p.best.objective)}`) : '';
  return `tune: ${space.stack} ${p.tried}${p.total !== null ? `/${p.total}` : ''} ${configText(o.config, space) || '(defaults)'}: ${figures}${verdictOf(o)}${best}${p.resumed ? ' (from the journal)' : ''} [${clock}]`;
}

export async function makeTune(env: NodeJS.ProcessEnv = process.env, cfg: TuneSettings = tuneConfig(env)): Promise<{ dir: string; report: TuneReport }> {
  if (cfg.resume && !existsSync(join(cfg.resume, JOURNAL))) throw new ConfigError(`TUNE_RESUME=${cfg.resume} has no ${JOURNAL}: name a results/tune/<timestamp> folder of an earlier make tune`);
  const out = toolDir(cfg.resultsRoot, 'tune', { sub: 'runs', ...(cfg.resume ? { dir: cfg.resume } : {}) });
  const journal = openJournal(join(out.dir, JOURNAL));
  const clock = budget(cfg.budget_s);
  const spaces = spacesOf(cfg, env);
  const unit = cfg.objective === 'goodput' ? 'goodput' : 'req/s';
  note(`tune: ${cfg.search} search of ${cfg.stacks.join(', ')} on SCENARIO=${cfg.scenario}, maximise ${unit}, p99 SLO ${sloText(cfg)}, budget ${Math.round(cfg.budget_s)} s -> ${out.dir}${cfg.resume ? ` (resuming: ${journal.entries.length} measurement(s) in its journal)` : ''}`);
  const report: TuneReport = {
    created: new Date().toISOString(),
    host: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    config: { search: cfg.search, scenario: cfg.scenario, objective: cfg.objective, slo: sloText(cfg), accuracy: cfg.accuracy, memory_cap_mb: cfg.memory_mb, duration_s: cfg.duration_s, probe_s: cfg.probe_s, budget_s: cfg.budget_s, target_rate: cfg.targetRate, headroom: cfg.headroom },
    stacks: [],
    recommendation: [],
    elapsed_s: 0,
  };
  const boundsFile = writeSloBounds(out.dir, cfg.slo, cfg.scenario, env['BOUNDS_FILE'] ?? '');
  const ctx = { cfg, env, dir: out.dir, nextRun: runCounter(out.dir), say: note, prior: [...journal.entries], ...(boundsFile ? { boundsFile } : {}) };
  // Written after every configuration, so an interrupted run keeps what it measured; one write at a time.
  let writing: Promise<unknown> = Promise.resolve();
  const save = (): Promise<string> => {
    const next = writing.then(async () => {
      report.elapsed_s = Math.round(clock.elapsed_s());
      report.recommendation = recommend(report.stacks, out.dir, { targetRate: cfg.targetRate, headroom: cfg.headroom, unit });
      const table = await writeTune(out.dir, report);
      out.link();
      return table;
    });
    writing = next.catch(() => undefined);
    return next;
  };
  for (const [i, space] of spaces.entries()) {
    // Each stack gets an even share of the budget left when it starts, so a first stack whose
    // configurations are slow cannot leave the next one none.
    const stackEnd = clock.elapsed_s() + (cfg.budget_s - clock.elapsed_s()) / (spaces.length - i);
    const result: StackResult = { stack: space.stack, space: spaceRecord(space), fixed: space.fixed ?? {}, end: 'failed', best: null, outcomes: [] };
    report.stacks.push(result);
    const m = measurerFor(ctx, space);
    try {
      const search = cfg.search === 'quick' ? quick : exhaustive;
      const r = await search(space, m.measure, {
        withinBudget: () => clock.elapsed_s() < stackEnd,
        ...(cfg.maxConfigs > 0 ? { maxConfigs: cfg.maxConfigs } : {}),
        journal,
        onOutcome: (o, p) => {
          result.outcomes.push(o);
          result.best = p.best ?? null;
          note(progressLine(o, p, space, unit, `${Math.max(0, Math.round(cfg.budget_s - clock.elapsed_s()))} of ${Math.round(cfg.budget_s)} s left`));
          void save().catch((e: Error) => note(`tune: writing the results: ${e.message}`));
        },
      });
      Object.assign(result, { end: r.end, best: r.best ?? null, outcomes: r.outcomes });
    } catch (e) {
      result.error = (e as Error).message;
      note(`tune: ${space.stack}: search stopped: ${result.error}`);
    } finally {
      await m.close();
    }
    note(`tune: ${space.stack}: ${result.outcomes.length} configuration(s), search ${result.end}${result.best ? `; best ${configText(result.best.config, space)} at ${n3(result.best.objective)} ${unit}` : '; none feasible'}`);
  }
  const table = await save();
  console.log(`\n${table}`);
  note(`tune: results in ${out.dir} (tune.json, tune.txt, recommendation.txt, frontier-p99.svg, frontier-memory.svg; runs/ holds every bench run) after ${report.elapsed_s} s`);
  return { dir: out.dir, report };
}

function sloText(cfg: TuneSettings): string {
  if (cfg.slo === null) return 'none';
  return cfg.slo.all !== undefined ? `${cfg.slo.all} ms` : Object.entries(cfg.slo.models).map(([m, v]) => `${m} ${v} ms`).join(', ');
}

/** Exit 1 when a stack found no feasible configuration (tune.txt says what each broke), else 0. */
if (isMain(import.meta.url)) runMain('tune', async () => ((await makeTune()).report.stacks.some((s) => !s.best) ? 1 : 0), { expected: [BenchError] });

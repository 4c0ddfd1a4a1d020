// A hand-written make tune result (results/tune/<ts>/tune.json, as tools/tune/output.ts writes it) for
// the report's TUNE tests: each stack's best given as knobs, or null for a stack that found none.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackResult, TuneReport } from '../../tools/tune/output.ts';
import type { Outcome, TuneConfig } from '../../tools/tune/types.ts';

export interface FixtureStack {
  stack: string;
  best: TuneConfig | null;
  fixed?: TuneConfig;
  /** Run folders the best rests on (tune.json's runDirs). */
  runDirs?: string[];
}

const outcome = (stack: string, config: TuneConfig, runDirs: string[]): Outcome => ({
  key: JSON.stringify(config), stack, config, stage: 'full', objective: 412.5, objective_lo: 380.25, objective_hi: 441, violations: [], clear_violations: [], figures: { rps: 415, p99_ms: 31 }, runDirs, elapsed_s: 4,
});

/** Writes `dir`/tune.json for these stacks, measured on `scenario`. */
export function writeTuneFixture(dir: string, stacks: FixtureStack[], scenario = 'concurrency8', objective: 'goodput' | 'rps' = 'goodput'): string {
  mkdirSync(dir, { recursive: true });
  const results: StackResult[] = stacks.map((s) => {
    const best = s.best ? outcome(s.stack, s.best, s.runDirs ?? []) : null;
    return { stack: s.stack, space: [], fixed: s.fixed ?? {}, end: best ? 'converged' : 'exhausted', best, outcomes: best ? [best] : [] };
  });
  const report: TuneReport = {
    created: '2026-12-07T06:00:00.000Z',
    host: { cpu: 'fixture', cores: 2 },
    config: { search: 'quick', scenario, objective, slo: 'none', accuracy: false, memory_cap_mb: 0, duration_s: 2, probe_s: 1, budget_s: 60, target_rate: 0, headroom: 0.2 },
    stacks: results,
    recommendation: [],
    elapsed_s: 10,
  };
  writeFileSync(join(dir, 'tune.json'), JSON.stringify(report, null, 2) + '\n');
  return dir;
}

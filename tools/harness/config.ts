// `make harness` knobs: what is measured (implementations x concurrency levels x load generators),
// for how long, and how many interleaved rounds. Same parsers and error form as every other tool.
import { durationEnv, numberEnv, stringEnv, type Env } from '../../lib/env.ts';
import { ConfigError } from '../../lib/env.ts';

export const GENERATORS = ['k6', 'k6+checks', 'vegeta'] as const;
export type Generator = (typeof GENERATORS)[number];

export interface HarnessConfig {
  /** Implementations measured, each at every level with every generator (default invalid,baseline). */
  impls: string[];
  /** Closed-loop concurrency levels (default 1,8). */
  levels: number[];
  generators: Generator[];
  /** Measured seconds per run. */
  duration_s: number;
  /** Unmeasured requests per run before measuring (k6: its WARMUP; vegeta: a short attack). */
  warmup: number;
  rounds: number;
  /** The one image every request sends (default the first synthetic image). */
  image: string;
  /** In-process runs per model for the HTTP-overhead comparison (make bench-models RUNS). */
  modelRuns: number;
  resultsRoot: string;
}

function list<T extends string>(env: Env, name: string, fallback: readonly T[], allowed?: readonly T[]): T[] {
  const v = stringEnv(env, name, '');
  if (v === '') return [...fallback];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean) as T[];
  const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
  if (items.length === 0 || bad.length > 0) throw new ConfigError(`${name}=${v} is not valid: expected a comma list of ${allowed ? allowed.join(', ') : 'names'}`);
  return items;
}

export function harnessConfig(env: Env): HarnessConfig {
  const levels = list(env, 'LEVELS', ['1', '8']).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new ConfigError(`LEVELS=${env['LEVELS']} is not valid: expected a comma list of integers from 1 to 64`);
    return n;
  });
  return {
    impls: list(env, 'IMPLS', ['invalid', 'baseline']),
    levels,
    generators: list(env, 'GENERATORS', GENERATORS, GENERATORS),
    duration_s: durationEnv(env, 'DURATION', '15s'),
    warmup: numberEnv(env, 'WARMUP', 20, { min: 0, integer: true }),
    rounds: numberEnv(env, 'ROUNDS', 2, { min: 1, max: 20, integer: true }),
    image: stringEnv(env, 'IMAGE', 'build/data/synthetic/synthetic-0000.jpg'),
    modelRuns: numberEnv(env, 'MODEL_RUNS', 20, { min: 1, integer: true }),
    resultsRoot: stringEnv(env, 'RESULTS_ROOT', 'results'),
  };
}

// `make harness` knobs: what is measured (implementations x concurrency levels x load generators),
// for how long, and how many interleaved rounds: its knob registry (lib/knobs.ts, as every other tool).
import type { Env } from '../../lib/env.ts';
import { duration, int, knob, list, oneOf, readKnobs, text } from '../../lib/knobs.ts';
import { LOADGEN_RUNTIME_KNOBS } from '../common/loadgen-runtime.ts';
import { CPU_PLACEMENT_KNOB, type PlacementSetting } from '../common/cpu-placement.ts';
import { SERVER_KNOBS, type ServerConfig } from '../../server/index.ts';

/** k6-bare: k6's engine alone (tools/harness/k6/bare.ts); k6: the suite's sweep scenario; k6+checks: with in-run output checks. */
export const GENERATORS = ['k6-bare', 'k6', 'k6+checks', 'vegeta'] as const;
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
  /** In-process runs per model for the HTTP-overhead comparison (make bench-models MODEL_RUNS). */
  modelRuns: number;
  resultsRoot: string;
  /** LOG_LEVEL of the server the harness starts. */
  logLevel: ServerConfig['logLevel'];
  /** LOADGEN_GOMAXPROCS / LOADGEN_GOGC: the Go runtime settings of every generator (the server is local). */
  loadgenGomaxprocs: 'auto' | number;
  loadgenGogc: number;
  /** CPU_PLACEMENT: the server and every generator on disjoint cores, or not (as make bench). */
  cpuPlacement: PlacementSetting;
}

/** The server's LOG_LEVEL knob, without its flag (the harness takes none). */
const { flag: _serverFlag, ...serverLogLevel } = SERVER_KNOBS.logLevel;

export const HARNESS_KNOBS = {
  impls: knob({ env: 'IMPL', tier: 'essential', default: ['invalid', 'baseline'], ...list(text('a name'), 'a comma list of implementation names'), doc: 'the implementations under test (baseline adds the in-process comparison)' }),
  levels: knob({ env: 'LEVELS', tier: 'essential', default: [1, 8], ...list(int(1, 64), 'a comma list of integers from 1 to 64'), doc: 'closed-loop concurrency levels' }),
  generators: knob<Generator[]>({
    env: 'GENERATORS', tier: 'expert', default: [...GENERATORS], ...list(oneOf(GENERATORS), `a comma list of ${GENERATORS.join(', ')}`),
    doc: 'load generators compared',
  }),
  duration_s: knob({ env: 'DURATION', tier: 'essential', default: 15, defaultText: '15s', ...duration, doc: 'measured time per run' }),
  warmup: knob({ env: 'WARMUP', tier: 'essential', default: 20, ...int(0), doc: 'unmeasured requests per run first (k6-bare: a k6 run of its own; vegeta: a 2 s attack)' }),
  rounds: knob({ env: 'ROUNDS', tier: 'expert', default: 2, ...int(1, 20), doc: 'interleaved rounds' }),
  image: knob({ env: 'IMAGE', tier: 'expert', default: 'build/data/synthetic/synthetic-0000.jpg', ...text('an image file'), doc: 'the one image every request sends' }),
  modelRuns: knob({ env: 'MODEL_RUNS', tier: 'expert', default: 20, ...int(1), doc: 'in-process runs per model (bench-models) for the HTTP-overhead comparison' }),
  resultsRoot: knob({ env: 'RESULTS_ROOT', tier: 'expert', default: 'results', ...text('folder'), doc: 'results go to RESULTS_ROOT/harness/' }),
  logLevel: knob({ ...serverLogLevel, doc: 'log level of the server the harness starts (info: a line per request)' }),
  loadgenGomaxprocs: LOADGEN_RUNTIME_KNOBS.gomaxprocs,
  loadgenGogc: LOADGEN_RUNTIME_KNOBS.gogc,
  cpuPlacement: CPU_PLACEMENT_KNOB,
};

export function harnessConfig(env: Env): HarnessConfig {
  return readKnobs(HARNESS_KNOBS, env);
}

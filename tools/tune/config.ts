// `make tune`: its knob registry (lib/knobs.ts) and typed config. Three groups: what is measured
// (SCENARIO, DURATION, the probe's shorter TUNE_PROBE_DURATION), what is judged (TUNE_OBJECTIVE and
// the constraints TUNE_SLO, TUNE_ACCURACY, TUNE_MEMORY_MB), and the spaces searched: our server's axes
// (IMPL x TUNE_WORKERS x TUNE_THREADS x TUNE_MAX_BATCH x TUNE_MAX_DELAY x TUNE_INSTANCES, plus any
// server knob through TUNE_AXES) and Triton's (TUNE_TRITON_*). Each axis value is checked here with
// the parser of the knob it sets, so a typo stops the tool at once, not after an hour of search;
// TUNE_AXES' values are the server's to check (a bad one is that configuration's error row).
import { ConfigError, type Env } from '../../lib/env.ts';
import { bool, duration, durationIn, int, INVALID, knob, list, num, oneOf, readKnobs, text, type Parser } from '../../lib/knobs.ts';
import { DEFAULT_SCENARIO, SCENARIOS } from '../../lib/scenarios.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';
import { modelCounts, formatModelCounts } from '../../lib/model-counts.ts';
import { SERVER_KNOBS } from '../../server/index.ts';
import { TRITON_MODEL_SETS, type TritonModelSet } from '../../peers/triton/config.ts';

export const TUNE_STACKS = ['ours', 'triton'] as const;
export type TuneStack = (typeof TUNE_STACKS)[number];

/** TUNE_SLO: one p99 bound for every level (`2000`), or one per model of a mix (`d0:300,d2:2000`); `-` none. */
export interface SloBounds {
  all?: number;
  models: Partial<Record<ModelName, number>>;
}

const sloParser: Parser<SloBounds | null> = {
  allowed: `- (none), a p99 bound in ms (2000), or model:ms per model of a mix (models ${MODEL_NAMES.join(', ')}), e.g. d0:300,d2:2000`,
  parse: (raw) => {
    const v = raw.trim();
    if (v === '-' || v === 'none') return null;
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v) > 0 ? { all: Number(v), models: {} } : INVALID;
    const models: Partial<Record<ModelName, number>> = {};
    for (const part of v.split(',').map((s) => s.trim())) {
      const m = /^(d\d):(\d+(?:\.\d+)?)$/.exec(part);
      if (!m || !(MODEL_NAMES as readonly string[]).includes(m[1]!) || !(Number(m[2]) > 0) || models[m[1] as ModelName] !== undefined) return INVALID;
      models[m[1] as ModelName] = Number(m[2]);
    }
    return { models };
  },
  show: (s) => (s === null ? '-' : s.all !== undefined ? String(s.all) : Object.entries(s.models).map(([m, v]) => `${m}:${v}`).join(',')),
};

/** A comma list of durations, each kept as the text a user types (`1ms`), checked by `item`. */
function durations(item: Parser<number>, example: string): Parser<string[]> {
  return {
    allowed: `a comma list of ${item.allowed.replace(/^a /, '')} (e.g. ${example})`,
    parse: (raw) => {
      const out = raw.split(',').map((s) => s.trim());
      return out.some((s) => s === '' || item.parse(s) === INVALID) ? INVALID : out;
    },
  };
}

/** TUNE_INSTANCES: allocations separated by ';', each as the server's INSTANCES. */
const instancesList: Parser<string[]> = {
  allowed: "allocations separated by ';', each as INSTANCES (d0:1,d1:1,d2:2), e.g. d0:1,d1:1,d2:1;d0:1,d1:1,d2:2",
  parse: (raw) => {
    const parser = modelCounts(1, 64);
    const out: string[] = [];
    for (const part of raw.split(';').map((s) => s.trim())) {
      const v = part === '' ? INVALID : parser.parse(part);
      if (v === INVALID) return INVALID;
      out.push(formatModelCounts(v));
    }
    return out;
  },
};

/** The knobs a TUNE_AXES axis may not name: the per-axis knobs own theirs, and the tool owns where the server listens. */
export const OWNED_KNOBS = ['IMPL', 'HOST', 'PORT', 'PARALLEL_WORKERS', 'PARALLEL_THREADS', 'BATCHER_MAX_BATCH', 'BATCHER_MAX_DELAY', 'INSTANCES'];
const SERVER_ENV = new Set(Object.values(SERVER_KNOBS).map((k) => k.env));

/** TUNE_AXES: extra axes of our server, `KNOB=v1,v2;KNOB2=v1,v2`, each a server knob (values as the server reads them). */
const axesParser: Parser<{ knob: string; values: string[] }[]> = {
  allowed: `axes separated by ';', each a server knob (not ${OWNED_KNOBS.join(', ')}) = a comma list of its values, e.g. SPINNING=run,off;QUEUE_MAX_SIZE=auto,16`,
  parse: (raw) => {
    const out: { knob: string; values: string[] }[] = [];
    for (const part of raw.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
      const m = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(part);
      if (!m || !SERVER_ENV.has(m[1]!) || OWNED_KNOBS.includes(m[1]!) || out.some((a) => a.knob === m[1])) return INVALID;
      const values = m[2]!.split(',').map((s) => s.trim());
      if (values.some((v) => v === '')) return INVALID;
      out.push({ knob: m[1]!, values });
    }
    return out;
  },
};

const DELAY = SERVER_KNOBS.batcherMaxDelayUs as unknown as Parser<number>;
const TRITON_DELAY = durationIn('us', '0s', '10s');

export const TUNE_KNOBS = {
  search: knob<'quick' | 'exhaustive'>({ env: 'TUNE_SEARCH', tier: 'expert', default: 'quick', ...oneOf(['quick', 'exhaustive'] as const), doc: 'tune: quick = hill climbing from the shipped defaults, one axis step at a time; exhaustive = every configuration of the grid' }),
  budget_s: knob({ env: 'TUNE_BUDGET', tier: 'expert', default: 1800, defaultText: '30m', ...duration, doc: 'tune: wall time of the whole run after which no new configuration starts, shared evenly by the stacks (tune.json says where each search stopped)' }),
  slo: knob<SloBounds | null>({ env: 'TUNE_SLO', tier: 'expert', default: null, defaultText: '- (none)', ...sloParser, doc: "tune: the p99 bound a configuration must keep (ms; per model under SCENARIO=mix); over it = infeasible, clearly over (its interval's lower end) = stopped after the probe" }),
  targetRate: knob({ env: 'TARGET_RATE', tier: 'expert', default: 0, defaultText: '0 (none)', ...num(0), doc: 'tune: the load (req/s) to serve: the recommendation then says how many replicas of the best configuration it needs, with TUNE_HEADROOM' }),
  stacks: knob<TuneStack[]>({ env: 'TUNE_STACKS', tier: 'expert', default: ['ours'], defaultText: 'ours (+ triton when PEERS names it)', ...list(oneOf(TUNE_STACKS), `a comma list of ${TUNE_STACKS.join(', ')}`), doc: 'tune: the stacks searched, each on its own (ours: our server; triton: Triton through `make triton`)' }),
  peers: knob<string[]>({ env: 'PEERS', tier: 'expert', default: [], defaultText: '-', ...list(oneOf(['triton'] as const), 'triton (the one peer make tune can configure)'), doc: 'tune: PEERS=triton adds the Triton stack, as TUNE_STACKS=ours,triton' }),
  scenario: knob({ env: 'SCENARIO', tier: 'expert', default: DEFAULT_SCENARIO, ...oneOf(Object.keys(SCENARIOS)), doc: 'tune: the workload every configuration is measured on (mix with MIX too)' }),
  duration_s: knob({ env: 'DURATION', tier: 'expert', default: 20, defaultText: '20s', ...duration, doc: "tune: measured time of a configuration's full run" }),
  probe_s: knob({ env: 'TUNE_PROBE_DURATION', tier: 'expert', default: 5, defaultText: '5s', ...duration, doc: "tune: measured time of a configuration's probe (a hopeless probe is not measured in full)" }),
  objective: knob<'goodput' | 'rps'>({ env: 'TUNE_OBJECTIVE', tier: 'expert', default: 'goodput', ...oneOf(['goodput', 'rps'] as const), doc: 'tune: what is maximised: goodput (answers accepted, on time and correct per second) or rps (accepted answers per second)' }),
  accuracy: knob({ env: 'TUNE_ACCURACY', tier: 'expert', default: true, ...bool, doc: "tune: judge each full run's outputs (ACCURACY=1: in-run output checks and the replay against each implementation's accuracy bounds); a failed verdict is a broken constraint" }),
  memory_mb: knob({ env: 'TUNE_MEMORY_MB', tier: 'expert', default: 0, defaultText: '0 (no cap)', ...num(0), doc: "tune: cap on the server's peak resident memory (its whole process tree, sampled every second)" }),
  maxConfigs: knob({ env: 'TUNE_MAX_CONFIGS', tier: 'expert', default: 0, defaultText: '0 (no cap)', ...int(0), doc: 'tune: most configurations measured per stack' }),
  headroom: knob({ env: 'TUNE_HEADROOM', tier: 'expert', default: 0.2, ...num(0, 0.95), doc: "tune: share of each replica's capacity kept free when TARGET_RATE sizes the replicas (0.2: plan each at 80 % of its measured lower bound)" }),
  resume: knob({ env: 'TUNE_RESUME', tier: 'expert', default: '', defaultText: '-', ...text('a results/tune/<timestamp> folder'), doc: "tune: continue that run: its journal's configurations are not measured again, results are rewritten there" }),
  impls: knob({ env: 'IMPL', tier: 'expert', default: ['baseline', 'concurrent', 'int8', 'isolated', 'batched'], ...list(text('a name'), 'a comma list of implementation names'), doc: 'tune, ours: the implementations tried (the quick search starts at baseline, the reference, when listed, and tries every other one from there)' }),
  workers: knob({ env: 'TUNE_WORKERS', tier: 'expert', default: [1, 2, 4], ...list(int(1, 64), 'a comma list of integers from 1 to 64'), doc: 'tune, ours: PARALLEL_WORKERS values (concurrent, batched, int8)' }),
  threads: knob({ env: 'TUNE_THREADS', tier: 'expert', default: [1, 2], ...list(int(1, 256), 'a comma list of integers from 1 to 256'), doc: 'tune, ours: PARALLEL_THREADS values (concurrent, batched, int8, isolated)' }),
  maxBatch: knob({ env: 'TUNE_MAX_BATCH', tier: 'expert', default: [2, 4, 8], ...list(int(1, 1024), 'a comma list of integers from 1 to 1024'), doc: 'tune, ours: BATCHER_MAX_BATCH values (batched)' }),
  maxDelay: knob({ env: 'TUNE_MAX_DELAY', tier: 'expert', default: ['1ms', '2ms', '5ms'], ...durations(DELAY, '1ms,2ms,5ms'), doc: 'tune, ours: BATCHER_MAX_DELAY values (batched)' }),
  instances: knob({ env: 'TUNE_INSTANCES', tier: 'expert', default: ['d0:1,d1:1,d2:1', 'd0:1,d1:1,d2:2'], defaultText: 'd0:1,d1:1,d2:1;d0:1,d1:1,d2:2', ...instancesList, doc: 'tune, ours: INSTANCES values (isolated)' }),
  axes: knob({ env: 'TUNE_AXES', tier: 'expert', default: [] as { knob: string; values: string[] }[], defaultText: '-', ...axesParser, doc: 'tune, ours: more axes, any server knob with its values, on every configuration (the first value is where the quick search starts)' }),
  tritonSets: knob<TritonModelSet[]>({ env: 'TUNE_TRITON_SETS', tier: 'expert', default: [...TRITON_MODEL_SETS], ...list(oneOf(TRITON_MODEL_SETS), `a comma list of ${TRITON_MODEL_SETS.join(', ')}`), doc: 'tune, triton: TRITON_MODEL_SET values (instances: no batching; dynamic: the dynamic batcher)' }),
  tritonInstances: knob({ env: 'TUNE_TRITON_INSTANCES', tier: 'expert', default: [1, 2], ...list(int(1, 64), 'a comma list of integers from 1 to 64'), doc: 'tune, triton: TRITON_INSTANCE_COUNT values (instance_group count per model)' }),
  tritonMaxBatch: knob({ env: 'TUNE_TRITON_MAX_BATCH', tier: 'expert', default: [2, 4, 8], ...list(int(1, 1024), 'a comma list of integers from 1 to 1024'), doc: 'tune, triton: TRITON_MAX_BATCH values (dynamic set)' }),
  tritonMaxDelay: knob({ env: 'TUNE_TRITON_MAX_DELAY', tier: 'expert', default: ['1ms', '2ms', '5ms'], ...durations(TRITON_DELAY, '1ms,2ms,5ms'), doc: 'tune, triton: TRITON_MAX_DELAY values (dynamic set: max_queue_delay_microseconds)' }),
  resultsRoot: knob({ env: 'RESULTS_ROOT', tier: 'expert', default: 'results', ...text('folder'), doc: 'tune: results go to RESULTS_ROOT/tune/<timestamp>/' }),
};

export type TuneSettings = ReturnType<typeof tuneConfig>;

/** The knobs of `make tune`, with the checks across knobs. */
export function tuneConfig(env: Env) {
  const k = readKnobs(TUNE_KNOBS, env);
  const stacks = [...new Set<TuneStack>([...k.stacks, ...(k.peers.includes('triton') ? (['triton'] as const) : [])])];
  if (k.probe_s > k.duration_s) throw new ConfigError(`TUNE_PROBE_DURATION=${env['TUNE_PROBE_DURATION']} is longer than DURATION=${env['DURATION'] ?? '20s'}: the probe is the short look, lower it or raise DURATION`);
  const perModel = k.slo !== null && Object.keys(k.slo.models).length > 0;
  if (perModel && k.scenario !== 'mix') throw new ConfigError(`TUNE_SLO=${env['TUNE_SLO']} bounds models, which only SCENARIO=mix measures apart: give one bound (TUNE_SLO=2000) or set SCENARIO=mix`);
  // A configuration is a server started with its knobs: a running TARGET cannot be restarted with them.
  if ((env['TARGET'] ?? '').trim() !== '') throw new ConfigError(`TARGET=${env['TARGET']}: make tune starts each configuration's server itself with its knobs; unset TARGET (to measure a running server as it is, use make bench)`);
  if (stacks.includes('ours') && k.impls.length === 0) throw new ConfigError('IMPL is empty: name the implementations to tune');
  return { ...k, stacks };
}

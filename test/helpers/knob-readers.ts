// Each knob registry read through the config function its command really uses: the knob tests
// (test/unit/knobs.test.ts, knob-names.test.ts) set one variable and expect that reader to refuse it.
import type { Env } from '../../lib/env.ts';
import { readKnob, readKnobs } from '../../lib/knobs.ts';
import { k6Config } from '../../lib/k6-config.ts';
import { planFor } from '../../lib/scenarios.ts';
import { loadConfig } from '../../server/config.ts';
import { accuracyConfig } from '../../tools/accuracy/config.ts';
import { benchConfig } from '../../tools/bench/config.ts';
import { DATA_KNOBS } from '../../tools/data/synthetic.ts';
import { tensorsConfig } from '../../tools/data/tensors.ts';
import { harnessConfig } from '../../tools/harness/config.ts';
import { benchConfigFromEnv } from '../../tools/model-bench/bench.ts';
import { configFromEnv } from '../../tools/models/generate.ts';
import { reportConfig } from '../../tools/report/config.ts';
import { peersConfig } from '../../tools/report/peers.ts';
import { MERGE_KNOBS } from '../../tools/scale-out/merge.ts';
import { operatorConfig } from '../../tools/scale-out/operator.ts';
import { perfAnalyzerConfig } from '../../peers/perf-analyzer/run.ts';
import { tritonConfig } from '../../peers/triton/config.ts';
import { torchserveConfig } from '../../peers/torchserve/config.ts';
import { fastapiConfig } from '../../peers/fastapi/config.ts';
import { regionConfig } from '../../tools/region/config.ts';
import { tuneConfig } from '../../tools/tune/config.ts';

/** The scenario whose plan reads a load knob (planFor reads only its kind's). */
const KIND_OF: Record<string, string> = { LEVELS: 'sweep', RATE: 'rate', RATES: 'capacity', STEP: 'capacity', BATCHES: 'batch', VUS: 'soak', REQUESTS: 'coldstart', SMOKE_REQUESTS: 'smoke', RETRY_AFTER_MAX: 'overload', ARRIVALS: 'rate', MIX: 'mix', MIX_LOOP: 'mix' };

/** Each registry read through the config function its runtime really uses. */
export const READERS: Record<string, (env: Env) => unknown> = {
  bench: (env) => benchConfig(env),
  scenario: (env) => planFor(KIND_OF[Object.keys(env)[0]!] ?? 'sweep', env),
  k6: (env) => k6Config(env),
  server: (env) => loadConfig(env, []),
  report: (env) => reportConfig(env),
  accuracy: (env) => accuracyConfig(env),
  models: (env) => configFromEnv(env),
  'bench-models': (env) => benchConfigFromEnv(env),
  data: (env) => readKnob(DATA_KNOBS.count, env),
  harness: (env) => harnessConfig(env),
  'bench-merge': (env) => readKnobs(MERGE_KNOBS, env),
  tensors: (env) => tensorsConfig(env),
  'perf-analyzer': (env) => perfAnalyzerConfig(env),
  peers: (env) => peersConfig(env),
  'k6-operator': (env) => operatorConfig({ TARGET: 'http://multidet:8000', ...env }, '2.2.0'),
  triton: (env) => tritonConfig(env),
  torchserve: (env) => torchserveConfig(env),
  fastapi: (env) => fastapiConfig(env),
  region: (env) => regionConfig(env),
  tune: (env) => tuneConfig(env),
};

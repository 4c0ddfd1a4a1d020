// `make region` and `make interference`: their knob registry (lib/knobs.ts) and typed configs. The rows
// are our implementations (IMPL, each on a server of its own, one after another) and the peers
// (PEERS, the report's registry). Per-model SLOs are REGION_SLO's p99 bounds.
import { ConfigError, type Env } from '../../lib/env.ts';
import { duration, INVALID, int, knob, list, num, readKnobs, text, type Parser } from '../../lib/knobs.ts';
import { SCENARIO_KNOBS, type MixStream } from '../../lib/scenarios.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';

/** One model alone (`d0`) or MIX's weights (`d0:4,d2:1`). */
const directionParser: Parser<MixStream[]> = {
  allowed: 'a model (d0) or weights as in MIX (d0:4,d2:1)',
  parse: (raw) => {
    const v = raw.trim();
    if ((MODEL_NAMES as readonly string[]).includes(v)) return [{ model: v as ModelName, value: 1 }];
    return SCENARIO_KNOBS.mix.parse(v);
  },
};

/** REGION_DIRECTIONS: directions separated by `;`. */
const directionsParser: Parser<MixStream[][]> = {
  allowed: `directions separated by ';', each ${directionParser.allowed}, e.g. d0;d2;d0:1,d2:1;d0:4,d2:1`,
  parse: (raw) => {
    const out = raw.split(';').map((d) => directionParser.parse(d));
    return out.length === 0 || out.some((d) => d === INVALID) ? INVALID : (out as MixStream[][]);
  },
};

/** REGION_SLO: a p99 bound in ms per model, d0:500,d2:3000. */
const sloParser: Parser<Partial<Record<ModelName, number>>> = {
  allowed: `a comma list of model:p99 ms (models ${MODEL_NAMES.join(', ')}), e.g. d0:500,d2:3000`,
  parse: (raw) => {
    const out: Partial<Record<ModelName, number>> = {};
    for (const part of raw.split(',').map((s) => s.trim())) {
      const m = /^(d\d):(\d+(?:\.\d+)?)$/.exec(part);
      if (!m || !(MODEL_NAMES as readonly string[]).includes(m[1]!) || !(Number(m[2]) > 0)) return INVALID;
      out[m[1] as ModelName] = Number(m[2]);
    }
    return out;
  },
};

const MODEL_PARSER: Parser<ModelName> = { allowed: MODEL_NAMES.join(', '), parse: (raw) => ((MODEL_NAMES as readonly string[]).includes(raw.trim()) ? (raw.trim() as ModelName) : INVALID) };

export const REGION_KNOBS = {
  impls: knob({ env: 'IMPL', tier: 'essential', default: ['concurrent'], ...list(text('a name'), 'a comma list of implementation names'), doc: 'our implementations, a row each (each on its own server, one after another); PEERS adds peer rows' }),
  directions: knob({ env: 'REGION_DIRECTIONS', tier: 'expert', default: [[{ model: 'd0', value: 1 }], [{ model: 'd2', value: 1 }], [{ model: 'd0', value: 1 }, { model: 'd2', value: 1 }], [{ model: 'd0', value: 4 }, { model: 'd2', value: 1 }]] as MixStream[][], defaultText: 'd0;d2;d0:1,d2:1;d0:4,d2:1', ...directionsParser, doc: 'region: the mix directions searched (each model alone, balanced, skewed)' }),
  slo: knob({ env: 'REGION_SLO', tier: 'expert', default: { d0: 1000, d1: 2000, d2: 4000 } as Partial<Record<ModelName, number>>, defaultText: 'd0:1000,d1:2000,d2:4000', ...sloParser, doc: 'the p99 bound (ms) each model must stay within' }),
  duration_s: knob({ env: 'DURATION', tier: 'essential', default: 10, defaultText: '10s', ...duration, doc: 'measured time of each probe' }),
  warmup: knob({ env: 'WARMUP', tier: 'expert', default: 4, ...int(0), doc: 'warm-up requests of each probe' }),
  start: knob({ env: 'REGION_START', tier: 'expert', default: 1, ...num(0.01), doc: 'region: the first total rate (req/s) of each direction' }),
  max: knob({ env: 'REGION_MAX', tier: 'expert', default: 32, ...num(0.01), doc: 'region: the highest total rate tried' }),
  precision: knob({ env: 'REGION_PRECISION', tier: 'expert', default: 0.25, ...num(0.01, 10), doc: 'region: stop when the frontier is bracketed within this (0.25: hi <= 1.25 lo)' }),
  budget_s: knob({ env: 'REGION_BUDGET', tier: 'expert', default: 1200, defaultText: '20m', ...duration, doc: 'region, interference: wall time after which no new probe starts (the results say where it stopped)' }),
  light: knob({ env: 'INTERFERENCE_LIGHT', tier: 'expert', default: 1, ...num(0.01), doc: "interference: the victim model's fixed light rate (req/s)" }),
  rates: knob({ env: 'INTERFERENCE_RATES', tier: 'expert', default: [1, 2, 4], ...list(num(0.01), 'a comma list of rates such as 1,2,4'), doc: "interference: the aggressor model's growing rates (req/s), up to saturation" }),
  models: knob({ env: 'INTERFERENCE_MODELS', tier: 'expert', default: ['d0', 'd2'] as ModelName[], ...list(MODEL_PARSER, `a comma list of ${MODEL_NAMES.join(', ')}`), doc: 'interference: the models, each the victim of every other' }),
  resultsRoot: knob({ env: 'RESULTS_ROOT', tier: 'expert', default: 'results', ...text('folder'), doc: 'results go to RESULTS_ROOT/region/ (interference: RESULTS_ROOT/interference/)' }),
};

export type RegionConfig = ReturnType<typeof regionConfig>;

/** The knobs of `make region` (tool region) or `make interference`, checked for what that tool uses. */
export function regionConfig(env: Env, tool: 'region' | 'interference' = 'region') {
  const c = readKnobs(REGION_KNOBS, env);
  // Every model the tool sends needs a bound.
  const named = new Set(tool === 'region' ? c.directions.flat().map((s) => s.model) : c.models);
  const missing = [...named].filter((m) => c.slo[m] === undefined);
  const knob = tool === 'region' ? 'REGION_DIRECTIONS' : 'INTERFERENCE_MODELS';
  if (missing.length > 0) throw new ConfigError(`REGION_SLO=${env['REGION_SLO'] ?? ''} has no bound for ${missing.join(', ')}, which ${knob} names: add ${missing.map((m) => `${m}:<p99 ms>`).join(',')}`);
  if (tool === 'region' && c.start > c.max) throw new ConfigError(`REGION_START=${c.start} is above REGION_MAX=${c.max}: lower REGION_START or raise REGION_MAX`);
  if (tool === 'interference' && c.models.length < 2) throw new ConfigError(`INTERFERENCE_MODELS=${c.models.join(',')}: name at least two models (each is the victim of the others)`);
  return c;
}

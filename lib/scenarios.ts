// The named scenarios and the plan each one runs. Pure TypeScript: the k6 scripts build their
// options and thresholds from a plan, and the Node orchestrator uses the same plan to pick the
// bundle, compute requests/s per level and post-process. A name maps to a parameterised kind, so
// concurrency1..concurrency32 are one entry in a loop, not six files.
import { ConfigError, type Env } from './env.ts';
import { duration, int, INVALID, knob, list, oneOf, readKnob, type Knob, type Parser } from './knobs.ts';
import { MODEL_NAMES, type ModelName } from './model-contract.ts';
import { levelScenarios, type K6Scenario, type Level } from './load-shapes.ts';
import { ARRIVAL_SPACINGS, poissonLanes, type ArrivalSpacing } from './arrivals.ts';

export type ScenarioKind = 'concurrency' | 'sweep' | 'rate' | 'capacity' | 'coldstart' | 'batch' | 'soak' | 'smoke' | 'overload' | 'mix';

interface ScenarioSpec {
  name: string;
  kind: ScenarioKind;
  description: string;
  /** Fixed concurrency of a concurrencyN scenario. */
  vus?: number;
}

export const CONCURRENCY_LEVELS = [1, 2, 4, 8, 16, 32] as const;

export const SCENARIOS: Record<string, ScenarioSpec> = Object.fromEntries(
  ([
    ...CONCURRENCY_LEVELS.map((n): ScenarioSpec => ({ name: `concurrency${n}`, kind: 'concurrency', vus: n, description: `closed loop, ${n} VUs for DURATION after WARMUP requests` })),
    { name: 'sweep', kind: 'sweep', description: 'closed loop at each of LEVELS (default 1,2,4,8), one after another, thresholds per level' },
    { name: 'rate', kind: 'rate', description: 'open model: constant arrival rate RATE/s for DURATION; dropped iterations thresholded' },
    { name: 'capacity', kind: 'capacity', description: 'staircase arrival rate RATES; reports the highest rate whose p99 stayed under the SLO' },
    { name: 'coldstart', kind: 'coldstart', description: 'latency of the first requests after the server starts (no warm-up)' },
    { name: 'batch', kind: 'batch', description: 'BATCHES images per multipart request (default 1,4,8,16,32), one after another; images/s per size' },
    { name: 'soak', kind: 'soak', description: 'long steady closed loop (VUS, DURATION default 10m) with server memory sampled over time' },
    { name: 'overload', kind: 'overload', description: 'closed loop of VUS (default 64) clients, more than the server queues: accepted and refused requests reported apart; a refused client waits its Retry-After' },
    { name: 'mix', kind: 'mix', description: 'several traffic streams at once, one per model: MIX=d0:6,d1:2,d2:1 (req/s each, open loop; MIX_LOOP=closed: VUs each), a level per stream, thresholds per model' },
    { name: 'smoke', kind: 'smoke', description: 'a few requests per implementation (IMPL may be a comma list), for CI' },
  ] satisfies ScenarioSpec[]).map((s) => [s.name, s]),
);

export const DEFAULT_SCENARIO = 'concurrency8';

export function scenarioSpec(name: string): ScenarioSpec {
  const spec = SCENARIOS[name];
  if (!spec) throw new ConfigError(`SCENARIO=${name} is not valid: expected one of ${Object.keys(SCENARIOS).join(', ')}`);
  return spec;
}

/** What the `level` tag means for this plan. */
type LevelUnit = 'vus' | 'rps' | 'batch';

export interface Plan {
  name: string;
  kind: ScenarioKind;
  unit: LevelUnit;
  levels: Level[];
  /** Requests sent in setup() before measuring, tagged phase=warmup; 0 for coldstart. */
  warmup: { requests: number; concurrency: number };
  /** Images per request (batch varies it per level). */
  imagesPerRequest: (level: Level) => number;
  /** k6 `options.scenarios`, keyed by k6 scenario name; each has env LEVEL = its level tag. */
  k6Scenarios: Record<string, K6Scenario>;
  /** Requests per implementation in smoke; unused elsewhere. */
  smokeRequests: number;
  /** Seconds between levels so a slow level's in-flight requests do not leak into the next one. */
  gap_s: number;
  /** rate: how arrivals are spaced (ARRIVALS); absent elsewhere, where k6's executors space them. */
  arrivals?: ArrivalSpacing;
  /** > 0: after a refusal a VU sleeps its Retry-After, at most this many seconds (overload); 0: it asks again at once. */
  retryAfterCap_s: number;
}

/** mix: one stream of requests for one model, at a rate (open) or a number of VUs (closed). */
export interface MixStream {
  model: ModelName;
  value: number;
}
const MIX_LOOPS = ['open', 'closed'] as const;
export type MixLoop = (typeof MIX_LOOPS)[number];

/** MIX=d0:6,d1:2,d2:0.5: each model once, a positive number each (up to 3 decimals: open-loop rates; closed loops need whole VUs). */
const mixParser: Parser<MixStream[]> = {
  allowed: `a comma list of model:number, each model once (models ${MODEL_NAMES.join(', ')}), e.g. d0:6,d2:0.5`,
  parse: (raw) => {
    const out: MixStream[] = [];
    for (const part of raw.split(',').map((s) => s.trim())) {
      const m = /^(d\d):(\d+(?:\.\d{1,3})?)$/.exec(part);
      if (!m || !(MODEL_NAMES as readonly string[]).includes(m[1]!) || !(Number(m[2]) > 0) || out.some((s) => s.model === m[1])) return INVALID;
      out.push({ model: m[1] as ModelName, value: Number(m[2]) });
    }
    return out.length > 0 ? out : INVALID;
  },
};

const positives = (example: string) => list(int(1), `a comma list of positive integers such as ${example}`);

/** The k6 script's load knobs (same names in k6 and in Node, which builds the same plan). */
export const SCENARIO_KNOBS = {
  duration: knob({ env: 'DURATION', tier: 'essential', default: 30, defaultText: '30s (soak 10m; smoke, coldstart 0s)', ...duration, doc: 'measured time per level' }),
  warmup: knob({ env: 'WARMUP', tier: 'essential', default: 20, defaultText: '20 (smoke 2, coldstart 0)', ...int(0), doc: 'warm-up requests, excluded from figures and thresholds' }),
  levels: knob({ env: 'LEVELS', tier: 'essential', default: [1, 2, 4, 8], ...positives('1,2,4,8'), doc: 'sweep: VUs of each level, one after another' }),
  levelGap: knob({ env: 'LEVEL_GAP', tier: 'expert', default: 5, defaultText: '5s', ...duration, doc: 'pause between levels' }),
  rate: knob({ env: 'RATE', tier: 'essential', default: 5, ...int(1), doc: 'rate: arrivals per second' }),
  rates: knob({ env: 'RATES', tier: 'expert', default: [1, 2, 4, 8, 16], ...positives('1,2,4,8,16'), doc: 'capacity: the staircase of rates' }),
  step: knob({ env: 'STEP', tier: 'expert', default: 0, defaultText: 'DURATION / number of RATES', ...duration, doc: 'capacity: time per step' }),
  batches: knob({ env: 'BATCHES', tier: 'expert', default: [1, 4, 8, 16, 32], ...positives('1,4,8,16,32'), doc: 'batch: images per request of each level' }),
  vus: knob({ env: 'VUS', tier: 'expert', default: 1, defaultText: '1 (soak 4, overload 64)', ...int(1), doc: 'batch, soak, overload: VUs' }),
  retryAfterMax: knob({ env: 'RETRY_AFTER_MAX', tier: 'expert', default: 5, defaultText: '5s', ...duration, doc: "overload: a refused client waits the answer's Retry-After, at most this (0s: asks again at once)" }),
  arrivals: knob({ env: 'ARRIVALS', tier: 'expert', default: 'even' as ArrivalSpacing, ...oneOf(ARRIVAL_SPACINGS), doc: 'rate: even (k6 constant-arrival-rate, arrivals dropped when no VU is free) or poisson (seeded exponential gaps, fired by scheduler lanes with asynchronous requests, never dropped)' }),
  maxVus: knob({ env: 'MAX_VUS', tier: 'expert', default: 64, ...int(1), doc: 'rate, capacity: most VUs k6 may start' }),
  requests: knob({ env: 'REQUESTS', tier: 'expert', default: 5, ...int(1), doc: 'coldstart: requests after start-up' }),
  mix: knob<MixStream[]>({ env: 'MIX', tier: 'essential', default: [{ model: 'd0', value: 4 }, { model: 'd2', value: 1 }], defaultText: 'd0:4,d2:1', ...mixParser, doc: 'mix: one stream per model, model:rate (req/s; MIX_LOOP=closed: VUs), run at the same time' }),
  mixLoop: knob({ env: 'MIX_LOOP', tier: 'expert', default: 'open' as MixLoop, ...oneOf(MIX_LOOPS), doc: "mix: open (each stream k6's constant-arrival-rate at its rate) or closed (each stream its VUs)" }),
  smokeRequests: knob({ env: 'SMOKE_REQUESTS', tier: 'expert', default: 3, ...int(1), doc: 'smoke: requests per implementation' }),
};

const read = <T>(k: Knob<T>, env: Env, fallback?: T): T => readKnob(k, env, {}, fallback ?? k.default);

/** Builds the plan of a named scenario from env knobs (same names in k6 and in Node). */
export function planFor(name: string, env: Env): Plan {
  const spec = scenarioSpec(name);
  const kind = spec.kind;
  const K = SCENARIO_KNOBS;
  const duration = read(K.duration, env, kind === 'soak' ? 600 : kind === 'smoke' || kind === 'coldstart' ? 0 : 30);
  const warmup = read(K.warmup, env, kind === 'coldstart' ? 0 : kind === 'smoke' ? 2 : 20);
  const gap = read(K.levelGap, env);
  const maxVus = read(K.maxVus, env);
  const base = { name, kind, smokeRequests: read(K.smokeRequests, env), gap_s: gap, imagesPerRequest: () => 1, retryAfterCap_s: 0 };

  switch (kind) {
    case 'concurrency':
    case 'soak':
    case 'sweep': {
      const values = kind === 'concurrency' ? [spec.vus!] : kind === 'soak' ? [read(K.vus, env, 4)] : read(K.levels, env);
      const levels = sequence(values, duration, gap);
      return { ...base, unit: 'vus', levels, warmup: { requests: warmup, concurrency: Math.max(...values) }, k6Scenarios: levelScenarios('closed', levels, { gap_s: gap, maxVus }) };
    }
    case 'overload': {
      // Clients beyond what the server queues: the excess is refused (503) at once and waits its
      // Retry-After (RETRY_AFTER_MAX, 0 = retry at once) like a well-behaved client. Warm-up at
      // most 8 at a time, within the default queue bound.
      const vus = read(K.vus, env, 64);
      const levels = sequence([vus], duration, gap);
      const retryAfterCap_s = read(K.retryAfterMax, env);
      return { ...base, retryAfterCap_s, unit: 'vus', levels, warmup: { requests: warmup, concurrency: Math.min(vus, 8) }, k6Scenarios: levelScenarios('closed', levels, { gap_s: gap, maxVus }) };
    }
    case 'rate': {
      const rate = read(K.rate, env);
      const levels = sequence([rate], duration, gap);
      const arrivals = read(K.arrivals, env);
      const shape = arrivals === 'poisson' ? levelScenarios('lanes', levels, { gap_s: gap, maxVus, vus: poissonLanes(rate, maxVus) }) : levelScenarios('arrival', levels, { gap_s: gap, maxVus });
      return { ...base, unit: 'rps', levels, arrivals, warmup: { requests: warmup, concurrency: 2 }, k6Scenarios: shape };
    }
    case 'capacity': {
      // Steps of STEP (default DURATION/number of rates) back to back: one ramping-arrival-rate run.
      const rates = read(K.rates, env);
      const step = read(K.step, env, Math.max(1, Math.round(duration / rates.length)));
      const levels = rates.map((r, i) => ({ tag: String(r), value: r, duration_s: step, start_s: i * step }));
      return { ...base, unit: 'rps', levels, warmup: { requests: warmup, concurrency: 2 }, k6Scenarios: levelScenarios('staircase', levels, { gap_s: gap, maxVus }) };
    }
    case 'batch': {
      const levels = sequence(read(K.batches, env), duration, gap);
      const vus = read(K.vus, env);
      return { ...base, unit: 'batch', levels, imagesPerRequest: (l: Level) => l.value, warmup: { requests: warmup, concurrency: vus }, k6Scenarios: levelScenarios('closed', levels, { gap_s: gap, maxVus, vus }) };
    }
    case 'mix': {
      // Every stream is a level of its own, all starting together: the rows, thresholds, stability
      // windows, goodput and open-loop misses of a level are then a stream's (a model's).
      if (duration <= 0) throw new ConfigError(`DURATION must be positive for this scenario: set DURATION=30s (or 3s for a quick look)`);
      const loop = read(K.mixLoop, env);
      const streams = read(K.mix, env);
      if (loop === 'closed' && streams.some((st) => !Number.isInteger(st.value))) throw new ConfigError(`MIX=${env['MIX']} with MIX_LOOP=closed: each stream's number is its VUs, a whole number (a fraction is an open-loop rate)`);
      const levels: Level[] = streams.map((st) => ({ tag: st.model, value: st.value, duration_s: duration, start_s: 0, models: [st.model] }));
      const warmupConcurrency = Math.min(8, levels.reduce((n, l) => n + (loop === 'closed' ? l.value : 1), 0));
      return { ...base, unit: loop === 'open' ? 'rps' : 'vus', levels, warmup: { requests: warmup, concurrency: warmupConcurrency }, k6Scenarios: levelScenarios(loop === 'open' ? 'arrival' : 'closed', levels, { gap_s: gap, maxVus }) };
    }
    case 'coldstart':
    case 'smoke': {
      // Counted iterations, one VU. coldstart tags its first request level=first, the rest
      // level=warm, so the first request after start-up gets its own row and thresholds.
      const iterations = kind === 'coldstart' ? read(K.requests, env) : base.smokeRequests;
      const one = (tag: string) => ({ tag, value: 1, duration_s: duration, start_s: 0 });
      const levels = kind === 'smoke' ? [one('1')] : iterations > 1 ? [one('first'), one('warm')] : [one('first')];
      return { ...base, unit: 'vus', levels, warmup: { requests: warmup, concurrency: 1 }, k6Scenarios: levelScenarios('iterations', levels, { gap_s: gap, maxVus, iterations }) };
    }
  }
}

/** Levels run one after another with `gap` seconds between them. */
function sequence(values: number[], duration: number, gap: number): Level[] {
  if (duration <= 0) throw new ConfigError(`DURATION must be positive for this scenario: set DURATION=30s (or 3s for a quick look)`);
  return values.map((v, i) => ({ tag: String(v), value: v, duration_s: duration, start_s: i * (duration + gap) }));
}

/** Measured requests/s of one level from its request count. */
export function levelRps(level: Level, count: number): number {
  return level.duration_s > 0 ? count / level.duration_s : 0;
}

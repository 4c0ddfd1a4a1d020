// The one typed source of bounds: latency/throughput SLOs (checked-in defaults + this host's bounds)
// turned into k6 thresholds, and the accuracy bounds the accuracy gates use.
// Pure TypeScript (both runtimes): callers pass file contents in; the checked-in defaults are
// bundled as JSON so a k6 script run by hand still has them.
import defaultsJson from './bounds.defaults.json' with { type: 'json' };
import type { Plan } from './scenarios.ts';
import { MODEL_NAMES, type ModelName } from './model-contract.ts';

/** SLO fields; every one optional in the file, resolved per scenario and implementation. */
interface SloBound {
  /** Always: http_req_failed rate must stay below this (0.01 = 1%). */
  http_req_failed_max: number;
  /** Always: checks rate must stay above this. */
  checks_min: number;
  /** Measured p99 latency per level, ms. */
  p99_ms?: number;
  /** Optional explicit floors/ceilings per level (host bounds add their own). */
  p50_min_ms?: number;
  rps_min?: number;
  /** rate: dropped iterations / planned iterations must stay at or below this. */
  dropped_max_ratio?: number;
  /** batch: p99 per request divided by images in it, ms. */
  per_image_p99_ms?: number;
  /** soak: server memory growth (last sample - first measured sample), MB. */
  memory_growth_max_mb?: number;
  /** capacity: the SLO a step's p99 must stay under to count, and the least capacity accepted. */
  capacity_slo_p99_ms?: number;
  capacity_min_rps?: number;
  /**
   * overload: refusals (503) expected, up to this share of the measured requests per level; when set,
   * http_req_failed_max bounds the other failures only (requests_failed) instead of http_req_failed.
   */
  refused_max_ratio?: number;
  /** Time to refuse: p99 of the refused requests' duration per level, ms. */
  refused_p99_ms?: number;
  /**
   * Goodput: the latency an accepted, correct answer must stay within to count as good (on time), ms.
   * Unset: the level's latency SLO (its p99 bound; capacity: capacity_slo_p99_ms); none: any accepted answer is on time.
   */
  goodput_latency_ms?: number;
  /** Goodput per level: good answers (accepted, on time, correct) per second must reach this. Unset: reported, not gated. */
  goodput_min_rps?: number;
  /**
   * Per model (SCENARIO=mix, whose levels are one model's stream each): the level bounds of that
   * model's stream (p99_ms, p50_min_ms, rps_min, goodput_latency_ms, goodput_min_rps), over the ones above.
   */
  models?: Partial<Record<ModelName, Partial<Pick<SloBound, PerModelBound>>>>;
}

/** The bounds a model's stream may set for itself (slo.<scenario>.<impl>.models.<model>). */
type PerModelBound = 'p99_ms' | 'p50_min_ms' | 'rps_min' | 'goodput_latency_ms' | 'goodput_min_rps';
const PER_MODEL_BOUNDS: readonly PerModelBound[] = ['p99_ms', 'p50_min_ms', 'rps_min', 'goodput_latency_ms', 'goodput_min_rps'];

/**
 * Accuracy bounds of one implementation. The four gate bounds apply to the aggregate over the whole
 * dataset (the replay after the load); `per_response` overrides them for ONE response image in the
 * in-run k6 check, where one image's figures scatter far more than the dataset's mean.
 * output_match_min is the share of response images that must pass the per-response bounds.
 */
export interface AccuracyBounds {
  boxes_mse_max: number;
  scores_mse_max: number;
  labels_accuracy_min: number;
  /** Unmatched detections allowed: 0 for lossless; for a lossy implementation, a fraction of the reference detections. */
  unmatched_max: number;
  output_match_min: number;
  per_response?: Partial<Pick<AccuracyBounds, 'boxes_mse_max' | 'scores_mse_max' | 'labels_accuracy_min' | 'unmatched_max'>>;
}

export interface BoundsFile {
  version: number;
  /** The host bounds' tolerance (the key keeps its first name: bounds files written before read the same). */
  calibration?: { tolerance?: number };
  slo: Record<string, Record<string, Partial<SloBound>>>;
  accuracy: { lossless: AccuracyBounds; impls: Record<string, Partial<AccuracyBounds>> };
}

/** One level's figures in results/host-bounds.json, written by `make host-bounds`. */
export interface LevelStats {
  p50_ms: number;
  p99_ms: number;
  rps: number;
  requests: number;
}
/** results/host-bounds.json, written by `make host-bounds`: baseline and invalid measured on this host. */
export interface HostBounds {
  version: 1;
  created: string;
  host: { cpu: string; cores: number; ep: string };
  duration_s: number;
  /** level tag (concurrency) -> implementation (baseline, invalid) -> stats. */
  levels: Record<string, Record<string, LevelStats>>;
}

/** Bounds of one level after the host bounds: each says where it came from (shown in junit/summary). */
interface LevelBound {
  p99_max_ms?: number;
  p50_min_ms?: number;
  rps_min?: number;
  /** Goodput: an accepted answer slower than this is late (not good); absent: none is late. */
  goodput_slo_ms?: number;
  goodput_min_rps?: number;
  sources: string[];
}

export interface ResolvedBounds {
  scenario: string;
  impl: string;
  slo: SloBound;
  /** The accuracy bounds the run holds this implementation to (same for k6's in-run check and the replay). */
  accuracy?: ResolvedAccuracy;
  /** Per level tag; empty when no host bounds cover this plan. */
  levels: Record<string, LevelBound>;
  /** The host bounds in force (the key keeps its first name: bounds.json of earlier runs read the same). */
  calibration?: { created: string; tolerance: number };
}

export const DEFAULT_BOUNDS = defaultsJson as unknown as BoundsFile;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: `over` wins; used to lay a BOUNDS_FILE over the checked-in defaults. */
export function mergeBounds<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeBounds(out[k], v) : v;
  return out as T;
}

/** Checks a parsed bounds file enough that a typo stops the run with a line naming it. */
export function validateBoundsFile(file: unknown, where: string): BoundsFile {
  if (!isObject(file) || !isObject(file.slo) || !isObject(file.accuracy)) throw new Error(`${where}: not a bounds file (needs "slo" and "accuracy" objects, see lib/bounds.defaults.json)`);
  const known = new Set(['http_req_failed_max', 'checks_min', 'p99_ms', 'p50_min_ms', 'rps_min', 'dropped_max_ratio', 'per_image_p99_ms', 'memory_growth_max_mb', 'capacity_slo_p99_ms', 'capacity_min_rps', 'refused_max_ratio', 'refused_p99_ms', 'goodput_latency_ms', 'goodput_min_rps']);
  for (const [scenario, byImpl] of Object.entries(file.slo)) {
    if (!isObject(byImpl)) throw new Error(`${where}: slo.${scenario} must be an object of implementation -> bounds`);
    for (const [impl, b] of Object.entries(byImpl)) {
      if (!isObject(b)) throw new Error(`${where}: slo.${scenario}.${impl} must be an object`);
      for (const [k, v] of Object.entries(b)) {
        if (k === 'models') {
          checkPerModel(v, `${where}: slo.${scenario}.${impl}.models`);
          continue;
        }
        if (!known.has(k)) throw new Error(`${where}: slo.${scenario}.${impl}.${k} is not a known bound (expected one of ${[...known].join(', ')})`);
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: slo.${scenario}.${impl}.${k} must be a number`);
      }
    }
  }
  if (!isObject(file.accuracy.impls ?? {})) throw new Error(`${where}: accuracy.impls must be an object of implementation -> bounds`);
  const gate = new Set(['boxes_mse_max', 'scores_mse_max', 'labels_accuracy_min', 'unmatched_max']);
  const checkAccuracy = (b: unknown, at: string, nested: boolean) => {
    if (!isObject(b)) throw new Error(`${where}: ${at} must be an object`);
    for (const [k, v] of Object.entries(b)) {
      if (k === '$comment') continue;
      if (nested && k === 'per_response') checkAccuracy(v, `${at}.per_response`, false);
      else if (!gate.has(k) && !(nested && k === 'output_match_min')) {
        throw new Error(`${where}: ${at}.${k} is not a known accuracy bound (expected one of ${[...gate, ...(nested ? ['output_match_min', 'per_response'] : [])].join(', ')})`);
      } else if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: ${at}.${k} must be a number`);
    }
  };
  checkAccuracy(file.accuracy.lossless, 'accuracy.lossless', true);
  for (const [impl, b] of Object.entries((file.accuracy.impls ?? {}) as Record<string, unknown>)) checkAccuracy(b, `accuracy.impls.${impl}`, true);
  return file as unknown as BoundsFile;
}

/** slo.<scenario>.<impl>.models: model -> a few level bounds, numbers. */
function checkPerModel(v: unknown, at: string): void {
  if (!isObject(v)) throw new Error(`${at} must be an object of model (${MODEL_NAMES.join(', ')}) -> bounds`);
  for (const [model, b] of Object.entries(v)) {
    if (!(MODEL_NAMES as readonly string[]).includes(model)) throw new Error(`${at}.${model} is not a model (expected one of ${MODEL_NAMES.join(', ')})`);
    if (!isObject(b)) throw new Error(`${at}.${model} must be an object`);
    for (const [k, x] of Object.entries(b)) {
      if (!(PER_MODEL_BOUNDS as readonly string[]).includes(k)) throw new Error(`${at}.${model}.${k} is not a per-model bound (expected one of ${PER_MODEL_BOUNDS.join(', ')})`);
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${at}.${model}.${k} must be a number`);
    }
  }
}

/** SLO of (scenario name, kind, impl): '*' entries first, then kind, then name; impl beats '*'. */
export function sloFor(file: BoundsFile, name: string, kind: string, impl: string): SloBound {
  let out: Partial<SloBound> = {};
  for (const key of ['*', kind, name]) {
    const byImpl = file.slo[key];
    if (!byImpl) continue;
    // Per-model bounds merge model by model, in the same order as the rest.
    const models = mergeBounds(mergeBounds(out.models ?? {}, byImpl['*']?.models), byImpl[impl]?.models);
    out = { ...out, ...byImpl['*'], ...byImpl[impl], ...(Object.keys(models).length > 0 ? { models } : {}) };
  }
  return { http_req_failed_max: 0.01, checks_min: 0.99, ...out };
}

/**
 * Resolves the bounds for one implementation in one plan. With host bounds covering a closed-loop
 * level: p99 <= baseline's p99 * (1 + tol), req/s >= baseline's * (1 - tol), p50 >= invalid's p50 * (1 - tol).
 * baseline and invalid themselves get only the SLOs (they define the host bounds).
 */
export function resolveBounds(file: BoundsFile, plan: Pick<Plan, 'name' | 'kind' | 'unit' | 'levels'>, impl: string, hostBounds?: HostBounds): ResolvedBounds {
  const slo = sloFor(file, plan.name, plan.kind, impl);
  const tolerance = file.calibration?.tolerance ?? 0.15;
  const levels: Record<string, LevelBound> = {};
  for (const level of plan.levels) {
    const b: LevelBound = { sources: [] };
    // A stream of one model (mix) is held to that model's own bounds where the file sets them.
    const model = level.models?.length === 1 ? level.models[0]! : undefined;
    const own = model ? slo.models?.[model] : undefined;
    const levelSlo = own ? { ...slo, ...own } : slo;
    if (plan.kind === 'batch' && levelSlo.per_image_p99_ms !== undefined) {
      // A request of N images may take N times one image's SLO.
      b.p99_max_ms = round(levelSlo.per_image_p99_ms * level.value);
      b.sources.push(`per-image p99 SLO ${levelSlo.per_image_p99_ms} ms x ${level.value} images`);
    } else if (levelSlo.p99_ms !== undefined && plan.kind !== 'capacity') {
      // capacity steps are meant to overload: their p99 is reported against capacity_slo_p99_ms, not gated.
      b.p99_max_ms = levelSlo.p99_ms;
      b.sources.push(`p99 SLO ${levelSlo.p99_ms} ms${own?.p99_ms !== undefined ? ` (${model}'s own)` : ''}`);
    }
    if (levelSlo.p50_min_ms !== undefined) b.p50_min_ms = levelSlo.p50_min_ms;
    if (levelSlo.rps_min !== undefined) b.rps_min = levelSlo.rps_min;
    const cal = plan.unit === 'vus' && plan.kind !== 'smoke' && plan.kind !== 'coldstart' ? hostBounds?.levels[level.tag] : undefined;
    // The host bounds ARE baseline (upper) and invalid (lower): a reference is never gated
    // against its own figures, which would only measure run-to-run noise.
    const upper = impl === 'baseline' ? undefined : cal?.['baseline'];
    const lower = impl === 'invalid' ? undefined : cal?.['invalid'];
    if (upper) {
      const p99 = round(upper.p99_ms * (1 + tolerance));
      if (b.p99_max_ms === undefined || p99 < b.p99_max_ms) b.p99_max_ms = p99;
      b.rps_min = Math.max(b.rps_min ?? 0, round(upper.rps * (1 - tolerance)));
      b.sources.push(`baseline host bounds: p99 ${upper.p99_ms} ms, ${upper.rps} req/s, tolerance ${tolerance}`);
    }
    if (lower) {
      b.p50_min_ms = Math.max(b.p50_min_ms ?? 0, round(lower.p50_ms * (1 - tolerance)));
      b.sources.push(`invalid host bounds: p50 ${lower.p50_ms} ms, tolerance ${tolerance}`);
    }
    // Goodput's "on time": the dedicated SLO, else the latency bound this level is held to (after the
    // host bounds), else capacity's step SLO; with none, every accepted answer is on time.
    const onTime = levelSlo.goodput_latency_ms ?? b.p99_max_ms ?? (plan.kind === 'capacity' ? levelSlo.capacity_slo_p99_ms : undefined);
    if (onTime !== undefined) b.goodput_slo_ms = onTime;
    if (levelSlo.goodput_min_rps !== undefined) b.goodput_min_rps = levelSlo.goodput_min_rps;
    levels[level.tag] = b;
  }
  const resolved: ResolvedBounds = { scenario: plan.name, impl, slo, levels };
  if (hostBounds && Object.values(levels).some((l) => l.sources.some((s) => s.includes('host bounds')))) resolved.calibration = { created: hostBounds.created, tolerance };
  return resolved;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** A k6 threshold selector: metric{tag:value,...} with tags sorted so names are stable. */
export function selector(metric: string, tags: Record<string, string>): string {
  const keys = Object.keys(tags).sort();
  return keys.length === 0 ? metric : `${metric}{${keys.map((k) => `${k}:${tags[k]}`).join(',')}}`;
}

export type Thresholds = Record<string, string[]>;

/**
 * k6 thresholds for a plan: always failure rate and checks; per implementation and level the p99
 * ceiling, p50 floor and a request-count floor (req/s bound * measured seconds, because k6's
 * counter `rate` divides by the whole test's duration, warm-up and other levels included).
 * Every per-level selector gets a threshold so k6 computes that sub-metric for the summary.
 */
export function thresholdsFor(plan: Plan, bounds: ResolvedBounds[]): Thresholds {
  const t: Thresholds = {};
  const add = (key: string, expr: string) => (t[key] ??= []).includes(expr) || t[key]!.push(expr);
  for (const b of bounds) {
    // Where refusals are the expected outcome (overload), the failure bound is on the other failures.
    const refusalsExpected = b.slo.refused_max_ratio !== undefined;
    add(selector(refusalsExpected ? 'requests_failed' : 'http_req_failed', { impl: b.impl, phase: 'measure' }), `rate<${b.slo.http_req_failed_max}`);
    add(selector('checks', { impl: b.impl, phase: 'measure' }), `rate>${b.slo.checks_min}`);
    for (const level of plan.levels) {
      const tags = { impl: b.impl, level: level.tag, phase: 'measure' };
      const lb = b.levels[level.tag] ?? { sources: [] };
      // Latency and request counts are of accepted (2xx) answers only: a refusal or an error is
      // fast and would pass for good service. Refused and failed requests get their own sub-metrics.
      const accepted = { ...tags, expected_response: 'true' };
      const duration = selector('http_req_duration', accepted);
      add(duration, lb.p99_max_ms !== undefined ? `p(99)<${lb.p99_max_ms}` : 'p(99)>=0');
      if (lb.p50_min_ms !== undefined) add(duration, `p(50)>=${lb.p50_min_ms}`);
      add(selector('requests_refused', tags), refusalsExpected ? `rate<=${b.slo.refused_max_ratio}` : 'rate>=0');
      add(selector('requests_failed', tags), 'rate>=0');
      add(selector('http_req_duration', { ...tags, status: '503' }), b.slo.refused_p99_ms !== undefined ? `p(99)<${b.slo.refused_p99_ms}` : 'max>=0');
      const reqs = selector('http_reqs', accepted);
      // A measured level with no requests at all is a failure, not an empty row.
      add(reqs, 'count>0');
      if (lb.rps_min !== undefined && level.duration_s > 0) add(reqs, `count>=${Math.ceil(lb.rps_min * level.duration_s)}`);
      // Goodput (lib/k6/goodput.ts): good answers, a count floor as for req/s; informational without a bound.
      const good = selector('requests_good', tags);
      add(good, lb.goodput_min_rps !== undefined && level.duration_s > 0 ? `count>=${Math.ceil(lb.goodput_min_rps * level.duration_s)}` : 'count>=0');
      // Open loop: latency from the scheduled arrival and the late share (lib/k6/schedule.ts), informational.
      if (plan.unit === 'rps') {
        add(selector('latency_from_schedule', tags), 'max>=0');
        add(selector('late_from_schedule', tags), 'rate>=0');
      }
    }
    if ((plan.kind === 'rate' || (plan.kind === 'mix' && plan.unit === 'rps')) && b.slo.dropped_max_ratio !== undefined) {
      const planned = plan.levels.reduce((n, l) => n + l.value * l.duration_s, 0);
      add('dropped_iterations', `count<=${Math.floor(planned * b.slo.dropped_max_ratio)}`);
    }
  }
  return t;
}

/** Accuracy bounds: lossless implementations must match exactly; lossy ones declare theirs in the bounds file. */
export function accuracyBoundsFor(impl: string, lossless: boolean, file: BoundsFile = DEFAULT_BOUNDS): AccuracyBounds {
  const exact = file.accuracy.lossless;
  if (lossless) return { ...exact };
  const declared = file.accuracy.impls[impl] as (Partial<AccuracyBounds> & { $comment?: string }) | undefined;
  if (!declared) throw new Error(`no accuracy bounds for lossy implementation ${impl}: add accuracy.impls.${impl} to lib/bounds.defaults.json (or the BOUNDS_FILE)`);
  const { $comment: _comment, ...bounds } = declared;
  return { ...exact, ...bounds };
}

export interface ResolvedAccuracy {
  bounds: AccuracyBounds;
  /** Why these bounds, for the results: "lossless: exact bounds", "declared by int8 ...". */
  source: string;
}

/**
 * The bounds a run holds an implementation to. Lossless: the exact bounds. Lossy: its declared bounds;
 * none declared (e.g. invalid): the exact bounds, because an undeclared deviation is not an
 * accepted one. `lossless` comes from the server (GET /implementations), not from the name.
 */
export function resolveAccuracy(impl: string, lossless: boolean, file: BoundsFile = DEFAULT_BOUNDS): ResolvedAccuracy {
  if (lossless) return { bounds: accuracyBoundsFor(impl, true, file), source: 'lossless: exact bounds (accuracy.lossless)' };
  if (!(impl in file.accuracy.impls)) {
    return { bounds: accuracyBoundsFor(impl, true, file), source: `${impl} is not lossless and declares no bounds (accuracy.impls.${impl}): held to the exact bounds` };
  }
  return { bounds: accuracyBoundsFor(impl, false, file), source: `declared by ${impl} (accuracy.impls.${impl})` };
}

/** The bounds of one response image (in-run check): the aggregate bounds with `per_response` laid over. */
export function perResponseBounds(b: AccuracyBounds): AccuracyBounds {
  const { per_response, ...aggregate } = b;
  return { ...aggregate, ...per_response };
}

// Load shapes as plain k6 scenario objects (pure data, so Node can inspect a plan too).
// Every shape runs the same exported function `measure`; each k6 scenario carries its level in env.
import type { ModelName } from './model-contract.ts';

/** One measured load level: the tag value requests carry and how long it is measured. */
export interface Level {
  /** Value of the `level` tag (a plain number as text, usable in threshold selectors). */
  tag: string;
  value: number;
  /** Seconds of measured load at this level (the denominator of requests/s). */
  duration_s: number;
  /** Seconds since the start of the load scenarios at which this level starts. */
  start_s: number;
  /** mix: the models this level's requests ask for (one stream per model); absent: MODELS (all). */
  models?: readonly ModelName[];
}

/** The subset of k6's scenario options used here (k6's own types are not visible to Node code). */
export interface K6Scenario {
  executor: 'constant-vus' | 'constant-arrival-rate' | 'ramping-arrival-rate' | 'per-vu-iterations';
  exec: string;
  startTime: string;
  gracefulStop: string;
  env: Record<string, string>;
  vus?: number;
  duration?: string;
  iterations?: number;
  maxDuration?: string;
  rate?: number;
  timeUnit?: string;
  preAllocatedVUs?: number;
  maxVUs?: number;
  startRate?: number;
  stages?: { target: number; duration: string }[];
}

type Shape = 'closed' | 'arrival' | 'lanes' | 'staircase' | 'iterations';

interface ShapeOptions {
  gap_s: number;
  maxVus: number;
  /** Closed loop with a fixed VU count (batch) instead of VUs = level; lanes: scheduler VUs per level. */
  vus?: number;
  iterations?: number;
}

const s = (seconds: number): string => `${Math.round(seconds * 1000)}ms`;

/** k6's rate is a whole number per timeUnit: a fractional rate (a mix stream at 0.5/s) is counted per 1000 s. */
export function perSecondRate(r: number): { rate: number; timeUnit: string } {
  return Number.isInteger(r) ? { rate: r, timeUnit: '1s' } : { rate: Math.round(r * 1000), timeUnit: '1000s' };
}

/** One k6 scenario per level (or one staircase for all levels), all executing `measure`. */
export function levelScenarios(shape: Shape, levels: Level[], o: ShapeOptions): Record<string, K6Scenario> {
  // gracefulStop = the gap: in-flight requests may finish before the next level starts, no later.
  const common = (l: Level) => ({ exec: 'measure', startTime: s(l.start_s), gracefulStop: s(o.gap_s), env: { LEVEL: l.tag } });
  switch (shape) {
    case 'closed':
      return Object.fromEntries(levels.map((l) => [`level_${l.tag}`, { ...common(l), executor: 'constant-vus', vus: o.vus ?? l.value, duration: s(l.duration_s) }]));
    case 'arrival':
      return Object.fromEntries(
        levels.map((l) => [
          `level_${l.tag}`,
          { ...common(l), executor: 'constant-arrival-rate', ...perSecondRate(l.value), duration: s(l.duration_s), preAllocatedVUs: Math.min(o.maxVus, Math.max(2, Math.ceil(l.value))), maxVUs: o.maxVus },
        ]),
      );
    case 'lanes':
      // Poisson arrivals (ARRIVALS=poisson): `vus` scheduler lanes run one iteration each, the whole
      // level, firing asynchronous requests at drawn times (lib/arrivals.ts, lib/k6/suite.ts).
      return Object.fromEntries(levels.map((l) => [`level_${l.tag}`, { ...common(l), executor: 'per-vu-iterations', vus: o.vus ?? 1, iterations: 1, maxDuration: s(l.duration_s) }]));
    case 'staircase': {
      // Near-vertical 100 ms ramps then a hold per step; the script derives each request's step
      // from the time since the scenario started (arrival-rate executors cannot tag stages).
      const stages = levels.flatMap((l) => [
        { target: l.value, duration: '100ms' },
        { target: l.value, duration: s(l.duration_s - 0.1) },
      ]);
      const first = levels[0]!;
      return { capacity: { ...common(first), env: { LEVEL: 'staircase' }, executor: 'ramping-arrival-rate', startRate: first.value, timeUnit: '1s', stages, preAllocatedVUs: Math.min(o.maxVus, 4), maxVUs: o.maxVus } };
    }
    case 'iterations':
      return { counted: { ...common(levels[0]!), executor: 'per-vu-iterations', vus: 1, iterations: o.iterations ?? 1, maxDuration: '10m' } };
  }
}

/** The staircase step a request belongs to, from seconds since the scenario started. */
export function stepAt(levels: Level[], elapsed_s: number): Level {
  let current = levels[0]!;
  for (const l of levels) if (elapsed_s >= l.start_s) current = l;
  return current;
}

/**
 * Arrivals an open-loop k6 scenario plans by `elapsed_s` seconds after it started: the integral of
 * its rate (per second), which is what k6's arrival-rate executors schedule iterations by.
 * constant-arrival-rate: rate x elapsed. ramping-arrival-rate: the rate moves linearly from one
 * stage's target to the next over the stage, starting at startRate, so each stage adds a trapezoid;
 * after the last stage, the last target holds. Closed-loop executors plan no arrivals (undefined).
 */
export function plannedArrivals(sc: Pick<K6Scenario, 'executor' | 'rate' | 'startRate' | 'stages' | 'timeUnit'>, elapsed_s: number): number | undefined {
  const perSecond = (r: number) => r / seconds(sc.timeUnit ?? '1s');
  const t = Math.max(0, elapsed_s);
  if (sc.executor === 'constant-arrival-rate') return perSecond(sc.rate ?? 0) * t;
  if (sc.executor !== 'ramping-arrival-rate') return undefined;
  let n = 0;
  let at = 0;
  let from = perSecond(sc.startRate ?? 0);
  for (const st of sc.stages ?? []) {
    const d = seconds(st.duration);
    const to = perSecond(st.target);
    if (t <= at + d) {
      const x = t - at;
      return n + from * x + (d > 0 ? ((to - from) * x * x) / (2 * d) : 0);
    }
    n += ((from + to) / 2) * d;
    at += d;
    from = to;
  }
  return n + from * (t - at);
}

/**
 * Seconds after the scenario's start at which the `k`-th planned arrival (k = 0, 1, ...) is due: the
 * inverse of plannedArrivals (bisection: it only rises). Undefined for closed-loop executors.
 */
export function arrivalTime(sc: Pick<K6Scenario, 'executor' | 'rate' | 'startRate' | 'stages' | 'timeUnit'>, k: number): number | undefined {
  if (plannedArrivals(sc, 0) === undefined) return undefined;
  if (k <= 0) return 0;
  if (sc.executor === 'constant-arrival-rate') return k / ((sc.rate ?? 0) / seconds(sc.timeUnit ?? '1s'));
  let lo = 0;
  let hi = 1;
  while (plannedArrivals(sc, hi)! < k && hi < 1e7) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (plannedArrivals(sc, mid)! < k) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The scheduled start of an iteration that began `elapsed_s` after its scenario started: the last
 * planned arrival at or before that moment, i.e. arrivalTime(floor(plannedArrivals(elapsed_s))).
 * k6 starts an arrival-rate iteration at its tick when a VU is free and drops it otherwise (it never
 * queues one), so the iteration that runs now is the one of the last tick. Not iterationInTest / rate:
 * a dropped arrival takes no iteration number, so after a drop that count falls behind the schedule.
 * (One blind spot: a k6 starved of CPU for more than one period between tick and start is attributed
 * to the later tick, so its lateness is under-counted by whole periods.)
 */
export function scheduledStart(sc: Pick<K6Scenario, 'executor' | 'rate' | 'startRate' | 'stages' | 'timeUnit'>, elapsed_s: number): number | undefined {
  const n = plannedArrivals(sc, elapsed_s);
  if (n === undefined) return undefined;
  // A hair of tolerance: an iteration started exactly on its tick must not round to the one before.
  return arrivalTime(sc, Math.floor(n + 1e-9));
}

/** k6 duration text ("100ms", "1s", "2m", "1h") in seconds. */
function seconds(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`duration ${text}: expected a number with ms, s, m or h`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

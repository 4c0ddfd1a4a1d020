// Load shapes as plain k6 scenario objects (pure data, so Node can inspect a plan too).
// Every shape runs the same exported function `measure`; each k6 scenario carries its level in env.

/** One measured load level: the tag value requests carry and how long it is measured. */
export interface Level {
  /** Value of the `level` tag (a plain number as text, usable in threshold selectors). */
  tag: string;
  value: number;
  /** Seconds of measured load at this level (the denominator of requests/s). */
  duration_s: number;
  /** Seconds since the start of the load scenarios at which this level starts. */
  start_s: number;
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

type Shape = 'closed' | 'arrival' | 'staircase' | 'iterations';

interface ShapeOptions {
  gap_s: number;
  maxVus: number;
  /** Closed loop with a fixed VU count (batch) instead of VUs = level. */
  vus?: number;
  iterations?: number;
}

const s = (seconds: number): string => `${Math.round(seconds * 1000)}ms`;

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
          { ...common(l), executor: 'constant-arrival-rate', rate: l.value, timeUnit: '1s', duration: s(l.duration_s), preAllocatedVUs: Math.min(o.maxVus, Math.max(2, l.value)), maxVUs: o.maxVus },
        ]),
      );
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

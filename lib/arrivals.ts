// Poisson arrivals for the rate scenario (ARRIVALS=poisson): exponential gaps drawn from the suite's
// seeded PRNG (lib/rng.ts), so a run's arrival times are reproducible. Pure TypeScript: the k6
// scheduler lanes (lib/k6/suite.ts) fire at these times, unit tests check their statistics.
import { mulberry32 } from './rng.ts';

/** How arrivals are spaced in the rate scenario: `even` (k6's constant-arrival-rate ticks) or `poisson`. */
export type ArrivalSpacing = 'even' | 'poisson';
export const ARRIVAL_SPACINGS: readonly ArrivalSpacing[] = ['even', 'poisson'];

/** Arrivals per second one scheduler lane fires at most: a busy lane's own answer handling would delay its next send. */
export const LANE_RATE = 50;

/** Scheduler lanes for a Poisson rate: one per LANE_RATE arrivals/s, at most maxVus. */
export function poissonLanes(rate: number, maxVus: number): number {
  return Math.max(1, Math.min(maxVus, Math.ceil(rate / LANE_RATE)));
}

/**
 * Offsets in seconds from the level's start of a Poisson process of `rate` per second, up to
 * `duration_s` (exclusive): gaps -ln(1 - u) / rate with u uniform in [0, 1) from mulberry32(seed).
 * Lanes of rate/L with distinct seeds superpose to a Poisson process of rate (the sum of
 * independent Poisson processes is one).
 */
export function poissonArrivals(rate: number, duration_s: number, seed: number): number[] {
  const next = mulberry32(seed);
  const out: number[] = [];
  if (!(rate > 0)) return out;
  for (let t = -Math.log(1 - next()) / rate; t < duration_s; t += -Math.log(1 - next()) / rate) out.push(t);
  return out;
}

/** The seed of one lane of one level: distinct per lane and level, the same in every run. */
export function laneSeed(lane: number, levelIndex: number): number {
  return 1 + lane + 1000 * levelIndex;
}

/** The arrivals a level's Poisson lanes draw in all (what the summary counts as scheduled). */
export function poissonScheduled(rate: number, duration_s: number, lanes: number, levelIndex: number): number {
  let n = 0;
  for (let lane = 0; lane < lanes; lane++) n += poissonArrivals(rate / lanes, duration_s, laneSeed(lane, levelIndex)).length;
  return n;
}

// The capacity region's search along one mix direction (pure: the probe is passed in, so the search is
// tested on synthetic servers). A direction is a set of model weights (d0:1,d2:1); a total rate r sends
// each model r x its share. The frontier is the highest total rate at which every model stays within
// its SLO. Method: double from START while probes pass (halve while they fail), which brackets the
// frontier between the last passing and the first failing rate; then bisect that bracket geometrically
// until hi / lo <= 1 + PRECISION. A probe that fails ends the climb at once, so no rate above one that
// is clearly over is ever run; the budget cuts the search short and says so.
import type { MixStream } from '../../lib/scenarios.ts';

/** What one probe says of a total rate. */
export interface ProbeOutcome {
  pass: boolean;
  /** Why not, in words (the models over their SLO, the misses); empty when it passed. */
  why: string;
}

export interface SearchOptions {
  start: number;
  max: number;
  /** Lowest rate tried before the direction is called below the search. */
  min: number;
  /** Stop when hi / lo <= 1 + precision. */
  precision: number;
  /** False once the time budget is spent: the search stops where it is. */
  withinBudget: () => boolean;
}

export interface SearchStep {
  total_rps: number;
  pass: boolean;
  why: string;
}

export interface DirectionResult {
  /** Highest total rate that passed (0: none did, down to `min`). */
  lo: number;
  /** Lowest total rate that failed (null: every rate passed up to `max`). */
  hi: number | null;
  /** How the search ended: bracketed within precision, capped at max, below min, or out of budget. */
  end: 'bracketed' | 'max' | 'min' | 'budget';
  steps: SearchStep[];
}

/** A total rate split by the direction's weights, each rate rounded to what MIX takes (3 decimals, at least 0.001). */
export function splitRate(direction: readonly MixStream[], total: number): MixStream[] {
  const sum = direction.reduce((n, s) => n + s.value, 0);
  return direction.map((s) => ({ model: s.model, value: Math.max(0.001, Math.round(((total * s.value) / sum) * 1000) / 1000) }));
}

/** MIX's text for a split: d0:2.5,d2:0.5. */
export const mixText = (streams: readonly MixStream[]): string => streams.map((s) => `${s.model}:${s.value}`).join(',');

/** Searches one direction; `probe(total)` runs the mix at that total rate. */
export async function searchDirection(probe: (total: number) => Promise<ProbeOutcome>, o: SearchOptions): Promise<DirectionResult> {
  const steps: SearchStep[] = [];
  const run = async (total: number): Promise<boolean> => {
    const r = await probe(total);
    steps.push({ total_rps: round(total), pass: r.pass, why: r.why });
    return r.pass;
  };
  let lo = 0;
  let hi: number | null = null;
  let r = o.start;
  // Bracket: climb while passing, descend while failing.
  if (await run(r)) {
    lo = r;
    while (hi === null) {
      if (!o.withinBudget()) return { lo, hi, end: 'budget', steps };
      if (r >= o.max) return { lo, hi: null, end: 'max', steps };
      r = Math.min(o.max, r * 2);
      if (await run(r)) lo = r;
      else hi = r;
    }
  } else {
    hi = r;
    for (;;) {
      if (!o.withinBudget()) return { lo, hi, end: 'budget', steps };
      r /= 2;
      if (r < o.min) return { lo: 0, hi, end: 'min', steps };
      if (await run(r)) {
        lo = r;
        break;
      }
      hi = r;
    }
  }
  // Bisect (geometric: rates span orders of magnitude).
  while (hi / lo > 1 + o.precision) {
    if (!o.withinBudget()) return { lo, hi, end: 'budget', steps };
    const mid = Math.sqrt(lo * hi);
    if (await run(mid)) lo = mid;
    else hi = mid;
  }
  return { lo: round(lo), hi: round(hi), end: 'bracketed', steps };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

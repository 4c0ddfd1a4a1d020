// make tune's search over a space of serving configurations (pure: the measurement is passed in, so
// the search is tested on synthetic cost surfaces). Two strategies share one way of trying a
// configuration: a short probe first, then the full measurement unless the probe is hopeless (a
// constraint clearly broken, an error, or clearly worse than the best feasible so far), so no time is
// spent measuring well what is already known to lose. exhaustive tries the whole grid, the start
// first; quick is Triton Model Analyzer's quick mode: coordinate descent (hill climbing) from the
// shipped defaults, one step up or down on one axis at a time. A journal makes a search resumable:
// every (configuration, stage) already measured is read back instead of measured again, and since the
// search's decisions depend only on the outcomes, a resumed search retraces the interrupted one.
import type { Journal } from './journal.ts';
import type { Dimension, Measure, Outcome, Space, Stage, TuneConfig } from './types.ts';

/** How a search ended: every configuration tried, no neighbour improves, out of time, or at maxConfigs. */
export type SearchEnd = 'converged' | 'exhausted' | 'budget' | 'max_configs';

export interface SearchProgress {
  /** Configurations tried so far, this one included. */
  tried: number;
  /** How many the search will try (the grid's size); null where unknown (quick). */
  total: number | null;
  /** The best feasible outcome so far. */
  best: Outcome | undefined;
  /** Every stage of this configuration came from the journal: nothing was measured for it this time. */
  resumed: boolean;
}

export interface SearchOptions {
  /** False once the time budget is spent: no further measurement starts. */
  withinBudget(): boolean;
  /** Stop after this many configurations tried. */
  maxConfigs?: number;
  /** Measurements already made (reused) and where new ones are appended. */
  journal?: Journal;
  /** Called once per configuration tried, with its final outcome. */
  onOutcome?(o: Outcome, progress: SearchProgress): void;
}

export interface SearchResult {
  /** Every configuration's final outcome, in the order tried. */
  outcomes: Outcome[];
  /** The best feasible outcome (see better()); undefined when none was feasible. */
  best: Outcome | undefined;
  end: SearchEnd;
}

/** A configuration as stable, readable text: its knob=value pairs sorted by knob, joined by spaces. */
export function configKey(c: TuneConfig): string {
  return Object.keys(c)
    .sort()
    .map((k) => `${k}=${c[k]}`)
    .join(' ');
}

/** Refuses a space the search cannot walk: a knob on two axes, an empty axis, a start not among its values. */
export function checkSpace(space: Space): void {
  const seen = new Set<string>();
  for (const d of space.dimensions) {
    if (seen.has(d.knob)) throw new Error(`tune space ${space.stack}: ${d.knob} is on two axes; merge their values into one`);
    seen.add(d.knob);
    if (d.values.length === 0) throw new Error(`tune space ${space.stack}: ${d.knob} has no values; give it at least its start`);
    if (!d.values.includes(d.start)) throw new Error(`tune space ${space.stack}: ${d.knob}'s start ${d.start} is not among its values (${d.values.join(', ')}); add it or pick one of them`);
  }
}

const applies = (d: Dimension, c: TuneConfig): boolean => !d.when || d.when(c);

/**
 * The configuration `partial` stands for in `space`: the fixed knobs, each applicable axis carried
 * (at its start value when `partial` lacks it), each axis whose `when` fails left out. Repeated until
 * nothing changes, since leaving one axis out can make another's `when` fail.
 */
export function complete(space: Space, partial: TuneConfig): TuneConfig {
  const c: Record<string, string> = { ...partial, ...space.fixed };
  for (let round = 0; round <= space.dimensions.length; round++) {
    let changed = false;
    for (const d of space.dimensions) {
      const on = applies(d, c);
      if (on && !(d.knob in c)) (c[d.knob] = d.start), (changed = true);
      else if (!on && d.knob in c) delete c[d.knob], (changed = true);
    }
    if (!changed) break;
  }
  return c;
}

/** Where quick starts: every applicable axis at its start value. */
export const startConfig = (space: Space): TuneConfig => complete(space, Object.fromEntries(space.dimensions.map((d) => [d.knob, d.start])));

/** Every configuration of the grid (the cartesian product, inapplicable axes left out, duplicates removed), in product order. */
export function configsOf(space: Space): TuneConfig[] {
  checkSpace(space);
  let partials: Record<string, string>[] = [{}];
  for (const d of space.dimensions) partials = partials.flatMap((p) => d.values.map((v) => ({ ...p, [d.knob]: v })));
  return unique(partials.map((p) => complete(space, p)));
}

/** The configurations one step up or down on one applicable axis from `c`, or any other value of a categorical one (axes that come or go with the step completed as in complete()). */
export function neighbours(space: Space, c: TuneConfig): TuneConfig[] {
  const here = configKey(c);
  const out: TuneConfig[] = [];
  for (const d of space.dimensions) {
    if (!applies(d, c) || !(d.knob in c)) continue;
    const i = d.values.indexOf(c[d.knob]!);
    const steps = d.categorical ? d.values.map((_, j) => j).filter((j) => j !== i) : [i - 1, i + 1];
    for (const j of steps) if (i >= 0 && j >= 0 && j < d.values.length) out.push(complete(space, { ...c, [d.knob]: d.values[j]! }));
  }
  return unique(out).filter((n) => configKey(n) !== here);
}

const unique = (cs: TuneConfig[]): TuneConfig[] => {
  const seen = new Set<string>();
  return cs.filter((c) => {
    const k = configKey(c);
    return seen.has(k) ? false : (seen.add(k), true);
  });
};

/** Feasible: measured in full, no constraint broken, no error. */
export const feasible = (o: Outcome): boolean => o.violations.length === 0 && o.clear_violations.length === 0 && !o.error && !o.stopped_early;

/** Why a probe is not worth a full measurement (an error, a constraint clearly broken, clearly worse than `best`); null when it is. */
export function hopeless(probe: Outcome, best: Outcome | undefined): string | null {
  if (probe.error) return `failed: ${probe.error}`;
  if (probe.clear_violations.length > 0) return `clearly over: ${probe.clear_violations.join('; ')}`;
  if (best && probe.objective_hi < best.objective_lo)
    return `clearly worse than the best so far (at most ${fmt(probe.objective_hi)} against at least ${fmt(best.objective_lo)} for ${best.key})`;
  return null;
}

const fmt = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x));

/** A figure where lower is better (memory, p99), Infinity where it was not measured. */
const lowerIsBetter = (o: Outcome, figure: string): number => {
  const v = o.figures[figure];
  return typeof v === 'number' ? v : Infinity;
};

/** Peak memories closer than this share count as equal: one configuration's peak moved by 50-90 MB (4 %) between runs here. */
const MEMORY_TOLERANCE = 0.1;

/**
 * Feasible before infeasible, then the higher objective; on an equal objective (an open-loop load that
 * every configuration serves in full gives each the same goodput) the least cost: less peak memory
 * (beyond MEMORY_TOLERANCE), then a lower p99. Negative: `a` ranks above `b`; 0: nothing tells them apart.
 */
function rank(a: Outcome, b: Outcome): number {
  const fa = feasible(a);
  if (fa !== feasible(b)) return fa ? -1 : 1;
  if (a.objective !== b.objective) return b.objective - a.objective;
  const [ma, mb] = [lowerIsBetter(a, 'memory_mb'), lowerIsBetter(b, 'memory_mb')];
  if (ma !== mb && !(Math.abs(ma - mb) <= MEMORY_TOLERANCE * Math.min(ma, mb))) return ma < mb ? -1 : 1;
  const [pa, pb] = [lowerIsBetter(a, 'p99_ms'), lowerIsBetter(b, 'p99_ms')];
  return pa === pb ? 0 : pa < pb ? -1 : 1;
}

/** Ranking for sort(): rank(), then by key (so the order is stable). */
export function compareOutcomes(a: Outcome, b: Outcome): number {
  return rank(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** `a` ranks strictly above `b`: feasible where `b` is not, else a higher objective, else on a tie less memory (beyond MEMORY_TOLERANCE), then a lower p99. */
export const better = (a: Outcome, b: Outcome): boolean => rank(a, b) < 0;

/** One search's state: what was tried, the best so far, and how one configuration is tried. */
class Trial {
  readonly outcomes: Outcome[] = [];
  readonly byKey = new Map<string, Outcome>();
  best: Outcome | undefined;
  /** The budget ran out: a measurement was due and withinBudget() said no. */
  spent = false;
  constructor(
    private readonly space: Space,
    private readonly measure: Measure,
    private readonly o: SearchOptions,
    private readonly total: number | null,
  ) {}

  /** Why the search must stop before trying another configuration; null when it may go on. */
  stop(): SearchEnd | null {
    return this.o.maxConfigs !== undefined && this.outcomes.length >= this.o.maxConfigs ? 'max_configs' : null;
  }

  /** A stage's outcome from the journal, else measured (and journalled); undefined when the budget forbids measuring. */
  private async stage(c: TuneConfig, key: string, stage: Stage): Promise<{ o: Outcome; resumed: boolean } | undefined> {
    const stored = this.o.journal?.lookup(this.space.stack, key, stage);
    if (stored) return { o: stored, resumed: true };
    if (!this.o.withinBudget()) return void (this.spent = true);
    const o = await this.measure(c, stage);
    // The journal is looked up by (stack, key): an outcome filed under another would be measured again on every resume.
    if (o.key !== key || o.stack !== this.space.stack)
      throw new Error(`tune: the measure returned key "${o.key}" (stack ${o.stack}) for "${key}" (stack ${this.space.stack}); set key to configKey(config) and stack to the space's`);
    this.o.journal?.record(o);
    return { o, resumed: false };
  }

  /** Tries `c`: probe, then full unless hopeless. Returns undefined when the budget ran out before its probe. */
  async try(c: TuneConfig): Promise<Outcome | undefined> {
    const key = configKey(c);
    const probe = await this.stage(c, key, 'probe');
    if (!probe) return undefined;
    let final: Outcome;
    let resumed = probe.resumed;
    const why = hopeless(probe.o, this.best);
    if (why) final = { ...probe.o, stopped_early: why };
    else {
      const full = await this.stage(c, key, 'full');
      if (full) (final = full.o), (resumed &&= full.resumed);
      else final = { ...probe.o, stopped_early: 'the time budget ran out after its probe' };
    }
    this.outcomes.push(final);
    this.byKey.set(key, final);
    if (feasible(final) && (!this.best || better(final, this.best))) this.best = final;
    this.o.onOutcome?.(final, { tried: this.outcomes.length, total: this.total, best: this.best, resumed });
    return final;
  }

  result(end: SearchEnd): SearchResult {
    return { outcomes: this.outcomes, best: this.best, end };
  }
}

/** Tries every configuration of the grid, the start configuration first. */
export async function exhaustive(space: Space, measure: Measure, opts: SearchOptions): Promise<SearchResult> {
  const start = configKey(startConfig(space));
  const all = configsOf(space);
  const order = [...all.filter((c) => configKey(c) === start), ...all.filter((c) => configKey(c) !== start)];
  const t = new Trial(space, measure, opts, order.length);
  for (const c of order) {
    const stop = t.stop();
    if (stop) return t.result(stop);
    await t.try(c);
    if (t.spent) return t.result('budget');
  }
  return t.result('exhausted');
}

/**
 * Coordinate descent from the start: measure the current configuration's untried neighbours, move to
 * the best feasible one if it ranks above the current (better(): a higher objective, on a tie the
 * lower cost; any feasible one beats an infeasible current), until none does (converged), the budget
 * is spent or maxConfigs is reached.
 */
export async function quick(space: Space, measure: Measure, opts: SearchOptions): Promise<SearchResult> {
  checkSpace(space);
  const t = new Trial(space, measure, opts, null);
  let current = await t.try(startConfig(space));
  if (!current || t.spent) return t.result('budget');
  // Memory within its tolerance is not an order (a ~ b ~ c yet c ahead of a): never stand on a configuration twice.
  const stoodOn = new Set([current.key]);
  for (;;) {
    let next: Outcome | undefined;
    for (const n of neighbours(space, current.config)) {
      let o = t.byKey.get(configKey(n));
      if (!o) {
        const stop = t.stop();
        if (stop) return t.result(stop);
        o = await t.try(n);
        if (!o || t.spent) return t.result('budget');
      }
      if (feasible(o) && (!next || better(o, next))) next = o;
    }
    if (!next || stoodOn.has(next.key) || (feasible(current) && !better(next, current))) return t.result('converged');
    current = next;
    stoodOn.add(current.key);
  }
}

// The contract between `make tune`'s search (tools/tune/search.ts: pure, tested on synthetic cost
// surfaces) and what measures a configuration (tools/tune/measure.ts: a real server or peer started
// with the configuration's knobs, then the same bench a user runs). The search knows nothing of
// servers: it sees configurations as knob texts and outcomes as an objective with its interval and a
// list of broken constraints.

/** One point of a search space: knob env name -> value as a user types it (WORKERS=2 -> { WORKERS: '2' }). */
export type TuneConfig = Readonly<Record<string, string>>;

/** One axis of a space: a knob and the values it may take, in an order where neighbours are close. */
export interface Dimension {
  knob: string;
  values: readonly string[];
  /** Where the quick search starts on this axis (the shipped default); one of `values`. */
  start: string;
  /** The axis applies only where this holds (BATCHER_MAX_BATCH only for IMPL=batched); elsewhere it is left out of the configuration. */
  when?: (c: TuneConfig) => boolean;
  /** The values have no order (implementations, model sets): every other value is a neighbour, not only the adjacent ones. */
  categorical?: boolean;
}

/** A search space: one stack (our server, Triton) and its axes. */
export interface Space {
  /** 'ours' | 'triton' | ... : the row the configurations belong to. */
  stack: string;
  dimensions: readonly Dimension[];
  /** Knobs every configuration of the space carries unchanged. */
  fixed?: TuneConfig;
}

/** How far a measurement went: a short probe, or the probe then the full measurement. */
export type Stage = 'probe' | 'full';

/** What measuring one configuration gave. */
export interface Outcome {
  /** configKey(config): stable, so a resumed search finds it in the journal. */
  key: string;
  stack: string;
  config: TuneConfig;
  stage: Stage;
  /** The objective (higher is better: goodput or requests/s) and its 95 % interval. */
  objective: number;
  objective_lo: number;
  objective_hi: number;
  /** Constraints broken (p99 over the SLO, accuracy out of bounds, memory over the cap), in words; empty: feasible. */
  violations: string[];
  /** Constraints broken with confidence (the lower end of p99's interval over the SLO, ...): a probe with any is hopeless. */
  clear_violations: string[];
  /** Set when the search stopped it after its probe, and why. */
  stopped_early?: string;
  /** The figures behind it, for the tables and charts (rps, goodput_rps, p99_ms, memory_mb, ...). */
  figures: Record<string, number | string | null>;
  /** The bench run folders it rests on. */
  runDirs: string[];
  elapsed_s: number;
  /** A configuration that could not be measured (server did not start, bench failed): why. Infeasible. */
  error?: string;
}

/** Measures a configuration at a stage; never throws for a configuration that fails (it returns `error`). */
export type Measure = (config: TuneConfig, stage: Stage) => Promise<Outcome>;

// `make report`'s knob registry and its one typed config. Precedence: env, then defaults. The bench knobs it does not
// own (WARMUP, LEVEL_GAP, MAX_IMAGES, EP, MODELS_DIR, BOUNDS_FILE, HOST_BOUNDS ...) reach every run
// through the inherited environment, exactly as with `make bench`.
import { ConfigError, type Env } from '../../lib/env.ts';
import { bool, duration, durationText, int, INVALID, knob, list, oneOf, readKnob, readKnobs, text } from '../../lib/knobs.ts';
import { planFor, SCENARIO_KNOBS, type MixLoop, type MixStream } from '../../lib/scenarios.ts';
import { V2_KNOBS } from '../../lib/v2/config.ts';
import { checkRows } from './rows.ts';
import { protocolNote, readTune, type TuneQuote } from './tuned.ts';

/** shared: one server for the whole session, every implementation loaded in it (the default);
 * fresh: every run starts its own server (make bench without TARGET). */
export const SERVER_MODES = ['shared', 'fresh'] as const;
export type ServerMode = (typeof SERVER_MODES)[number];

export interface ReportConfig {
  /** The rows, `impl` or `impl@label` (tools/report/rows.ts); empty: every implementation the
   * server lists in GET /implementations. */
  impls: string[];
  levels: number[];
  /** LEVELS was given (REUSE then keeps only these levels; otherwise every level found). */
  levelsGiven: boolean;
  /** Measured seconds per level, as given (k6 syntax) and in seconds. */
  duration: string;
  duration_s: number;
  repeats: number;
  /** Run folders (or folders of run folders, or report folders) to gather instead of running. */
  reuse: string[];
  server: ServerMode;
  /** A running server to measure (SERVER=shared only); empty: the report starts one. */
  target: string;
  /** An accuracy pass per implementation before the timed rounds: a short sweep at the highest level
   * with k6's in-run output checks and the sequential replay (make bench's ACCURACY=1); its
   * timings are not used. The timed rounds run with ACCURACY=0, so the k6-side checks (whose cost
   * differs per implementation and shares the CPU) never weigh on a timed figure. ACCURACY=0 skips the pass. */
  accuracy: boolean;
  /** Measured load of the accuracy pass (ACCURACY_DURATION). */
  accuracyDuration: string;
  accuracyDuration_s: number;
  resultsRoot: string;
  /** Seconds between levels in a sweep (the bench's LEVEL_GAP), used for the ETA only. */
  gap_s: number;
  /** MIX given: every run is the bench's SCENARIO=mix with these streams (the report's columns are
   * then its models, not levels); null: a LEVELS sweep. */
  mix: { streams: MixStream[]; loop: MixLoop } | null;
  /** TUNE given: make tune's result, each stack's best a row of its own (tools/report/tuned.ts); its
   * workload is the report's unless LEVELS or MIX is set. */
  tune: TuneQuote | null;
}

export const DEFAULT_LEVELS = [1, 4, 8];

const positiveDuration = (example: string) => ({
  allowed: `a positive duration such as ${example}`,
  parse: (raw: string) => {
    const s = duration.parse(raw);
    return s === INVALID || s <= 0 ? INVALID : s;
  },
});

export const REPORT_KNOBS = {
  impls: knob({
    env: 'IMPL', tier: 'essential', default: [] as string[], defaultText: 'every implementation the server lists', ...list(text('a name'), 'a comma list of implementation names, each optionally name@label'),
    doc: 'the implementations under test, a row each (include `baseline` for speedups); `impl@label` measures impl as a row of its own name, so one implementation can be compared with itself (`invalid@a,invalid@b`)',
  }),
  /** Empty (unset): DEFAULT_LEVELS, or every level found with REUSE. */
  levels: knob({ env: 'LEVELS', tier: 'essential', default: [] as number[], defaultText: DEFAULT_LEVELS.join(','), ...list(int(1), 'a comma list of positive integers such as 1,4,8'), doc: 'concurrency levels of each sweep' }),
  duration_s: knob({ env: 'DURATION', tier: 'essential', default: 30, defaultText: '30s', ...positiveDuration('30s'), doc: 'measured time per level' }),
  repeats: knob({ env: 'REPEATS', tier: 'expert', default: 3, ...int(1, 100), doc: 'rounds' }),
  server: knob<ServerMode>({ env: 'SERVER', tier: 'expert', default: 'shared', ...oneOf(SERVER_MODES), doc: '`shared` or `fresh` (see above); `TARGET` measures a running server' }),
  target: knob({ env: 'TARGET', tier: 'essential', default: '', ...text('http://host:port'), doc: 'a running server to measure (SERVER=shared only)' }),
  accuracy: knob({ env: 'ACCURACY', tier: 'expert', default: true, ...bool, doc: 'the separate accuracy pass' }),
  accuracyDuration_s: knob({ env: 'ACCURACY_DURATION', tier: 'expert', default: 5, defaultText: '5s', ...positiveDuration('5s'), doc: 'measured time per level of the accuracy pass' }),
  reuse: knob({ env: 'REUSE', tier: 'expert', default: [] as string[], ...list(text('a folder'), 'a comma list of run or report folders'), doc: 'run or report folders to rebuild the report from, without measuring' }),
  resultsRoot: knob({ env: 'RESULTS_ROOT', tier: 'expert', default: 'results', ...text('folder'), doc: 'reports go to RESULTS_ROOT/report/' }),
  gap_s: knob({ env: 'LEVEL_GAP', tier: 'expert', default: 5, defaultText: '5s', ...duration, doc: "the bench's LEVEL_GAP, used for the ETA" }),
  // The bench's own parsers (one model check, one error form); unset: a LEVELS sweep.
  mix: knob<MixStream[]>({ ...SCENARIO_KNOBS.mix, default: [], defaultText: '- (a LEVELS sweep)', doc: 'a traffic mix instead of a LEVELS sweep: every run is `make bench SCENARIO=mix` with this MIX (model:req/s, or VUs with MIX_LOOP=closed), and the columns are its models' }),
  mixLoop: knob<MixLoop>({ ...SCENARIO_KNOBS.mixLoop, doc: "with MIX: open (each model's stream at its rate) or closed (its VUs)" }),
  tune: knob({ env: 'TUNE', tier: 'expert', default: '', defaultText: '-', ...text('a results/tune/<timestamp> folder, or latest'), doc: "quote a `make tune` result: each stack's best configuration in its tune.json becomes a row (`<IMPL>@tuned`, `triton-tuned`), its own server started with those knobs, in the same rounds; the tuning's levels or mix unless LEVELS or MIX is set" }),
};

/** MIX as the bench reads it: d0:4,d2:0.5. */
export const mixText = (streams: readonly MixStream[]): string => streams.map((st) => `${st.model}:${st.value}`).join(',');

/** Commas or spaces between items, as the README's examples write them. */
const commas = (env: Env, name: string): Env => (env[name] === undefined ? env : { ...env, [name]: env[name]!.trim().replace(/\s*,\s*/g, ',').replace(/\s+/g, ',') });

export function reportConfig(env: Env): ReportConfig {
  const e = commas(commas(commas(env, 'LEVELS'), 'IMPL'), 'REUSE');
  const k = readKnobs(REPORT_KNOBS, e);
  checkRows(k.impls);
  const target = k.target.replace(/\/+$/, '');
  if (target && k.server === 'fresh') throw new ConfigError(`TARGET=${target} with SERVER=fresh: a fresh server per run cannot use a running one; drop TARGET or use SERVER=shared`);
  const given = k.mix.length > 0 ? { streams: k.mix, loop: k.mixLoop } : null;
  if (given) checkMix(e, given.streams);
  const tune = k.tune ? readTune(k.tune, k.resultsRoot) : null;
  const protocol = tune ? protocolNote(tune, e) : null;
  if (tune && protocol) tune.notes.push(protocol);
  if (tune && k.reuse.length > 0) throw new ConfigError(`TUNE=${k.tune} with REUSE=${k.reuse.join(',')}: REUSE re-renders runs as they were (a tuned row's knobs are in its runs' env.json); drop TUNE`);
  // The tuned rows are servers the report starts with their knobs; a running TARGET is not one.
  if (tune && target) throw new ConfigError(`TUNE=${k.tune} with TARGET=${target}: each tuned row is a server the report starts with the tuned knobs; drop TARGET`);
  // The tuning's workload, unless the user set LEVELS or MIX.
  const tuned = tune?.load && !given && k.levels.length === 0 ? tune.load : null;
  const mix = given ?? (tuned && 'mix' in tuned ? tuned.mix : null);
  // The durations travel to every run as duration strings; the seconds are for the ETA and the report.
  return {
    ...k,
    target,
    levels: k.levels.length > 0 ? k.levels : tuned && 'levels' in tuned ? tuned.levels : DEFAULT_LEVELS,
    levelsGiven: k.levels.length > 0,
    duration: durationText(k.duration_s),
    accuracyDuration: durationText(k.accuracyDuration_s),
    mix,
    tune,
  };
}

/** A mix's refusals up front, each one line, before any server starts: LEVELS beside it, what the
 * bench's mix plan refuses (MIX_LOOP=closed with a fractional rate), and the seed API (every model
 * on each request: no stream of one model). */
function checkMix(env: Env, streams: MixStream[]): void {
  const mix = mixText(streams);
  if (env['LEVELS']?.trim()) throw new ConfigError(`MIX=${mix} with LEVELS=${env['LEVELS']}: a report runs either a traffic mix (its columns the models) or a LEVELS sweep; drop one of them`);
  planFor('mix', { ...env, SCENARIO: 'mix' });
  if (readKnob(V2_KNOBS.protocol, env) === 'seed') throw new ConfigError(`MIX=${mix} with PROTOCOL=seed: the seed API runs every model on each request, so it cannot serve a stream of one model; use PROTOCOL=native or v2`);
}

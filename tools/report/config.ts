// `make report`'s one typed config. Precedence: env, then defaults. The bench knobs it does not
// own (WARMUP, LEVEL_GAP, MAX_IMAGES, EP, MODELS_DIR, BOUNDS_FILE, CALIBRATION ...) reach every run
// through the inherited environment, exactly as with `make bench`.
import { boolEnv, ConfigError, durationEnv, enumEnv, numberEnv, stringEnv, type Env } from '../../lib/env.ts';

/** shared: one server for the whole session, every implementation loaded in it (the default);
 * fresh: every run starts its own server (make bench without TARGET). */
export const SERVER_MODES = ['shared', 'fresh'] as const;
export type ServerMode = (typeof SERVER_MODES)[number];

export interface ReportConfig {
  /** Empty: every implementation the server lists in GET /implementations. */
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
}

export const DEFAULT_LEVELS = [1, 4, 8];

function list(v: string): string[] {
  return v.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

export function reportConfig(env: Env): ReportConfig {
  const levelsRaw = stringEnv(env, 'LEVELS', '');
  const levels = levelsRaw === '' ? DEFAULT_LEVELS : list(levelsRaw).map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n <= 0)) throw new ConfigError(`LEVELS=${levelsRaw} is not valid: expected a comma list of positive integers such as 1,4,8`);
  const duration = stringEnv(env, 'DURATION', '30s');
  const duration_s = durationEnv(env, 'DURATION', '30s');
  if (duration_s <= 0) throw new ConfigError(`DURATION=${duration} is not valid: expected a positive duration such as 30s`);
  const accuracyDuration_s = durationEnv(env, 'ACCURACY_DURATION', '5s');
  if (accuracyDuration_s <= 0) throw new ConfigError(`ACCURACY_DURATION=${env['ACCURACY_DURATION']} is not valid: expected a positive duration such as 5s`);
  const server = enumEnv(env, 'SERVER', SERVER_MODES, 'shared');
  const target = stringEnv(env, 'TARGET', '').replace(/\/+$/, '');
  if (target && server === 'fresh') throw new ConfigError(`TARGET=${target} with SERVER=fresh: a fresh server per run cannot use a running one; drop TARGET or use SERVER=shared`);
  return {
    impls: list(stringEnv(env, 'IMPLS', '')),
    levels,
    levelsGiven: levelsRaw !== '',
    duration,
    duration_s,
    repeats: numberEnv(env, 'REPEATS', 3, { min: 1, max: 100, integer: true }),
    reuse: list(stringEnv(env, 'REUSE', '')),
    server,
    target,
    accuracy: boolEnv(env, 'ACCURACY', true),
    accuracyDuration: stringEnv(env, 'ACCURACY_DURATION', '5s'),
    accuracyDuration_s,
    resultsRoot: stringEnv(env, 'RESULTS_ROOT', 'results'),
    gap_s: durationEnv(env, 'LEVEL_GAP', '5s'),
  };
}

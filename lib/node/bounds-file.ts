// The one reader of BOUNDS_FILE: the checked-in bounds with the file laid over them, validated.
// Used by the bench (k6 thresholds) and the accuracy gates, so both see the same bounds and errors.
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_BOUNDS, mergeBounds, validateBoundsFile, type BoundsFile } from '../bounds.ts';
import { ConfigError } from '../env.ts';
import { knob, text } from '../knobs.ts';

/** Declared here, with its one reader; the bench's registry and the accuracy replay share it. */
export const BOUNDS_FILE_KNOB = knob({ env: 'BOUNDS_FILE', tier: 'expert', default: '', ...text('a JSON file'), doc: 'JSON merged over lib/bounds.defaults.json' });

export function readBoundsFile(path: string | undefined): BoundsFile {
  if (!path) return DEFAULT_BOUNDS;
  if (!existsSync(path)) throw new ConfigError(`BOUNDS_FILE=${path} does not exist: point it at a JSON file shaped like lib/bounds.defaults.json`);
  let over: unknown;
  try {
    over = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`BOUNDS_FILE=${path} is not valid JSON (${(e as Error).message})`);
  }
  return validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, over), `BOUNDS_FILE=${path}`);
}

// Query parameters shared by the inference routes.
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import { HttpError } from './errors.ts';

/** Parses ?models=d0,d2 into MODEL_NAMES order; absent = all. */
export function parseModelsParam(raw: unknown): ModelName[] {
  if (raw === undefined) return [...MODEL_NAMES];
  const text = Array.isArray(raw) ? raw.join(',') : String(raw);
  const asked = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const unknown = asked.filter((s) => !(MODEL_NAMES as readonly string[]).includes(s));
  if (asked.length === 0 || unknown.length > 0) {
    throw new HttpError(
      400,
      'unknown_model',
      `${asked.length === 0 ? 'models= is empty' : `unknown model(s) ${unknown.join(', ')}`}; known models are ${MODEL_NAMES.join(', ')}`,
    );
  }
  return MODEL_NAMES.filter((m) => asked.includes(m));
}

/** ?raw=1 / ?raw=true: also return the raw heads. */
export function parseFlagParam(raw: unknown): boolean {
  return raw === '1' || raw === 'true';
}

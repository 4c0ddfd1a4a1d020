// The Open Inference Protocol knobs, pure TS for both runtimes (k6 client and bench orchestrator):
// PROTOCOL=native|v2 and, with v2, V2_MODELS = pipeline (image bytes to the pipeline model) or a
// list of d0,d1,d2 (each image's prepared tensors to efficientdet-dN, one request per model).
import { ConfigError, enumEnv, stringEnv, type Env } from '../env.ts';
import { MODEL_NAMES, type ModelName } from '../types.ts';

export const PROTOCOLS = ['native', 'v2'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export type V2Models = { kind: 'pipeline' } | { kind: 'models'; models: ModelName[] };

export function protocolEnv(env: Env): Protocol {
  return enumEnv(env, 'PROTOCOL', PROTOCOLS, 'native');
}

export function v2ModelsEnv(env: Env): V2Models {
  const raw = stringEnv(env, 'V2_MODELS', 'pipeline').trim();
  if (raw === 'pipeline') return { kind: 'pipeline' };
  const asked = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = asked.filter((m) => !(MODEL_NAMES as readonly string[]).includes(m));
  if (asked.length === 0 || bad.length > 0) throw new ConfigError(`V2_MODELS=${raw} is not valid: expected pipeline or a comma list of ${MODEL_NAMES.join(', ')}`);
  return { kind: 'models', models: MODEL_NAMES.filter((m) => asked.includes(m)) };
}

/**
 * V2_VERSION: the model version every request asks for, when it is not the IMPL label (Triton's
 * versions are integers: `1`, while IMPL names the row, e.g. triton-instances). Empty: IMPL.
 */
export function v2VersionEnv(env: Env): string {
  const raw = stringEnv(env, 'V2_VERSION', '').trim();
  if (raw !== '' && !/^[\w.-]+$/.test(raw)) throw new ConfigError(`V2_VERSION=${raw} is not valid: expected a model version such as 1 (letters, digits, '.', '-', '_')`);
  return raw;
}

/** v2 model names on the target: efficientdet-d0/-d1/-d2 and pipeline (Triton-style model repository names). */
export const v2ModelName = (model: ModelName | 'pipeline') => (model === 'pipeline' ? 'pipeline' : `efficientdet-${model}`);

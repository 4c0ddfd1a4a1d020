// The bench's inputs for PROTOCOL=v2 with per-model requests (the k6 side is lib/k6/v2.ts): the
// prepared tensors k6 sends with V2_MODELS=d0,d1,d2.
import { resolve } from 'node:path';
import type { V2Models } from '../../lib/v2/config.ts';
import { prepareTensors, tensorsConfig } from '../data/tensors.ts';

/** k6 env for per-model requests: the prepared tensors' manifest (made now if missing or stale). */
export async function v2InputsEnv(v2Models: V2Models, datasetDir: string): Promise<Record<string, string>> {
  if (v2Models.kind !== 'models') return {};
  const manifest = await prepareTensors({ ...tensorsConfig(process.env), datasetDir });
  return { TENSORS_MANIFEST: resolve(manifest) };
}

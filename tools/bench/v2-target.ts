// The bench orchestrator's hooks for PROTOCOL=v2 (the k6 side is lib/k6/v2.ts): the prepared
// tensors k6 sends with V2_MODELS=d0,d1,d2, and readiness of a target that may speak only v2
// (Triton, KServe, MLServer: no /health, no native API, so no accuracy replay there).
import { resolve } from 'node:path';
import type { HealthResponse } from '../../lib/types.ts';
import type { V2Models } from '../../lib/v2/config.ts';
import { prepareTensors, tensorsConfig } from '../data/tensors.ts';
import { BenchError } from './progress.ts';
import { getJson } from '../../lib/node/server-api.ts';
import { waitReady } from './server.ts';

export interface TargetProbe {
  health: HealthResponse;
  /** The target also speaks the native API (/health, /implementations, /infer/:impl). */
  native: boolean;
}

/** k6 env for per-model requests: the prepared tensors' manifest (made now if missing or stale). */
export async function v2InputsEnv(v2Models: V2Models, datasetDir: string): Promise<Record<string, string>> {
  if (v2Models.kind !== 'models') return {};
  const manifest = await prepareTensors({ ...tensorsConfig(process.env), datasetDir });
  return { TENSORS_MANIFEST: resolve(manifest) };
}

/** Ready over v2: our server (its /health too) or any v2 server, whose versions stand for IMPL. */
export async function waitReadyV2(target: string, timeout_s: number, model: string): Promise<TargetProbe> {
  const native = await getJson<HealthResponse>(`${target}/health`, 2000).then(() => true, () => false);
  if (native) return { health: await waitReady(target, timeout_s), native };
  const deadline = Date.now() + timeout_s * 1000;
  for (;;) {
    const ready = await fetch(`${target}/v2/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (ready === 200) break;
    if (Date.now() > deadline) throw new BenchError(`${target} not ready over v2 after ${timeout_s}s (GET /v2/health/ready: ${ready || 'no answer'}): check the target, or raise READY_TIMEOUT`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const server = await getJson<{ version?: string }>(`${target}/v2`).catch(() => ({ version: 'unknown' }));
  const meta = await getJson<{ versions?: string[] }>(`${target}/v2/models/${model}`).catch((e: Error) => {
    throw new BenchError(`${target} does not serve model ${model} over v2 (${e.message})`);
  });
  return {
    health: { status: 'ok', ready: true, ep: 'unknown', models: [], implementations: meta.versions ?? [], uptime_s: 0, version: server.version ?? 'unknown' },
    native: false,
  };
}

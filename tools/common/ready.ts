// The one readiness poller of the tools: a probe asked every interval until it says done or the
// deadline passes, then one line naming what was last seen and the knob that waits longer. Our
// server's /health, a v2 server's /v2/health/ready, the seed API's /health, TorchServe's /ping and the harness's drained
// queue all wait through it.
import type { HealthResponse } from '../../lib/types.ts';
import { getJson } from '../../lib/node/server-api.ts';
import { BenchError } from './progress.ts';
import { seedHealth, seedReady } from '../../lib/seed.ts';

type Probe<T> = { done: true; value: T } | { done: false; last: string };

/** Asks `probe` every `interval_ms` until done; past `timeout_s`, throws `onTimeout(last seen)`. */
export async function pollUntil<T>(o: { timeout_s: number; interval_ms: number; probe: () => Promise<Probe<T>>; onTimeout: (last: string) => Error }): Promise<T> {
  const deadline = Date.now() + o.timeout_s * 1000;
  for (;;) {
    const r = await o.probe();
    if (r.done) return r.value;
    if (Date.now() > deadline) throw o.onTimeout(r.last);
    await new Promise((res) => setTimeout(res, o.interval_ms));
  }
}

/** Polls /health until ready; `alive` throws when the process we wait on has died. */
export function waitReady(url: string, timeout_s: number, alive: () => void = () => {}): Promise<HealthResponse> {
  return pollUntil({
    timeout_s,
    interval_ms: 250,
    probe: async () => {
      alive();
      try {
        const health = await getJson<HealthResponse>(`${url}/health`, 2000);
        return health.ready ? { done: true, value: health } : { done: false, last: `status ${health.status}` };
      } catch (e) {
        return { done: false, last: (e as Error).message };
      }
    },
    onTimeout: (last) => new BenchError(`${url} not ready after ${timeout_s}s (${last}): check the server log, or raise READY_TIMEOUT`),
  });
}

interface TargetProbe {
  health: HealthResponse;
  /** The target also speaks the native API (/health, /implementations, /infer/:impl). */
  native: boolean;
}

/** Ready over v2: our server (its /health too) or any v2 server (Triton, KServe, MLServer: no
 * /health, no native API), whose model versions stand for IMPL. */
export async function waitReadyV2(target: string, timeout_s: number, model: string): Promise<TargetProbe> {
  const native = await getJson<HealthResponse>(`${target}/health`, 2000).then(() => true, () => false);
  if (native) return { health: await waitReady(target, timeout_s), native };
  await pollUntil({
    timeout_s,
    interval_ms: 500,
    probe: async () => {
      const status = await fetch(`${target}/v2/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
      return status === 200 ? { done: true, value: undefined } : { done: false, last: String(status || 'no answer') };
    },
    onTimeout: (last) => new BenchError(`${target} not ready over v2 after ${timeout_s}s (GET /v2/health/ready: ${last}): check the target, or raise READY_TIMEOUT`),
  });
  const server = await getJson<{ version?: string }>(`${target}/v2`).catch(() => ({ version: 'unknown' }));
  const meta = await getJson<{ versions?: string[] }>(`${target}/v2/models/${model}`).catch((e: Error) => {
    throw new BenchError(`${target} does not serve model ${model} over v2 (${e.message})`);
  });
  return {
    health: { status: 'ok', ready: true, ep: 'unknown', models: [], implementations: meta.versions ?? [], uptime_s: 0, version: server.version ?? 'unknown' },
    native: false,
  };
}

/** Ready over the seed API (PROTOCOL=seed): its /health says status healthy and models_loaded true
 * (it has no `ready` field); the implementations are its own list when it gives one, else IMPL. */
export function waitReadySeed(target: string, timeout_s: number, impls: readonly string[]): Promise<HealthResponse> {
  return pollUntil({
    timeout_s,
    interval_ms: 250,
    probe: async () => {
      try {
        const json = await getJson<unknown>(`${target}/health`, 2000);
        const r = seedReady(json);
        if (!r.ready) return { done: false, last: r.why };
        const health = seedHealth(json, impls);
        if (health.implementations.includes('all')) throw new BenchError(`IMPL=all: ${target}/health lists no implementations (the seed API need not): name them, e.g. IMPL=baseline,invalid`);
        return { done: true, value: health };
      } catch (e) {
        if (e instanceof BenchError) throw e;
        return { done: false, last: (e as Error).message };
      }
    },
    onTimeout: (last) => new BenchError(`${target} (seed API) not ready after ${timeout_s}s (${last}): check the target, or raise READY_TIMEOUT`),
  });
}

/** Ready over TorchServe's inference API (PROTOCOL=torchserve): GET /ping says Healthy (every model
 * has its minimum of workers); it has no implementations, so IMPL's labels stand for them. */
export function waitReadyTorchServe(target: string, timeout_s: number, impls: readonly string[]): Promise<HealthResponse> {
  return pollUntil({
    timeout_s,
    interval_ms: 250,
    probe: async () => {
      try {
        const ping = await getJson<{ status?: string }>(`${target}/ping`, 2000);
        return ping.status === 'Healthy'
          ? { done: true, value: { status: 'ok', ready: true, ep: 'unknown', models: [], implementations: [...impls], uptime_s: 0, version: 'torchserve' } }
          : { done: false, last: `status ${ping.status}` };
      } catch (e) {
        return { done: false, last: (e as Error).message };
      }
    },
    onTimeout: (last) => new BenchError(`${target} (TorchServe) not healthy after ${timeout_s}s (GET /ping: ${last}): check the target ('make torchserve'), or raise READY_TIMEOUT`),
  });
}

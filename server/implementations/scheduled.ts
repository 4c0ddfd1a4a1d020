// The shared body of the implementations that run on the per-model scheduler (concurrent, batched):
// their own pool of PARALLEL_WORKERS workers with PARALLEL_THREADS intra-op threads per session.
// They differ only in how the scheduler forms batches. Not registered itself.
import { sessionSettings, startWorkerPool } from '../runtime/context.ts';
import { ModelScheduler } from '../runtime/model-scheduler.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import type { Implementation, ImplementationContext } from './types.ts';

export interface ScheduledSpec {
  name: string;
  description: string;
  /** Most images of one model per session.run (1 = no batching). */
  maxBatch: number;
  /** How long a free worker waits for a batch to fill. */
  maxDelayUs: number;
}

export function scheduledImplementation(context: ImplementationContext, spec: ScheduledSpec): Implementation {
  const { config } = context;
  let pool: WorkerPool | undefined;
  let scheduler: ModelScheduler | undefined;
  return {
    name: spec.name,
    description: spec.description,
    lossless: true,
    async load() {
      pool = await startWorkerPool(config, {
        size: config.parallelWorkers,
        models: [...context.models],
        session: { ...sessionSettings(config), intraOpThreads: config.parallelThreads },
        log: context.log,
      });
      scheduler = new ModelScheduler(pool, { maxBatch: spec.maxBatch, maxDelayUs: spec.maxDelayUs });
    },
    infer(images, options) {
      if (!scheduler) return Promise.reject(new Error(`${spec.name}: infer() before load()`));
      return scheduler.infer(images, options.models, options.rawHeads ?? false);
    },
    pendingRequests() {
      return scheduler?.pending ?? 0;
    },
    async close() {
      scheduler?.close();
      await pool?.close();
      scheduler = undefined;
      pool = undefined;
    },
  };
}

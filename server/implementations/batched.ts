// Dynamic batching per model, like Triton's dynamic batcher: each model has a queue; when a worker is
// free, waiting requests of one model (up to BATCH_MAX_SIZE images, waiting at most BATCH_MAX_DELAY_US
// for more while a worker idles) run as ONE session.run with N > 1, and each request gets its own
// rows back. Same pool as `concurrent` (PARALLEL_WORKERS x PARALLEL_THREADS). On this CPU a batch of 4
// costs 5-15% more per image than batch 1: batching is the GPU strategy, kept correct and measured here.
import { sessionSettings, startWorkerPool } from '../runtime/context.ts';
import { ModelScheduler } from '../runtime/model-scheduler.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import type { ImplementationFactory } from './types.ts';

export const createBatched: ImplementationFactory = (context) => {
  const { config } = context;
  let pool: WorkerPool | undefined;
  let scheduler: ModelScheduler | undefined;
  return {
    name: 'batched',
    description:
      `Dynamic batching per model (Triton-style): up to ${config.batchMaxSize} images per session.run, ` +
      `max queue delay ${config.batchMaxDelayUs} us, on ${config.parallelWorkers} worker(s); each request gets its own results.`,
    lossless: true,
    async load() {
      pool = await startWorkerPool(config, {
        size: config.parallelWorkers,
        models: [...context.models],
        session: { ...sessionSettings(config), intraOpThreads: config.parallelThreads },
        log: context.log,
      });
      scheduler = new ModelScheduler(pool, { maxBatch: config.batchMaxSize, maxDelayUs: config.batchMaxDelayUs });
    },
    infer(images, options) {
      if (!scheduler) return Promise.reject(new Error('batched: infer() before load()'));
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
};

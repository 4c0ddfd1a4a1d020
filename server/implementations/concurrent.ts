// No global serialisation: every model of every request is a job on a bounded pool of workers
// (PARALLEL_WORKERS, each with its own sessions, PARALLEL_THREADS intra-op threads per session).
// Jobs start oldest first, the largest model of a request first, so at low load one request's
// models run side by side on different workers and at high load every worker stays busy.
import { sessionSettings, startWorkerPool } from '../runtime/context.ts';
import { ModelScheduler } from '../runtime/model-scheduler.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import type { ImplementationFactory } from './types.ts';

export const createConcurrent: ImplementationFactory = (context) => {
  const { config } = context;
  let pool: WorkerPool | undefined;
  let scheduler: ModelScheduler | undefined;
  return {
    name: 'concurrent',
    description:
      `Requests run concurrently, no global lock: each model of each request is a job on ${config.parallelWorkers} worker(s) ` +
      `with their own sessions (${config.parallelThreads || 'default'} intra-op thread(s) each), oldest job first.`,
    lossless: true,
    async load() {
      pool = await startWorkerPool(config, {
        size: config.parallelWorkers,
        models: [...context.models],
        session: { ...sessionSettings(config), intraOpThreads: config.parallelThreads },
        log: context.log,
      });
      // No batching: one request's images per run, as soon as a worker is free.
      scheduler = new ModelScheduler(pool, { maxBatch: 1, maxDelayUs: 0 });
    },
    infer(images, options) {
      if (!scheduler) return Promise.reject(new Error('concurrent: infer() before load()'));
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

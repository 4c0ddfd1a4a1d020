// No global serialisation: every model of every request is a job on a bounded pool of workers
// (PARALLEL_WORKERS, each with its own sessions, PARALLEL_THREADS intra-op threads per session).
// Jobs start oldest first, the largest model of a request first, so at low load one request's
// models run side by side on different workers and at high load every worker stays busy.
import { scheduledImplementation } from './scheduled.ts';
import type { ImplementationFactory } from './types.ts';

export const createConcurrent: ImplementationFactory = (context) =>
  scheduledImplementation(context, {
    name: 'concurrent',
    description:
      `Requests run concurrently, no global lock: each model of each request is a job on ${context.config.parallelWorkers} worker(s) ` +
      `with their own sessions (${context.config.parallelThreads || 'default'} intra-op thread(s) each), oldest job first.`,
    // No batching: one request's images per run, as soon as a worker is free.
    maxBatch: 1,
    maxDelayUs: 0,
  });

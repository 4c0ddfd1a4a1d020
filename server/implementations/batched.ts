// Dynamic batching per model, like Triton's dynamic batcher: each model has a queue; when a worker is
// free, waiting requests of one model (up to BATCHER_MAX_BATCH images, waiting at most BATCHER_MAX_DELAY
// for more while a worker idles) run as ONE session.run with N > 1, and each request gets its own
// rows back. Same pool as `concurrent` (PARALLEL_WORKERS x PARALLEL_THREADS). On a CPU a batch costs
// more per image than single runs (the cores are busy either way): batching is the GPU strategy, kept
// correct and measured here.
import { scheduledImplementation } from './scheduled.ts';
import type { ImplementationFactory } from './types.ts';

export const createBatched: ImplementationFactory = (context) => {
  const { config } = context;
  return scheduledImplementation(context, {
    name: 'batched',
    description:
      `Dynamic batching per model (Triton-style): up to ${config.batcherMaxBatch} images per session.run, ` +
      `max queue delay ${config.batcherMaxDelayUs} us, on ${config.parallelWorkers} worker(s); each request gets its own results.`,
    maxBatch: config.batcherMaxBatch,
    maxDelayUs: config.batcherMaxDelayUs,
  });
};

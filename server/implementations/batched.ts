// Dynamic batching per model, like Triton's dynamic batcher: each model has a queue; when a worker is
// free, waiting requests of one model (up to BATCH_MAX_SIZE images, waiting at most BATCH_MAX_DELAY_US
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
      `Dynamic batching per model (Triton-style): up to ${config.batchMaxSize} images per session.run, ` +
      `max queue delay ${config.batchMaxDelayUs} us, on ${config.parallelWorkers} worker(s); each request gets its own results.`,
    maxBatch: config.batchMaxSize,
    maxDelayUs: config.batchMaxDelayUs,
  });
};

// The reference design: one request at a time for the whole server, D0 then D1 then D2, each on
// its own session, on the shared pool (WORKERS, default 1). Every other implementation is measured
// (and checked) against it.
import type { DecodedImage, InferOptions, InferOutcome } from '../runtime/infer-types.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import { QueuePolicy, queueSettings } from '../runtime/queue-policy.ts';
import { outcomeFromRuns } from '../runtime/run-results.ts';
import { SerialQueue } from '../runtime/serial-queue.ts';
import type { ImplementationFactory } from './types.ts';

export const createBaseline: ImplementationFactory = (context) => {
  // One request executes at a time: the queue bound counts from one slot.
  const policy = new QueuePolicy('baseline', queueSettings(context.config, 1));
  const serial = new SerialQueue(policy);
  let pool: WorkerPool | undefined;
  return {
    name: 'baseline',
    description: 'Reference: one request at a time server-wide, D0 then D1 then D2 on separate sessions of the shared worker pool.',
    lossless: true,
    async load() {
      pool = await context.pool();
    },
    infer(images, options) {
      const p = pool;
      if (!p) return Promise.reject(new Error('baseline: infer() before load()'));
      return inferSerially(serial, p, images, options);
    },
    queueSettings: policy.settings,
    refuseIfFull: () => policy.refuseIfFull(),
    pendingRequests() {
      return policy.queued;
    },
    async close() {
      // The shared pool belongs to the runtime, which closes it.
      pool = undefined;
    },
  };
};

/** Baseline's discipline: one request at a time through `serial`, all its models on one pool worker. */
function inferSerially(serial: SerialQueue, pool: WorkerPool, images: DecodedImage[], options: InferOptions): Promise<InferOutcome> {
  return serial.run(async () => {
    // Its wait for the lock and for the worker shows as the gap before its job (request-split.ts).
    const { runs, spans } = await pool.run(images, options.models, options.rawHeads ?? false);
    return outcomeFromRuns(images.length, runs, spans.map((s) => ({ ...s, models: options.models })));
  });
}

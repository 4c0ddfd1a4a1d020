// The shared body of the implementations that run on the per-model scheduler (concurrent, batched,
// int8): their own pool of PARALLEL_WORKERS workers with PARALLEL_THREADS intra-op threads per session.
// They differ only in how the scheduler forms batches and in which model files they load. Not
// registered itself.
import { sessionSettings, startWorkerPool } from '../runtime/context.ts';
import { ModelScheduler } from '../runtime/model-scheduler.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import { QueuePolicy, queueSettings } from '../runtime/queue-policy.ts';
import type { ModelInfo } from '../runtime/protocol.ts';
import type { Implementation, ImplementationContext } from './types.ts';

interface ScheduledSpec {
  name: string;
  description: string;
  /** Most images of one model per session.run (1 = no batching). */
  maxBatch: number;
  /** How long a free worker waits for a batch to fill. */
  maxDelayUs: number;
  /** Default true: answers equal baseline's. A lossy one declares bounds in lib/bounds.defaults.json. */
  lossless?: boolean;
  /**
   * The model files to load (default: the float models of the server). Resolving to `{ unavailable }` means
   * "not available here" (the implementation then refuses requests with `unavailable`'s message).
   */
  models?: () => Promise<ModelInfo[] | { unavailable: string }>;
}

export function scheduledImplementation(context: ImplementationContext, spec: ScheduledSpec): Implementation {
  const { config } = context;
  let pool: WorkerPool | undefined;
  let scheduler: ModelScheduler | undefined;
  let unavailable: string | undefined;
  // A request executes on a worker at a time (its models one after another, batched or not).
  const policy = new QueuePolicy(spec.name, queueSettings(config, config.parallelWorkers));
  return {
    name: spec.name,
    description: spec.description,
    lossless: spec.lossless ?? true,
    async load() {
      const models = spec.models ? await spec.models() : [...context.models];
      if (!Array.isArray(models)) {
        unavailable = models.unavailable;
        return;
      }
      pool = await startWorkerPool(config, {
        size: config.parallelWorkers,
        // SESSION_MAX_BATCH=auto never splits the batches this implementation forms itself.
        autoFloor: spec.maxBatch,
        models,
        session: { ...sessionSettings(config), intraOpThreads: config.parallelThreads },
        log: context.log,
      });
      scheduler = new ModelScheduler(pool, { maxBatch: spec.maxBatch, maxDelayUs: spec.maxDelayUs, policy });
    },
    infer(images, options) {
      if (!scheduler) return Promise.reject(new Error(unavailable ?? `${spec.name}: infer() before load()`));
      return scheduler.infer(images, options.models, options.rawHeads ?? false);
    },
    queueSettings: policy.settings,
    refuseIfFull: () => policy.refuseIfFull(),
    pendingRequests() {
      return policy.queued;
    },
    async close() {
      scheduler?.close();
      await pool?.close();
      scheduler = undefined;
      pool = undefined;
    },
  };
}

// Per-model isolation, like Triton's instance groups: each model has its own workers (INSTANCES, e.g.
// d0:1,d1:1,d2:2; each worker loads that model's session only) and its own queue with its own bound
// (QUEUE_MAX_SIZE per model; auto = 8 per worker of that model). A flood on D2 fills D2's queue and is
// refused there (503 queue_full naming d2) while D0's requests keep their own worker and queue: no
// model waits behind another's runs. The cores are shared between the models' threads by the OS, so
// each model's share is its number of workers. A request asking several models (?models=d0,d2, or
// all) becomes one job per model, each in its model's queue, joined into one answer as concurrent does.
// The per-model queue and worker pool are the ones concurrent uses (ModelScheduler, WorkerPool).
import type { ModelName } from '../../lib/types.ts';
import { formatModelCounts } from '../../lib/model-counts.ts';
import { sessionSettings, startWorkerPool } from '../runtime/context.ts';
import type { ImageDetections, InferOutcome } from '../runtime/infer-types.ts';
import { ModelScheduler } from '../runtime/model-scheduler.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import { QueuePolicy, queueSettings } from '../runtime/queue-policy.ts';
import type { ImplementationFactory } from './types.ts';

/** One model's own workers, queue and queue bound. */
interface Lane {
  policy: QueuePolicy;
  pool?: WorkerPool;
  scheduler?: ModelScheduler;
}

export const createIsolated: ImplementationFactory = (context) => {
  const { config } = context;
  const instances = Object.fromEntries(context.models.map((m) => [m.name, config.instances[m.name] ?? 1])) as Record<ModelName, number>;
  const lanes = new Map<ModelName, Lane>(
    context.models.map((m) => [m.name, { policy: new QueuePolicy(`isolated (${m.name})`, queueSettings(config, instances[m.name])) }]),
  );
  const lane = (model: ModelName): Lane => {
    const l = lanes.get(model);
    if (!l) throw new Error(`isolated: no model '${model}' is loaded`);
    return l;
  };
  const all = [...lanes.values()].map((l) => l.policy.settings);
  return {
    name: 'isolated',
    description:
      `Each model has its own workers and its own queue (INSTANCES=${formatModelCounts(instances)}, ${config.parallelThreads || 'default'} intra-op thread(s) each), ` +
      'bounded per model: a flood on one model is refused at its own queue and never waits for, or delays, another model.',
    lossless: true,
    async load() {
      // Each model's pool loads only that model's sessions; they load side by side.
      const started = await Promise.allSettled(
        context.models.map((info) =>
          startWorkerPool(config, {
            size: instances[info.name],
            models: [info],
            session: { ...sessionSettings(config), intraOpThreads: config.parallelThreads },
            log: context.log,
          }),
        ),
      );
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) {
        await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
        throw failed.reason;
      }
      context.models.forEach((info, i) => {
        const l = lane(info.name);
        l.pool = (started[i] as PromiseFulfilledResult<WorkerPool>).value;
        l.scheduler = new ModelScheduler(l.pool, { maxBatch: 1, maxDelayUs: 0, policy: l.policy });
      });
    },
    async infer(images, options) {
      const models = options.models;
      // Admission is all or nothing: every asked queue is checked before any is entered (both here,
      // in one synchronous step, so no other request slips in between).
      for (const m of models) lane(m).policy.refuseIfFull();
      const parts = models.map((m) => {
        const scheduler = lane(m).scheduler;
        if (!scheduler) return Promise.reject(new Error('isolated: infer() before load()'));
        return scheduler.infer(images, [m], options.rawHeads ?? false);
      });
      return joinOutcomes(images.length, await Promise.all(parts));
    },
    // For /health: the bounds of all models' queues together (each model's bound is its own).
    queueSettings: { maxQueueSize: all.some((s) => s.maxQueueSize === 0) ? 0 : all.reduce((n, s) => n + s.maxQueueSize, 0), timeoutUs: config.queueTimeoutUs },
    refuseIfFull(models) {
      for (const m of models ?? [...lanes.keys()]) lanes.get(m)?.policy.refuseIfFull();
    },
    pendingRequests() {
      let n = 0;
      for (const l of lanes.values()) n += l.policy.queued;
      return n;
    },
    pendingByModel() {
      return Object.fromEntries([...lanes].map(([m, l]) => [m, l.policy.queued]));
    },
    async close() {
      for (const l of lanes.values()) l.scheduler?.close();
      await Promise.all([...lanes.values()].map((l) => l.pool?.close()));
      for (const l of lanes.values()) {
        l.scheduler = undefined;
        l.pool = undefined;
      }
    },
  };
};

/** One answer from the per-model answers of one request (each holds one model for every image). */
function joinOutcomes(imageCount: number, parts: InferOutcome[]): InferOutcome {
  const images: ImageDetections[] = Array.from({ length: imageCount }, () => ({ models: {} }));
  for (const p of parts) p.images.forEach((img, i) => Object.assign(images[i]!.models, img.models));
  return {
    images,
    preprocess_ms: parts.reduce((s, p) => s + p.preprocess_ms, 0),
    infer_ms: parts.reduce((s, p) => s + p.infer_ms, 0),
    jobs: parts.flatMap((p) => p.jobs),
    executions: parts.flatMap((p) => p.executions),
  };
}

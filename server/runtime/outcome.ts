// Turns per-model worker runs into the InferOutcome every implementation returns.
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import type { DecodedImage, Execution, ImageDetections, InferOptions, InferOutcome, RawHeads } from '../implementations/types.ts';
import type { WorkerPool } from './pool.ts';
import type { ModelRun } from './protocol.ts';
import type { QueuePolicy, QueueRefusal, QueueTicket } from './queue-policy.ts';

/** Regroups runs (per model, per image) into per image, per model; sums preprocess and infer times. */
export function outcomeFromRuns(imageCount: number, runs: ModelRun[], queue_ms: number): InferOutcome {
  const images: ImageDetections[] = Array.from({ length: imageCount }, () => ({ models: {} }));
  const executions: Execution[] = [];
  let preprocess_ms = 0;
  let infer_ms = 0;
  const counted = new Set<number>();
  for (const run of runs) {
    preprocess_ms += run.preprocess_ms;
    // Models that ran in one session.run (stacked graph) share it: its time and execution count once.
    if (run.sharedRun === undefined) {
      infer_ms += run.infer_ms;
      executions.push(...executionsOf(run, run.name, imageCount));
    } else if (!counted.has(run.sharedRun)) {
      counted.add(run.sharedRun);
      infer_ms += run.infer_ms;
      executions.push(...executionsOf(run, 'stacked', imageCount));
    }
    addModelRows(images, run.name, run.detections, run.raw);
  }
  return { images, preprocess_ms, queue_ms, infer_ms, executions };
}

/** The one regrouping: one model's rows (per image, raw heads when present) into the per-image outcome. */
export function addModelRows(images: ImageDetections[], model: ModelName, detections: readonly ModelDetections[], raw?: readonly RawHeads[]): void {
  detections.forEach((det, i) => {
    const heads = raw?.[i];
    images[i]!.models[model] = heads ? { ...det, raw: heads } : det;
  });
}

/** The session runs behind one model's run: one of all the images, or one per chunk the pool split it into. */
export function executionsOf(run: ModelRun, model: Execution['model'], imageCount: number): Execution[] {
  const batches = run.batches ?? [imageCount];
  // A split run's time is known as a sum: each chunk is booked its share by images.
  return batches.map((b) => ({ model, batch_size: b, infer_ms: (run.infer_ms * b) / imageCount }));
}

/**
 * Runs one task at a time, in arrival order; reports how long each waited for its turn. With a queue
 * policy, a task over its bound is refused at once and one that times out in the queue is failed at
 * its deadline and skipped when its turn comes.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waitingCount = 0;

  constructor(private readonly policy?: QueuePolicy) {}

  /** Tasks queued behind the running one. */
  get waiting(): number {
    return this.waitingCount;
  }

  run<T>(task: (waited_ms: number) => Promise<T>): Promise<T> {
    const queuedAt = performance.now();
    let refuse: (e: QueueRefusal) => void = () => {};
    const refused = new Promise<never>((_resolve, reject) => (refuse = reject));
    let ticket: QueueTicket | undefined;
    try {
      ticket = this.policy?.admit((r) => refuse(r));
    } catch (err) {
      return Promise.reject(err);
    }
    this.waitingCount++;
    const result = this.tail.then(() => {
      this.waitingCount--;
      // Timed out while waiting: its caller already has the refusal; run nothing.
      if (ticket && !ticket.start()) return undefined as T;
      return task(performance.now() - queuedAt);
    });
    this.tail = result.catch(() => undefined);
    return ticket ? Promise.race([result, refused]) : result;
  }
}

/** Baseline's discipline: one request at a time through `serial`, all its models on one pool worker. */
export function inferSerially(serial: SerialQueue, pool: WorkerPool, images: DecodedImage[], options: InferOptions): Promise<InferOutcome> {
  return serial.run(async (waited) => {
    const { runs, queue_ms } = await pool.run(images, options.models, options.rawHeads ?? false);
    return outcomeFromRuns(images.length, runs, waited + queue_ms);
  });
}

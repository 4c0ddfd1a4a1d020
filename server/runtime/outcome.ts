// Turns per-model worker runs into the InferOutcome every implementation returns.
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import type { DecodedImage, Execution, ImageDetections, InferOptions, InferOutcome, RawHeads } from '../implementations/types.ts';
import type { WorkerPool } from './pool.ts';
import type { ModelRun } from './protocol.ts';

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
      executions.push({ model: run.name, batch_size: imageCount, infer_ms: run.infer_ms });
    } else if (!counted.has(run.sharedRun)) {
      counted.add(run.sharedRun);
      infer_ms += run.infer_ms;
      executions.push({ model: 'stacked', batch_size: imageCount, infer_ms: run.infer_ms });
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

/** Runs one task at a time, in arrival order; reports how long each waited for its turn. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waitingCount = 0;

  /** Tasks queued behind the running one. */
  get waiting(): number {
    return this.waitingCount;
  }

  run<T>(task: (waited_ms: number) => Promise<T>): Promise<T> {
    const queuedAt = performance.now();
    this.waitingCount++;
    const result = this.tail.then(() => {
      this.waitingCount--;
      return task(performance.now() - queuedAt);
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Baseline's discipline: one request at a time through `serial`, all its models on one pool worker. */
export function inferSerially(serial: SerialQueue, pool: WorkerPool, images: DecodedImage[], options: InferOptions): Promise<InferOutcome> {
  return serial.run(async (waited) => {
    const { runs, queue_ms } = await pool.run(images, options.models, options.rawHeads ?? false);
    return outcomeFromRuns(images.length, runs, waited + queue_ms);
  });
}

// The results of worker runs (one ModelRun per model) regrouped into the InferOutcome every
// implementation returns: detections per image per model, summed times, the session runs booked, the jobs.
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import type { Execution, ImageDetections, InferOutcome, JobSpan, RawHeads } from './infer-types.ts';
import type { ModelRun } from './protocol.ts';

/** Regroups runs (per model, per image) into per image, per model; sums preprocess and infer times. */
export function outcomeFromRuns(imageCount: number, runs: ModelRun[], jobs: JobSpan[]): InferOutcome {
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
  return { images, preprocess_ms, infer_ms, executions, jobs };
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

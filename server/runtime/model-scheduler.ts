// Per-model scheduling onto a worker pool, as Triton's dynamic batcher does: each request puts one
// entry per requested model into that model's queue; whenever a worker is free, the queue whose head
// waited longest forms a batch of waiting entries (up to maxBatch images) and runs it as ONE
// session.run; every entry gets its own images' rows back. maxBatch 1 = no batching: each model of
// each request runs on its own as soon as a worker is free (the `concurrent` implementation).
import { performance } from 'node:perf_hooks';
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import type { DecodedImage, Execution, ImageDetections, InferOutcome, JobSpan, RawHeads } from './infer-types.ts';
import { addModelRows, executionsOf } from './run-results.ts';
import type { WorkerPool } from './pool.ts';
import type { QueuePolicy, QueueTicket } from './queue-policy.ts';

interface SchedulerOptions {
  /** Most images in one session.run (Triton's max_batch_size). */
  maxBatch: number;
  /** How long a free worker waits for a batch to fill before running what is queued (Triton's max_queue_delay_microseconds). */
  maxDelayUs: number;
  /** Queue bound and timeout, per request (not per request x model); none = unbounded. */
  policy?: QueuePolicy;
}

interface EntryResult {
  detections: ModelDetections[];
  raw?: RawHeads[];
  preprocess_ms: number;
  infer_ms: number;
  /** The batch's job(s) on the pool, hand-off to result: every entry of the batch waited for all of it. */
  spans: { start: number; end: number }[];
  /** Set on exactly one entry of each batch: the run it accounts for in /metrics. */
  executions?: Execution[];
}

interface Entry {
  model: ModelName;
  images: DecodedImage[];
  rawHeads: boolean;
  enqueuedAt: number;
  /** Larger models first among entries of one request: at low load the longest run starts first. */
  priority: number;
  /** The request's place under the queue policy: it leaves the queue when its first entry starts. */
  ticket?: QueueTicket;
  resolve: (r: EntryResult) => void;
  reject: (e: Error) => void;
}

/**
 * Copies the pixels once into shared memory: the request's per-model jobs all read the same image,
 * and a SharedArrayBuffer is shared with the workers instead of being cloned (or detached) per job.
 */
function shared(images: DecodedImage[]): DecodedImage[] {
  return images.map((img) => {
    const pixels = new Uint8Array(new SharedArrayBuffer(img.pixels.byteLength));
    pixels.set(img.pixels);
    return { ...img, pixels };
  });
}

export class ModelScheduler {
  private readonly queues = new Map<ModelName, Entry[]>();
  private readonly priority: Map<ModelName, number>;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: SchedulerOptions,
  ) {
    this.priority = new Map(pool.models.map((m) => [m.name, m.inputSize]));
  }

  /** Entries (request x model) waiting for a worker. */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  async infer(images: DecodedImage[], models: ModelName[], rawHeads: boolean): Promise<InferOutcome> {
    if (this.closed) throw new Error('the scheduler is closed');
    // Admission before any copy: a refused request costs nothing. On a queue timeout none of the
    // request's entries has started (the first start takes it out of the queue): drop them all.
    const entries: Entry[] = [];
    const ticket = this.options.policy?.admit((refusal) => {
      for (const e of entries) {
        const q = this.queues.get(e.model);
        const i = q ? q.indexOf(e) : -1;
        if (i >= 0) q!.splice(i, 1);
        e.reject(refusal);
      }
    });
    const mine = shared(images);
    const enqueuedAt = performance.now();
    const pending = models.map(
      (model) =>
        new Promise<EntryResult>((resolve, reject) => {
          const entry: Entry = { model, images: mine, rawHeads, enqueuedAt, priority: this.priority.get(model) ?? 0, ...(ticket ? { ticket } : {}), resolve, reject };
          entries.push(entry);
          const queue = this.queues.get(model) ?? [];
          queue.push(entry);
          this.queues.set(model, queue);
        }),
    );
    this.pump();
    const results = await Promise.all(pending);
    const out: ImageDetections[] = images.map(() => ({ models: {} }));
    const executions: Execution[] = [];
    const jobs: JobSpan[] = [];
    let preprocess_ms = 0;
    let infer_ms = 0;
    results.forEach((r, k) => {
      const model = models[k]!;
      addModelRows(out, model, r.detections, r.raw);
      preprocess_ms += r.preprocess_ms;
      infer_ms += r.infer_ms;
      jobs.push(...r.spans.map((s) => ({ ...s, models: [model] })));
      if (r.executions) executions.push(...r.executions);
    });
    return { images: out, preprocess_ms, infer_ms, executions, jobs };
  }

  /** Starts batches while workers are free and a queue is ready; otherwise waits for the earliest deadline. */
  private pump(): void {
    if (this.closed) return;
    const now = performance.now();
    const delayMs = this.options.maxDelayUs / 1000;
    while (this.running < Math.max(1, this.pool.size)) {
      const heads = [...this.queues.values()]
        .filter((q) => q.length > 0)
        .sort((a, b) => a[0]!.enqueuedAt - b[0]!.enqueuedAt || b[0]!.priority - a[0]!.priority);
      const ready = heads.find((q) => this.queuedImages(q) >= this.options.maxBatch || now - q[0]!.enqueuedAt >= delayMs);
      if (!ready) {
        if (heads.length > 0) this.wakeAt(heads[0]![0]!.enqueuedAt + delayMs);
        return;
      }
      this.start(this.take(ready));
    }
  }

  private queuedImages(queue: Entry[]): number {
    let n = 0;
    for (const e of queue) n += e.images.length;
    return n;
  }

  /** Whole entries from the head, up to maxBatch images (a larger request runs alone). */
  private take(queue: Entry[]): Entry[] {
    const batch = [queue.shift()!];
    let images = batch[0]!.images.length;
    while (queue.length > 0 && images + queue[0]!.images.length <= this.options.maxBatch) {
      images += queue[0]!.images.length;
      batch.push(queue.shift()!);
    }
    return batch;
  }

  private wakeAt(at: number): void {
    if (this.timer && at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - performance.now()));
  }

  private start(batch: Entry[]): void {
    const model = batch[0]!.model;
    const images = batch.flatMap((e) => e.images);
    const rawHeads = batch.some((e) => e.rawHeads);
    for (const e of batch) e.ticket?.start();
    this.running++;
    this.pool.run(images, [model], rawHeads).then(
      ({ runs, spans }) => {
        this.running--;
        const run = runs[0]!;
        let offset = 0;
        batch.forEach((e, k) => {
          const rows = (xs: readonly unknown[]) => xs.slice(offset, offset + e.images.length);
          const result: EntryResult = {
            detections: rows(run.detections) as ModelDetections[],
            // The batch's letterbox time, shared in proportion to this request's images.
            preprocess_ms: (run.preprocess_ms * e.images.length) / images.length,
            infer_ms: run.infer_ms,
            spans,
          };
          if (e.rawHeads && run.raw) result.raw = rows(run.raw) as RawHeads[];
          if (k === 0) result.executions = executionsOf(run, model, images.length);
          offset += e.images.length;
          e.resolve(result);
        });
        this.pump();
      },
      (err: unknown) => {
        this.running--;
        const error = err instanceof Error ? err : new Error(String(err));
        for (const e of batch) e.reject(error);
        this.pump();
      },
    );
  }

  /** Fails what is still queued; batches already running finish. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const q of this.queues.values()) {
      for (const e of q.splice(0)) {
        e.ticket?.cancel();
        e.reject(new Error('the scheduler is closing'));
      }
    }
  }
}

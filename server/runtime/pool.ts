// A pool of inference workers, each holding its own sessions of every model. The main thread only
// posts images (pixel buffers transferred, not copied, where the buffer allows) and waits for results.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ModelName } from '../../lib/types.ts';
import type { DecodedImage } from './infer-types.ts';
import type { QueuePolicy, QueueTicket } from './queue-policy.ts';
import type { EpInUse, FromWorker, ModelInfo, ModelRun, SessionSettings, ToWorker } from './protocol.ts';

const WORKER_URL = new URL('./worker.ts', import.meta.url);

/**
 * Starts a worker on a .ts file. Node 20 workers do not inherit tsx's loader hooks from
 * `node --import tsx` (checked: "Unknown file extension .ts"), so a tiny bootstrap registers tsx
 * inside the worker and then imports the real module. A compiled .js worker needs no bootstrap.
 */
function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true });
}

interface PoolResult {
  runs: ModelRun[];
  /** Time from run() to the hand-off to a free worker. */
  queue_ms: number;
  /** Each job's hand-off to its worker and its result here (performance.now(), ms): one, or one per chunk. */
  spans: { start: number; end: number }[];
}

interface Job {
  msg: Omit<Extract<ToWorker, { type: 'infer' }>, 'id'>;
  transfer: ArrayBuffer[];
  enqueuedAt: number;
  /** Its place under the caller's queue policy, if any (left when a worker takes the job). */
  ticket?: QueueTicket;
  resolve: (r: PoolResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** Pending reply handlers keyed by request id (one at a time per worker). */
  pending?: { id: number; job: Job; startedAt: number };
}

interface PoolOptions {
  size: number;
  models: ModelInfo[];
  session: SessionSettings;
  warmup: boolean;
  log?: (line: string) => void;
  /**
   * Most images in one session.run; a larger batch is split into runs of at most this many, so the
   * sessions' memory arenas (which grow to the largest shape they ran and never shrink) stay bounded.
   * 'auto' = AUTO_CPU_RUN_BATCH (at least autoFloor) on the CPU EP, no cap on CUDA; 0 = no cap.
   */
  maxRunBatch?: number | 'auto';
  /** The least 'auto' allows: a batcher's own batch size (batching is its purpose). */
  autoFloor?: number;
}

/**
 * The CPU cap of 'auto'. Measured: one worker's RSS (D0+D1+D2 sessions) after one 16-image request
 * grew by 6,131 MB unsplit, 2,310 MB in runs of 4, 258 MB in runs of 1.
 */
const AUTO_CPU_RUN_BATCH = 1;

/** Joins the per-model runs of consecutive image chunks into one run per model, in image order. */
function mergeChunkRuns(chunks: ModelRun[][], sizes: number[]): ModelRun[] {
  return chunks[0]!.map((first, m) => {
    const parts = chunks.map((runs) => runs[m]!);
    const merged: ModelRun = {
      name: first.name,
      preprocess_ms: parts.reduce((s, r) => s + r.preprocess_ms, 0),
      infer_ms: parts.reduce((s, r) => s + r.infer_ms, 0),
      detections: parts.flatMap((r) => r.detections),
      batches: [...sizes],
    };
    if (parts.every((r) => r.raw)) merged.raw = parts.flatMap((r) => r.raw!);
    // Models that shared one session.run per chunk (stacked) still share them: one id for all.
    if (first.sharedRun !== undefined) merged.sharedRun = 0;
    return merged;
  });
}

/** Transfer a pixel buffer only when the view covers all of it (never detach a shared pool slab). */
function transferable(pixels: Uint8Array): ArrayBuffer | undefined {
  const buf = pixels.buffer;
  return buf instanceof ArrayBuffer && pixels.byteOffset === 0 && pixels.byteLength === buf.byteLength ? buf : undefined;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** The execution provider the sessions actually use. */
  ep: EpInUse = 'cpu';
  /** Fallback notes from loading (e.g. cuda -> cpu). */
  notes: string[] = [];

  /** Session settings for new workers, pinned to the EP the first worker resolved. */
  private settings: SessionSettings;
  /** Workers still loading their sessions. */
  private readonly loading = new Set<Worker>();

  private constructor(
    readonly models: ModelInfo[],
    private readonly options: PoolOptions,
  ) {
    this.settings = options.session;
  }

  /** Starts `size` workers and loads every model in each. Rejects with the first load error. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options.models, options);
    try {
      // The first worker settles the execution provider; the others then load straight onto it.
      const first = await pool.addWorker(options.session);
      pool.ep = first.ep;
      pool.notes = first.notes;
      pool.settings = { ...options.session, providers: [first.ep] };
      for (let i = 1; i < options.size; i++) await pool.addWorker(pool.settings);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private async addWorker(session: SessionSettings): Promise<{ ep: EpInUse; notes: string[] }> {
    const slot: Slot = { worker: startWorker(WORKER_URL), busy: true };
    this.loading.add(slot.worker);
    try {
      const loaded = await this.load(slot, session);
      if (this.closed) throw new Error('the worker pool is closing');
      slot.busy = false;
      this.slots.push(slot);
      this.listen(slot);
      this.dispatch();
      return loaded;
    } catch (err) {
      await slot.worker.terminate();
      throw err;
    } finally {
      this.loading.delete(slot.worker);
    }
  }

  private load(slot: Slot, session: SessionSettings): Promise<{ ep: EpInUse; notes: string[] }> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'loaded') {
          cleanup();
          resolve({ ep: msg.ep, notes: msg.notes });
        } else if (msg.type === 'load-failed') {
          cleanup();
          reject(new Error(msg.message));
        }
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`inference worker exited with code ${code} while loading`));
      };
      const cleanup = () => {
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
        slot.worker.off('exit', onExit);
      };
      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      slot.worker.on('exit', onExit);
      const msg: ToWorker = { type: 'load', models: this.models, session, warmup: this.options.warmup };
      slot.worker.postMessage(msg);
    });
  }

  private listen(slot: Slot): void {
    slot.worker.on('message', (msg: FromWorker) => {
      const p = slot.pending;
      if (!p || (msg.type !== 'result' && msg.type !== 'failed') || msg.id !== p.id) return;
      slot.pending = undefined;
      slot.busy = false;
      if (msg.type === 'result') p.job.resolve({ runs: msg.runs, queue_ms: p.startedAt - p.job.enqueuedAt, spans: [{ start: p.startedAt, end: performance.now() }] });
      else p.job.reject(new Error(msg.message));
      this.dispatch();
    });
    let lastError = '';
    slot.worker.on('error', (err) => {
      lastError = err.message;
    });
    // A worker that dies (native crash, out of memory) fails its own request, not the server:
    // it is replaced and the queue moves on.
    slot.worker.once('exit', (code) => {
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      const reason = `inference worker exited (code ${code}${lastError ? `: ${lastError}` : ''})`;
      slot.pending?.job.reject(new Error(reason));
      slot.pending = undefined;
      this.options.log?.(`${reason}; starting a replacement`);
      this.addWorker(this.settings).catch((err) => {
        this.options.log?.(`replacing the inference worker failed: ${err instanceof Error ? err.message : String(err)}`);
        if (this.slots.length === 0 && this.loading.size === 0) {
          for (const job of this.waiting.splice(0)) {
            job.ticket?.cancel();
            job.reject(new Error('no inference worker is running'));
          }
        }
      });
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Requests waiting for a free worker. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `models` on a batch of images on the next free worker. The images' pixel buffers may be
   * transferred (detached here) to the worker: decode again to reuse an image. With `policy` the job
   * is admitted under it (refused when the queue is full, dropped when it times out waiting).
   * A batch over the run cap (maxRunBatch) goes as several jobs of at most that many images.
   */
  async run(images: DecodedImage[], models: ModelName[], rawHeads = false, policy?: QueuePolicy): Promise<PoolResult> {
    const auto = this.options.maxRunBatch === 'auto' || this.options.maxRunBatch === undefined;
    const cap = auto ? (this.ep === 'cpu' ? Math.max(AUTO_CPU_RUN_BATCH, this.options.autoFloor ?? 1) : 0) : (this.options.maxRunBatch as number);
    if (cap <= 0 || images.length <= cap) return this.runJob(images, models, rawHeads, policy);
    const chunks: DecodedImage[][] = [];
    for (let i = 0; i < images.length; i += cap) chunks.push(images.slice(i, i + cap));
    // The request leaves the queue policy's queue with its first chunk; the others follow it.
    const first = this.runJob(chunks[0]!, models, rawHeads, policy);
    const results = await Promise.all([first, ...chunks.slice(1).map((c) => this.runJob(c, models, rawHeads))]);
    return { runs: mergeChunkRuns(results.map((r) => r.runs), chunks.map((c) => c.length)), queue_ms: results[0]!.queue_ms, spans: results.flatMap((r) => r.spans) };
  }

  private runJob(images: DecodedImage[], models: ModelName[], rawHeads: boolean, policy?: QueuePolicy): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    let job: Job | undefined;
    let ticket: QueueTicket | undefined;
    try {
      ticket = policy?.admit((refusal) => {
        const i = job ? this.waiting.indexOf(job) : -1;
        if (i >= 0) this.waiting.splice(i, 1);
        job?.reject(refusal);
      });
    } catch (err) {
      return Promise.reject(err);
    }
    const transfer: ArrayBuffer[] = [];
    for (const img of images) {
      const buf = transferable(img.pixels);
      if (buf && !transfer.includes(buf)) transfer.push(buf);
    }
    return new Promise((resolve, reject) => {
      job = {
        msg: { type: 'infer', images: images.map(({ width, height, pixels, inputs }) => ({ width, height, pixels, ...(inputs ? { inputs } : {}) })), models, rawHeads },
        transfer,
        enqueuedAt: performance.now(),
        ...(ticket ? { ticket } : {}),
        resolve,
        reject,
      };
      this.waiting.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.slots.find((s) => !s.busy);
      if (!slot) return;
      const job = this.waiting.shift()!;
      if (job.ticket && !job.ticket.start()) continue;
      const id = this.nextId++;
      slot.busy = true;
      slot.pending = { id, job, startedAt: performance.now() };
      try {
        slot.worker.postMessage({ ...job.msg, id } satisfies ToWorker, job.transfer);
      } catch (err) {
        slot.busy = false;
        slot.pending = undefined;
        job.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** Releases every session and stops the workers. Requests still queued are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.waiting.splice(0)) {
      job.ticket?.cancel();
      job.reject(new Error('the worker pool is closing'));
    }
    await Promise.all([...this.loading].map((w) => w.terminate()));
    await Promise.all(
      this.slots.map(async (slot) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          slot.worker.on('message', (msg: FromWorker) => {
            if (msg.type === 'closed') {
              clearTimeout(timer);
              resolve();
            }
          });
          slot.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
          } catch {
            resolve();
          }
        });
        await slot.worker.terminate();
      }),
    );
  }
}

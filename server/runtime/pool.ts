// A pool of inference workers, each holding its own sessions of every model. The main thread only
// posts images (pixel buffers transferred, not copied, where the buffer allows) and waits for results.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ModelName } from '../../lib/types.ts';
import type { DecodedImage } from '../implementations/types.ts';
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

export interface PoolResult {
  runs: ModelRun[];
  /** Time from run() to the hand-off to a free worker. */
  queue_ms: number;
}

interface Job {
  msg: Omit<Extract<ToWorker, { type: 'infer' }>, 'id'>;
  transfer: ArrayBuffer[];
  enqueuedAt: number;
  resolve: (r: PoolResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** Pending reply handlers keyed by request id (one at a time per worker). */
  pending?: { id: number; job: Job; startedAt: number };
}

export interface PoolOptions {
  size: number;
  models: ModelInfo[];
  session: SessionSettings;
  warmup: boolean;
  log?: (line: string) => void;
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

  private constructor(readonly models: ModelInfo[]) {}

  /** Starts `size` workers and loads every model in each. Rejects with the first load error. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options.models);
    // The first worker settles the execution provider; the others then load straight onto it.
    let session = options.session;
    for (let i = 0; i < options.size; i++) {
      const worker = startWorker(WORKER_URL);
      const slot: Slot = { worker, busy: false };
      pool.slots.push(slot);
      try {
        const loaded = await pool.load(slot, options, session);
        if (i === 0) {
          pool.ep = loaded.ep;
          pool.notes = loaded.notes;
          session = { ...session, providers: [loaded.ep] };
        }
      } catch (err) {
        await pool.close();
        throw err;
      }
      pool.listen(slot);
    }
    return pool;
  }

  private load(slot: Slot, options: PoolOptions, session: SessionSettings): Promise<{ ep: EpInUse; notes: string[] }> {
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
      const cleanup = () => {
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
      };
      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      const msg: ToWorker = { type: 'load', models: options.models, session, warmup: options.warmup };
      slot.worker.postMessage(msg);
    });
  }

  private listen(slot: Slot): void {
    slot.worker.on('message', (msg: FromWorker) => {
      const p = slot.pending;
      if (!p || (msg.type !== 'result' && msg.type !== 'failed') || msg.id !== p.id) return;
      slot.pending = undefined;
      slot.busy = false;
      if (msg.type === 'result') p.job.resolve({ runs: msg.runs, queue_ms: p.startedAt - p.job.enqueuedAt });
      else p.job.reject(new Error(msg.message));
      this.dispatch();
    });
    // A worker that dies takes its request with it; the pool reports it instead of hanging.
    slot.worker.on('error', (err) => {
      const p = slot.pending;
      slot.pending = undefined;
      if (p) p.job.reject(new Error(`inference worker crashed: ${err.message}`));
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
   * transferred (detached here) to the worker: decode again to reuse an image.
   */
  run(images: DecodedImage[], models: ModelName[], rawHeads = false): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    const transfer: ArrayBuffer[] = [];
    for (const img of images) {
      const buf = transferable(img.pixels);
      if (buf && !transfer.includes(buf)) transfer.push(buf);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({
        msg: { type: 'infer', images: images.map(({ width, height, pixels }) => ({ width, height, pixels })), models, rawHeads },
        transfer,
        enqueuedAt: performance.now(),
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.slots.find((s) => !s.busy);
      if (!slot) return;
      const job = this.waiting.shift()!;
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
    for (const job of this.waiting.splice(0)) job.reject(new Error('the worker pool is closing'));
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

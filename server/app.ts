// HTTP wiring: routes, body handling, validation, error mapping. Listening, timeouts and signals are
// in main.ts; the models run in worker threads (runtime/), never on this thread.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import {
  MODEL_NAMES,
  type ErrorResponse,
  type HealthExtras,
  type HealthResponse,
  type ImageResult,
  type ImplementationsResponse,
  type InferResponse,
  type InferResponseExtras,
  type ModelDetections,
  type ModelDetectionsWithRaw,
  type ModelName,
  type WireTensor,
} from '../lib/types.ts';
import type { ServerConfig } from './config.ts';
import { ServerMetrics } from './metrics.ts';
import { Runtime, StartupError } from './runtime/context.ts';
import { decodeImage, ImageError } from './runtime/preprocess.ts';
import { buildImplementation, implementationNames } from './implementations/registry.ts';
import type { ModelInfo } from './runtime/protocol.ts';
import type { DecodedImage, Implementation, InferOutcome, RawHeads } from './implementations/types.ts';

export const SERVER_VERSION: string = (() => {
  try {
    return String(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();

/** Raw-body media types accepted by POST /infer/:impl (multipart/form-data is handled by multer). */
export const RAW_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'] as const;

export interface Logger {
  debug(line: string): void;
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/** A 4xx/5xx answer with a stable error code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ServerApp {
  readonly app: express.Express;
  readonly metrics: ServerMetrics;
  readonly ready: boolean;
  /** EP in use once loaded (cpu | cuda); the requested mode before. */
  readonly ep: string;
  /** The hosted models' metadata (empty until load() read it). */
  readonly models: readonly ModelInfo[];
  /** Reads the models, starts the workers, loads and warms every implementation; then ready. */
  load(): Promise<void>;
  /** Closes every implementation and the worker pool (after the HTTP server stopped). */
  close(): Promise<void>;
}

interface InferLocals {
  t0: number;
  impl: string;
  images: number;
  code?: string;
  imageIds?: string[];
  outcome?: InferOutcome;
  decode_ms?: number;
}

/** Client-chosen ids go into log lines: keep them on one line and bounded. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function errorBody(error: string, detail: string): ErrorResponse {
  return { error, detail };
}

/** Parses ?models=d0,d2 into MODEL_NAMES order; absent = all. */
export function parseModelsParam(raw: unknown): ModelName[] {
  if (raw === undefined) return [...MODEL_NAMES];
  const text = Array.isArray(raw) ? raw.join(',') : String(raw);
  const asked = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const unknown = asked.filter((s) => !(MODEL_NAMES as readonly string[]).includes(s));
  if (asked.length === 0 || unknown.length > 0) {
    throw new HttpError(
      400,
      'unknown_model',
      `${asked.length === 0 ? 'models= is empty' : `unknown model(s) ${unknown.join(', ')}`}; known models are ${MODEL_NAMES.join(', ')}`,
    );
  }
  return MODEL_NAMES.filter((m) => asked.includes(m));
}

function wireTensor(data: Float32Array, lastDim: number): WireTensor {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { dtype: 'float32', dims: [data.length / lastDim, lastDim], data_base64: bytes.toString('base64') };
}

function withWireRaw(det: ModelDetections, raw: RawHeads | undefined): ModelDetectionsWithRaw {
  const { boxes, scores, labels, num_detections, inference_ms } = det;
  const out: ModelDetectionsWithRaw = { boxes, scores, labels, num_detections, inference_ms };
  if (raw) {
    const anchors = raw.box_regression.length / 4;
    out.raw = {
      class_logits: wireTensor(raw.class_logits, raw.class_logits.length / anchors),
      box_regression: wireTensor(raw.box_regression, 4),
    };
  }
  return out;
}

function asyncRun(mw: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void mw(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
  });
}

export function createServerApp(config: ServerConfig, log: Logger): ServerApp {
  const maxBodyBytes = Math.floor(config.maxBodyMb * 1024 * 1024);
  const implementations = new Map<string, Implementation>();
  let runtime: Runtime | undefined;
  let ready = false;
  let closing = false;
  const startedAt = performance.now();
  // IMPL picks what this server loads and serves (default all); unknown names fail at load.
  const served: string[] = config.impls === 'all' ? implementationNames() : config.impls.filter((n) => implementationNames().includes(n));

  const metrics = new ServerMetrics(() => ({
    ep: runtime?.ep ?? config.ep,
    ready,
    version: SERVER_VERSION,
    pending: Object.fromEntries([...implementations].map(([name, impl]) => [name, impl.pendingRequests?.() ?? 0])),
  }));

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // First middleware: stamps arrival and books every /infer request on finish.
  const stamp: RequestHandler = (req, res, next) => {
    const locals = res.locals as InferLocals;
    locals.t0 = performance.now();
    if (req.method !== 'POST' || !req.path.startsWith('/infer/')) return next();
    const label = () => locals.impl ?? 'unknown';
    let started = false;
    // impl is known only after routing; count the request as in flight from the first tick.
    const pendingStart = setImmediate(() => {
      started = true;
      metrics.requestStarted(label());
    });
    res.once('close', () => {
      const total_s = (performance.now() - locals.t0) / 1000;
      const o = locals.outcome;
      // A fast error answer can close before the first tick: start it here, once, and cancel the tick.
      if (!started) {
        clearImmediate(pendingStart);
        metrics.requestStarted(label());
      }
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.requestFinished({
        impl: label(),
        status,
        reason: status < 400 ? 'ok' : (locals.code ?? (status === 499 ? 'client_closed' : 'error')),
        total_s,
        images: locals.images ?? 0,
        ...(locals.decode_ms !== undefined ? { decode_s: locals.decode_ms / 1000 } : {}),
        ...(o ? { preprocess_s: o.preprocess_ms / 1000, queue_s: o.queue_ms / 1000, models: MODEL_NAMES.filter((m) => o.images[0]?.models[m]) } : {}),
        ...(o ? { executions: o.executions.map((e) => ({ model: e.model, batch_size: e.batch_size, infer_s: e.infer_ms / 1000 })) } : {}),
      });
      log.info(
        `${req.method} ${req.originalUrl} ${status} ${(total_s * 1000).toFixed(1)}ms images=${locals.images ?? 0} id=${printable((locals.imageIds ?? []).join(',')) || '-'}${locals.code ? ` error=${locals.code}` : ''}`,
      );
    });
    next();
  };
  app.use(stamp);

  const rawBody = express.raw({ type: () => true, limit: maxBodyBytes });
  const multipart = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBodyBytes, files: config.maxBatch, fields: 32, parts: config.maxBatch + 32 },
  }).array('file');

  const currentEp = () => runtime?.ep ?? config.ep;

  app.get('/health', (_req, res) => {
    const body: HealthResponse & HealthExtras = {
      status: ready ? 'ok' : 'loading',
      ready,
      ep: currentEp(),
      models: (runtime?.models ?? []).map((m) => ({ name: m.name, input_size: m.inputSize, file: m.file })),
      implementations: served,
      uptime_s: (performance.now() - startedAt) / 1000,
      version: SERVER_VERSION,
      ep_requested: config.ep,
      ep_notes: runtime?.epNotes ?? [],
      settings: {
        workers: config.workers,
        threads: config.threads,
        graph_opt: config.graphOpt,
        max_body_mb: config.maxBodyMb,
        max_pixels: config.maxPixels,
        max_batch: config.maxBatch,
        parallel_workers: config.parallelWorkers,
        parallel_threads: config.parallelThreads,
        batch_max_size: config.batchMaxSize,
        batch_max_delay_us: config.batchMaxDelayUs,
        spinning: config.spinning,
      },
    };
    // 503 while loading so plain HTTP probes wait too; the body says why.
    if (!ready) res.status(503).set('Retry-After', '2');
    res.json(body);
  });

  app.get('/implementations', (_req, res) => {
    const body: ImplementationsResponse = {
      implementations: served.map((name) => {
        const impl = implementations.get(name);
        return { name, description: impl?.description ?? '', lossless: impl?.lossless ?? false };
      }),
    };
    res.json(body);
  });

  app.get('/vram', (_req, res) => {
    res.json(metrics.memory.read());
  });
  app.post('/vram/reset', (req, res) => {
    const window = typeof req.query['window'] === 'string' ? req.query['window'] : undefined;
    if (window !== undefined && !/^[\w.-]{1,64}$/.test(window)) {
      throw new HttpError(400, 'invalid_window', `window=${JSON.stringify(window).slice(0, 80)} must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    res.json(metrics.memory.reset(window));
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.text());
  });

  /** Reads the upload(s): multipart `file` fields or a raw image body. Returns bytes + ids. */
  async function readUploads(req: Request, res: Response): Promise<{ bytes: Uint8Array; id?: string }[]> {
    const length = Number(req.headers['content-length'] ?? NaN);
    if (length > maxBodyBytes) {
      throw new HttpError(413, 'body_too_large', `request body is ${length} bytes, over the limit of ${maxBodyBytes} (MAX_BODY_MB=${config.maxBodyMb})`);
    }
    const headerId = typeof req.headers['x-image-id'] === 'string' ? req.headers['x-image-id'] : undefined;
    const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
    if (req.is('multipart/form-data')) {
      await asyncRun(multipart, req, res);
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (files.length === 0) throw new HttpError(400, 'empty_body', "multipart body has no 'file' field");
      return files.map((f) => ({
        bytes: f.buffer,
        ...(files.length === 1 && headerId !== undefined ? { id: headerId } : f.originalname ? { id: f.originalname } : {}),
      }));
    }
    if (!hasBody) throw new HttpError(400, 'empty_body', 'the request carried no image bytes');
    if (!req.is([...RAW_MEDIA_TYPES])) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        `Content-Type ${req.headers['content-type'] ?? '(none)'} is not accepted; send multipart/form-data with a 'file' field or a raw body of ${RAW_MEDIA_TYPES.join(', ')}`,
      );
    }
    await asyncRun(rawBody, req, res);
    const body = req.body as unknown;
    const bytes = Buffer.isBuffer(body) ? body : new Uint8Array(0);
    return [{ bytes, ...(headerId !== undefined ? { id: headerId } : {}) }];
  }

  app.post('/infer/:impl', async (req, res) => {
    const locals = res.locals as InferLocals;
    const implName = String(req.params.impl);
    const impl = implementations.get(implName);
    const known = implementationNames().includes(implName);
    locals.impl = known ? implName : 'unknown';
    locals.images = 0;
    if (!known) {
      throw new HttpError(404, 'unknown_implementation', `unknown implementation '${implName}'; known implementations are ${implementationNames().join(', ')}`);
    }
    if (!served.includes(implName)) {
      throw new HttpError(404, 'implementation_not_served', `implementation '${implName}' is not loaded by this server (IMPL=${String(config.impls)}); it serves ${served.join(', ')}`);
    }
    if (!ready || !impl || closing) {
      throw new HttpError(503, closing ? 'shutting_down' : 'not_ready', closing ? 'the server is shutting down' : 'models are still loading; retry shortly', {
        'Retry-After': '2',
      });
    }
    const models = parseModelsParam(req.query.models);
    const rawHeads = req.query.raw === '1' || req.query.raw === 'true';
    const uploads = await readUploads(req, res);
    locals.images = uploads.length;
    locals.imageIds = uploads.map((u) => u.id ?? '-');

    const tDecode = performance.now();
    const images: DecodedImage[] = await Promise.all(
      uploads.map((u) => decodeImage(u.bytes, { maxPixels: config.maxPixels, ...(u.id !== undefined ? { id: u.id } : {}) })),
    );
    locals.decode_ms = performance.now() - tDecode;

    const outcome = await impl.infer(images, { models, rawHeads });
    locals.outcome = outcome;
    const body: InferResponse & InferResponseExtras = {
      implementation: implName,
      ep: currentEp(),
      images: outcome.images.map((det, i): ImageResult => {
        const perModel: ImageResult['models'] = {};
        for (const name of models) {
          const d = det.models[name];
          if (d) perModel[name] = withWireRaw(d, rawHeads ? d.raw : undefined);
        }
        // The image objects stay intact: only their pixel buffers may have gone to a worker.
        const s = images[i]!;
        return { ...(s.id !== undefined ? { image_id: s.id } : {}), width: s.width, height: s.height, models: perModel };
      }),
      timing: {
        decode_ms: locals.decode_ms,
        preprocess_ms: outcome.preprocess_ms,
        queue_ms: outcome.queue_ms,
        infer_ms: outcome.infer_ms,
        total_ms: performance.now() - locals.t0,
      },
    };
    res.json(body);
  });

  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}; see GET /health, /implementations, /metrics, /vram, POST /infer/:impl, /vram/reset`));
  });

  // One error handler: known errors become {error, detail} with their status; anything else is a
  // 500 whose details stay in the server log, never in the response.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const mapped = mapError(err);
    const locals = res.locals as Partial<InferLocals>;
    locals.code = mapped.code;
    if (mapped.status >= 500) log.error(`${req.method} ${req.originalUrl} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(mapped.headers)) res.set(k, v);
    // An unread upload would otherwise keep the socket busy; close it after answering early.
    if (!req.complete) res.set('Connection', 'close');
    res.status(mapped.status).json(errorBody(mapped.code, mapped.detail));
  });


  return {
    app,
    metrics,
    get ready() {
      return ready;
    },
    get ep() {
      return currentEp();
    },
    get models() {
      return runtime?.models ?? [];
    },
    async load() {
      const unknown = config.impls === 'all' ? [] : config.impls.filter((n) => !implementationNames().includes(n));
      if (unknown.length > 0) {
        throw new StartupError(`IMPL=${String(config.impls)}: unknown implementation(s) ${unknown.join(', ')}; allowed values are all or a list of ${implementationNames().join(', ')}`);
      }
      const rt = await Runtime.create(config, (line) => log.info(line));
      runtime = rt;
      // Implementations load side by side: much of session creation is single-threaded graph work.
      const built = served.map((name) => [name, buildImplementation(name, rt)] as const);
      const loaded = await Promise.allSettled(built.map(([, impl]) => impl.load()));
      built.forEach(([name, impl], i) => {
        if (loaded[i]!.status === 'fulfilled') implementations.set(name, impl);
        else void impl.close().catch(() => {});
      });
      const failed = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      metrics.memory.setDevice(runtime.ep === 'cuda' ? 'cuda' : 'host');
      ready = true;
    },
    async close() {
      closing = true;
      ready = false;
      for (const impl of implementations.values()) await impl.close().catch((e) => log.warn(`closing ${impl.name}: ${String(e)}`));
      await runtime?.close();
      metrics.stop();
    },
  };
}

interface MappedError {
  status: number;
  code: string;
  detail: string;
  headers: Record<string, string>;
}

/** Known failure -> status + code. Body-parser and multer errors carry their own markers. */
export function mapError(err: unknown): MappedError {
  if (err instanceof HttpError) return { status: err.status, code: err.code, detail: err.message, headers: err.headers };
  if (err instanceof ImageError) return { status: err.status, code: err.code, detail: err.message, headers: {} };
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return { status: 413, code: 'body_too_large', detail: `an uploaded file is over the limit (MAX_BODY_MB)`, headers: {} };
      case 'LIMIT_FILE_COUNT':
        return { status: 413, code: 'too_many_files', detail: `too many 'file' fields in one request (MAX_BATCH)`, headers: {} };
      case 'LIMIT_UNEXPECTED_FILE':
        return { status: 400, code: 'unexpected_field', detail: `unexpected multipart file field '${err.field ?? ''}'; send images in field 'file'`, headers: {} };
      default:
        return { status: 400, code: 'invalid_multipart', detail: `multipart body refused: ${err.message}`, headers: {} };
    }
  }
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string } | undefined;
  if (e?.type === 'entity.too.large') {
    return { status: 413, code: 'body_too_large', detail: 'request body is over the limit (MAX_BODY_MB)', headers: {} };
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: e?.type?.replace(/\./g, '_') ?? 'bad_request', detail: e?.message ?? 'bad request', headers: {} };
  }
  // busboy's parse errors (malformed multipart) are plain Errors.
  if (err instanceof Error && /multipart|boundary|unexpected end of form|malformed part/i.test(err.message)) {
    return { status: 400, code: 'invalid_multipart', detail: `malformed multipart body: ${err.message}`, headers: {} };
  }
  return { status: 500, code: 'internal_error', detail: 'the server failed on this request; see its log', headers: {} };
}

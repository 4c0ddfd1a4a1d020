// HTTP wiring: one router per resource (ops, native inference, Open Inference Protocol v2), the 404 and the one error handler,
// and the implementations' lifecycle. Listening, timeouts and signals are in main.ts; the models run
// in worker threads (runtime/), never on this thread.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ServerConfig } from './config.ts';
import { inferLocals, stampArrival } from './http/booking.ts';
import { drainUnreadBody } from './http/drain.ts';
import { errorBody, HttpError, mapError } from './http/errors.ts';
import { ImplementationHost } from './lifecycle.ts';
import type { Logger } from './log.ts';
import { ServerMetrics } from './metrics.ts';
import type { ModelInfo } from './runtime/protocol.ts';
import { nativeRoutes } from './routes/native.ts';
import { opsRoutes } from './routes/ops.ts';
import { v2Routes } from './routes/v2.ts';
import { SERVER_VERSION } from './version.ts';

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

export function createServerApp(config: ServerConfig, log: Logger): ServerApp {
  const host = new ImplementationHost(config, (line) => log.info(line));
  const metrics = new ServerMetrics(() => ({ ep: host.ep, ready: host.ready, version: SERVER_VERSION, pending: host.pending() }));

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(stampArrival);
  app.use(opsRoutes(config, host, metrics));
  app.use(nativeRoutes(config, host, metrics, log));
  app.use(v2Routes(config, host, metrics, log));

  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}; see GET /health, /implementations, /metrics, /vram, POST /infer/:impl, /vram/reset, and the Open Inference Protocol under /v2`));
  });

  // One error handler: known errors become {error, detail} with their status; anything else is a
  // 500 whose details stay in the server log, never in the response.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const mapped = mapError(err);
    inferLocals(res).code = mapped.code;
    // 503s are deliberate answers (loading, queue full ...), already in the access log: no stack for them.
    if (mapped.status >= 500 && mapped.status !== 503) log.error(`${req.method} ${req.originalUrl} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(mapped.headers)) res.set(k, v);
    // Answering before the body is read: read and drop the rest (up to MAX_DRAIN_MB) so the client,
    // still sending, gets to read this answer instead of a connection reset.
    drainUnreadBody(req, config.maxDrainMb * 1024 * 1024);
    res.status(mapped.status).json(errorBody(mapped.code, mapped.detail));
  });

  return {
    app,
    metrics,
    get ready() {
      return host.ready;
    },
    get ep() {
      return host.ep;
    },
    get models() {
      return host.models;
    },
    async load() {
      await host.load();
      metrics.memory.setDevice(host.ep === 'cuda' ? 'cuda' : 'host');
    },
    async close() {
      await host.close((line) => log.warn(line));
      metrics.stop();
    },
  };
}

// HTTP wiring: one router per resource (ops, native inference, Open Inference Protocol v2), the 404 and the one error handler,
// and the implementations' lifecycle. Listening, timeouts and signals are in main.ts; the models run
// in worker threads (runtime/), never on this thread.
import express from 'express';
import type { ServerConfig } from './config.ts';
import { bookInference, stampArrival } from './http/booking.ts';
import { errorHandler } from './http/error-handler.ts';
import { errorBody, HttpError } from './http/errors.ts';
import { LoneRequests } from './http/lone-request.ts';
import { ImplementationHost } from './lifecycle.ts';
import type { Logger } from './log.ts';
import { ServerMetrics } from './metrics/server-metrics.ts';
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
  const metrics = new ServerMetrics(() => ({ ep: host.ep, ready: host.ready, version: SERVER_VERSION, pending: host.pending(), modelPending: host.pendingByModel() }));

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(stampArrival);
  app.use(opsRoutes(config, host, metrics));
  // Every inference route, native or v2, is booked (/metrics, access log) and counted for the inline-decode choice.
  const booking = bookInference(metrics, log);
  const lone = new LoneRequests();
  app.use(nativeRoutes(config, host, booking, lone));
  app.use(v2Routes(config, host, metrics, log, booking, lone));

  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}; see GET /health, /implementations, /metrics, /vram, POST /infer/:impl, /vram/reset, and the Open Inference Protocol under /v2`));
  });

  // One error handler (server/http/error-handler.ts): known errors become {error, detail} with their
  // status; anything else is a 500 whose details stay in the server log, never in the response.
  app.use(errorHandler(log, config.maxDrainMb, (m) => errorBody(m.code, m.detail)));

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

// Books every inference request, whatever its route (native or v2): in flight from its first tick,
// then on close its status, reason, timings and session runs into /metrics, and one access-log line.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import { MODEL_NAMES } from '../../lib/types.ts';
import type { InferOutcome } from '../implementations/types.ts';
import type { ServerMetrics } from '../metrics.ts';
import { printable, type Logger } from '../log.ts';

/** What a route records about its inference request for the booking on close. */
export interface InferLocals {
  t0: number;
  impl: string;
  images: number;
  code?: string;
  imageIds?: string[];
  outcome?: InferOutcome;
  decode_ms?: number;
}

export function inferLocals(res: Response): InferLocals {
  return res.locals as InferLocals;
}

/** Stamps arrival time on every request (error answers and timings read it). */
export const stampArrival: RequestHandler = (_req, res, next) => {
  inferLocals(res).t0 = performance.now();
  next();
};

/**
 * Books the inference requests of every route (one per server, shared by the native and v2 routes):
 * `handler` is their route middleware (/metrics and the access log); `alone()` says whether the
 * request asking is the only one the server is handling and is likely to be.
 */
export class InferenceBooking {
  /** Inference requests arrived and not yet closed, this one included. */
  private inFlight = 0;
  /** The connection of the latest inference request, and when a request last came on another one. */
  private lastClient: Socket | undefined;
  private switchedAt = -Infinity;
  readonly handler: RequestHandler;

  constructor(metrics: ServerMetrics, log: Logger) {
    this.handler = bookInference(metrics, log, (req, delta) => {
      this.inFlight += delta;
      if (delta > 0 && req.socket !== this.lastClient) {
        this.lastClient = req.socket;
        this.switchedAt = performance.now();
      }
    });
  }

  /**
   * No other inference request is in flight, and for ALONE_MS every request came on this one
   * connection (one closed-loop client). In-flight alone is not enough: while this thread works
   * through one request the next ones wait unread in their sockets, so a busy server would look idle
   * to itself. A connection that went quiet (k6's setup VU, say) stops counting after ALONE_MS.
   */
  alone(): boolean {
    return this.inFlight <= 1 && performance.now() - this.switchedAt > ALONE_MS;
  }
}

/** How long all inference requests must have come on one connection for a request to count as alone. */
const ALONE_MS = 100;

/** Route middleware of inference routes: books the request in /metrics and the access log. */
function bookInference(metrics: ServerMetrics, log: Logger, count: (req: Request, delta: 1 | -1) => void): RequestHandler {
  return (req, res, next) => {
    const locals = inferLocals(res);
    count(req, 1);
    locals.t0 ??= performance.now();
    const label = () => locals.impl ?? 'unknown';
    let started = false;
    // impl is known only once the handler ran; count the request as in flight from the first tick.
    const pendingStart = setImmediate(() => {
      started = true;
      metrics.requestStarted(label());
    });
    res.once('close', () => {
      count(req, -1);
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
}

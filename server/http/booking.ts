// Books every inference request, whatever its route (native or v2): in flight from its first tick,
// then on close its status, reason, timings and session runs into /metrics, and one access-log line.
import { performance } from 'node:perf_hooks';
import type { RequestHandler, Response } from 'express';
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import type { Implementation } from '../implementations/types.ts';
import type { DecodedImage, InferOptions, InferOutcome } from '../runtime/infer-types.ts';
import { splitRequest, type RequestSplit } from '../metrics/request-split.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import { printable, type Logger } from '../log.ts';

/** What a route records about its inference request for the booking on close. */
interface InferLocals {
  t0: number;
  impl: string;
  images: number;
  code?: string;
  imageIds?: string[];
  outcome?: InferOutcome;
  /** Its queue and compute (critical path), once the implementation answered. */
  split?: RequestSplit;
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
 * Hands a request's decoded images to its implementation (every inference route does it through here):
 * the moment of the hand-off and the jobs that served it give the request's queue and compute, kept
 * with the outcome for the booking.
 */
export async function inferBooked(res: Response, impl: Implementation, images: DecodedImage[], options: InferOptions): Promise<{ outcome: InferOutcome; split: RequestSplit }> {
  const locals = inferLocals(res);
  const readyAt = performance.now();
  const outcome = await impl.infer(images, options);
  locals.outcome = outcome;
  locals.split = splitRequest(readyAt, outcome.jobs);
  return { outcome, split: locals.split };
}

/**
 * Route middleware of inference routes (one per server, shared by the native and v2 routes): books
 * the request in /metrics and the access log.
 */
export function bookInference(metrics: ServerMetrics, log: Logger): RequestHandler {
  return (req, res, next) => {
    const locals = inferLocals(res);
    locals.t0 ??= performance.now();
    const label = () => locals.impl ?? 'unknown';
    let started = false;
    // impl is known only once the handler ran; count the request as in flight from the first tick.
    const pendingStart = setImmediate(() => {
      started = true;
      metrics.requestStarted(label());
    });
    res.once('close', () => {
      const total_s = (performance.now() - locals.t0) / 1000;
      const o = locals.outcome;
      const split = locals.split;
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
        ...(o ? { preprocess_s: o.preprocess_ms / 1000, infer_s: o.infer_ms / 1000, models: MODEL_NAMES.filter((m) => o.images[0]?.models[m]) } : {}),
        ...(split ? { queue_s: split.queue_ms / 1000, compute_s: split.compute_ms / 1000, model_queue_s: secondsOf(split.model_queue_ms) } : {}),
        ...(o ? { executions: o.executions.map((e) => ({ model: e.model, batch_size: e.batch_size, infer_s: e.infer_ms / 1000 })) } : {}),
      });
      log.info(
        `${req.method} ${req.originalUrl} ${status} ${(total_s * 1000).toFixed(1)}ms images=${locals.images ?? 0} id=${printable((locals.imageIds ?? []).join(',')) || '-'}${locals.code ? ` error=${locals.code}` : ''}`,
      );
    });
    next();
  };
}

const secondsOf = (ms: Partial<Record<ModelName, number>>): Partial<Record<ModelName, number>> =>
  Object.fromEntries(Object.entries(ms).map(([m, v]) => [m, v / 1000]));

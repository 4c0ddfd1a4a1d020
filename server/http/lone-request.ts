// Whether an inference request is alone on the server, which decides where its lone image is decoded:
// on this thread (no hand-off to libuv's pool and back) when nothing else waits for the thread, on the
// pool otherwise (decode.ts, DecodeOptions.inline).
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';

/** How long all inference requests must have come on one connection for a request to count as alone. */
const ALONE_MS = 100;

/**
 * Counts the inference requests in flight (`track`, route middleware of every inference route) and
 * the connection they come on; one per server, shared by the native and v2 routes.
 */
export class LoneRequests {
  /** Inference requests arrived and not yet closed, this one included. */
  private inFlight = 0;
  /** The connection of the latest inference request, and when a request last came on another one. */
  private lastClient: Socket | undefined;
  private switchedAt = -Infinity;

  readonly track: RequestHandler = (req, res, next) => {
    this.inFlight++;
    if (req.socket !== this.lastClient) {
      this.lastClient = req.socket;
      this.switchedAt = performance.now();
    }
    res.once('close', () => {
      this.inFlight--;
    });
    next();
  };

  /**
   * No other inference request is in flight, and for ALONE_MS every request came on this one
   * connection (one closed-loop client). In-flight alone is not enough: while this thread works
   * through one request the next ones wait unread in their sockets, so a busy server would look idle
   * to itself. A connection that went quiet (k6's setup VU, say) stops counting after ALONE_MS.
   */
  private alone(): boolean {
    return this.inFlight <= 1 && performance.now() - this.switchedAt > ALONE_MS;
  }

  /** Decode inline: a request of one image that is alone. */
  inlineDecode(images: number): boolean {
    return images === 1 && this.alone();
  }
}

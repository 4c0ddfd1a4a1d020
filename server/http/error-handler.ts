// The one way an error becomes an answer, whatever the protocol: mapped to status + code, 5xx
// details kept in the log (503s are deliberate answers: loading, queue full ..., no stack for them),
// the unread body drained so the client reads the answer instead of a reset. Each protocol only
// shapes the body (native: {error, detail}; v2: {error}).
import type { ErrorRequestHandler, Request } from 'express';
import type { Logger } from '../log.ts';
import { inferLocals } from './booking.ts';
import { drainUnreadBody } from './drain.ts';
import { mapError, type MappedError } from './errors.ts';

export function errorHandler(log: Logger, maxDrainMb: number, body: (m: MappedError) => unknown, handles: (req: Request) => boolean = () => true): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (!handles(req)) return next(err);
    const mapped = mapError(err);
    inferLocals(res).code = mapped.code;
    if (mapped.status >= 500 && mapped.status !== 503) log.error(`${req.method} ${req.originalUrl} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(mapped.headers)) res.set(k, v);
    drainUnreadBody(req, maxDrainMb * 1024 * 1024);
    res.status(mapped.status).json(body(mapped));
  };
}

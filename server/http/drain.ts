// Lets a client read an early answer (413, 415, 503 ...) to a request whose body it is still
// sending. Closing the socket on unread data makes the kernel reset the connection, and a client
// still writing (Node's fetch, k6) then sees "socket closed" instead of the answer. So the rest of
// the body is read and thrown away, up to a cap; past the cap the server stops reading and closes
// the connection only after a linger, by which time the client has had the answer.
import type { Request } from 'express';

/** How long a cut connection stays open after the answer, so the client can read it. */
const LINGER_MS = 2000;

/**
 * Starts discarding the unread rest of `req`'s body, before the answer is sent (Node would otherwise
 * dump it without a cap). Body complete within `capBytes`: the connection stays usable (keep-alive).
 */
export function drainUnreadBody(req: Request, capBytes: number): void {
  if (req.complete || req.destroyed) return;
  let drained = 0;
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained <= capBytes) return;
    req.off('data', onData);
    req.pause();
    const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
    timer.unref();
    req.socket.once('close', () => clearTimeout(timer));
  };
  req.on('data', onData);
  req.resume();
}

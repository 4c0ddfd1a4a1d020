// Bounds the memory held by uploads in flight: every inference request reserves its body size
// (the declared Content-Length, or MAX_BODY_MB when it declares none) until its answer is out. A
// request that would take the total over MAX_INFLIGHT_UPLOAD_MB is refused with 503 upload_limit and
// Retry-After before any of its body is buffered, so many concurrent large uploads cannot exhaust memory.
import type { Request, Response } from 'express';
import { HttpError } from './errors.ts';

export class UploadBudget {
  private held = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly maxBodyBytes: number,
  ) {}

  /** Bytes reserved by the requests in flight. */
  get inFlightBytes(): number {
    return this.held;
  }

  /** Reserves this request's body until its response closes; throws the 503 past the budget. */
  reserve(req: Request, res: Response): void {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const bytes = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, this.maxBodyBytes) : this.maxBodyBytes;
    if (this.held > 0 && this.held + bytes > this.limitBytes) {
      throw new HttpError(503, 'upload_limit', `${this.held} bytes of uploads already in flight; this one (${bytes} bytes) would pass MAX_INFLIGHT_UPLOAD_MB=${this.limitBytes / 1024 / 1024}; retry shortly`, { 'Retry-After': '1' });
    }
    this.held += bytes;
    res.once('close', () => (this.held -= bytes));
  }
}

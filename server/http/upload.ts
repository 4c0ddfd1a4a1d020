// Reads an inference request's image bytes: multipart `file` fields (multer) or one raw image body.
import express, { type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { HttpError } from './errors.ts';
import { UploadBudget } from './upload-budget.ts';

/** Raw-body media types accepted by POST /infer/:impl (multipart/form-data is handled by multer). */
const RAW_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'] as const;

interface Upload {
  bytes: Uint8Array;
  id?: string;
}

interface UploadLimits {
  maxBodyMb: number;
  /** All requests' uploads in flight together (MAX_INFLIGHT_UPLOAD_MB). */
  maxInflightUploadMb: number;
  /** Most multipart `file` fields in one request (REQUEST_MAX_BATCH). */
  requestMaxBatch: number;
}

export function asyncRun(mw: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void mw(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
  });
}

export function bodyLimitBytes(limits: Pick<UploadLimits, 'maxBodyMb'>): number {
  return Math.floor(limits.maxBodyMb * 1024 * 1024);
}

/** Refuses a declared Content-Length over the limit before reading any of the body. */
export function refuseOversized(req: Request, limits: Pick<UploadLimits, 'maxBodyMb'>): void {
  const maxBodyBytes = bodyLimitBytes(limits);
  const length = Number(req.headers['content-length'] ?? NaN);
  if (length > maxBodyBytes) {
    throw new HttpError(413, 'body_too_large', `request body is ${length} bytes, over the limit of ${maxBodyBytes} (MAX_BODY_MB=${limits.maxBodyMb})`);
  }
}

/** Returns a reader of uploads bound to these limits (parsers are built once). */
export function uploadReader(limits: UploadLimits): (req: Request, res: Response) => Promise<Upload[]> {
  const maxBodyBytes = bodyLimitBytes(limits);
  const rawBody = express.raw({ type: () => true, limit: maxBodyBytes });
  const multipart = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBodyBytes, files: limits.requestMaxBatch, fields: 32, parts: limits.requestMaxBatch + 32 },
  }).array('file');
  const budget = new UploadBudget(limits.maxInflightUploadMb * 1024 * 1024, maxBodyBytes);

  return async (req, res) => {
    refuseOversized(req, limits);
    budget.reserve(req, res);
    const length = Number(req.headers['content-length'] ?? NaN);
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
  };
}

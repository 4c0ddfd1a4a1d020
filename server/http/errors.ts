// Errors the HTTP layer answers: HttpError (a 4xx/5xx with a stable code) and the one mapping from
// any thrown value to status + code + detail. 5xx details never leave the server log.
import multer from 'multer';
import type { ErrorResponse } from '../../lib/types.ts';
import { ImageError } from '../runtime/decode.ts';
import { QueueRefusal } from '../runtime/queue-policy.ts';

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

export interface MappedError {
  status: number;
  code: string;
  detail: string;
  headers: Record<string, string>;
}

export function errorBody(error: string, detail: string): ErrorResponse {
  return { error, detail };
}

/** Known failure -> status + code. Body-parser and multer errors carry their own markers. */
export function mapError(err: unknown): MappedError {
  if (err instanceof HttpError) return { status: err.status, code: err.code, detail: err.message, headers: err.headers };
  if (err instanceof QueueRefusal) return { status: 503, code: err.code, detail: err.message, headers: { 'Retry-After': String(err.retryAfterS) } };
  if (err instanceof ImageError) return { status: err.status, code: err.code, detail: err.message, headers: {} };
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return { status: 413, code: 'body_too_large', detail: `an uploaded file is over the limit (MAX_BODY_MB)`, headers: {} };
      case 'LIMIT_FILE_COUNT':
        return { status: 413, code: 'too_many_files', detail: `too many 'file' fields in one request (REQUEST_MAX_BATCH)`, headers: {} };
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

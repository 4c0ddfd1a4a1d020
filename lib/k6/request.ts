// One inference request: body (raw image, or multipart for several), X-Image-Id, tags, checks.
// Every request carries the tags impl, scenario, level and phase; thresholds select on them.
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { check } from 'k6';
import { multipartBody } from '../multipart.ts';
import type { InferResponse, ModelName } from '../types.ts';
import type { LoadedImage } from './dataset.ts';
import { checkOutputs } from './output-check.ts';
import { recordAnswer } from './answer-metrics.ts';
import { recordGoodput } from './goodput.ts';
import type { RequestTags } from './tags.ts';
import { judgeAnswer, type AnswerVerdict } from '../answer-check.ts';

export interface InferRequest {
  method: 'POST';
  url: string;
  body: ArrayBuffer;
  params: { headers: Record<string, string>; tags: RequestTags; timeout: string };
}

/** Builds the request without sending it (http.batch sends warm-up requests concurrently). */
export function inferRequest(target: string, images: LoadedImage[], tags: RequestTags, models = ''): InferRequest {
  const url = `${target}/infer/${tags.impl}${models ? `?models=${models}` : ''}`;
  const ids = images.map((i) => i.id).join(',');
  // `name` groups every request of an implementation under one URL in k6's output.
  const common = { tags: { ...tags, name: `POST /infer/${tags.impl}` }, timeout: '120s' };
  if (images.length === 1) {
    const img = images[0]!;
    const body = img.bytes.byteOffset === 0 && img.bytes.byteLength === img.bytes.buffer.byteLength ? (img.bytes.buffer as ArrayBuffer) : img.bytes.slice().buffer;
    return { method: 'POST', url, body, params: { ...common, headers: { 'Content-Type': img.contentType, 'X-Image-Id': ids } } };
  }
  const mp = multipartBody(images.map((img) => ({ field: 'file', filename: img.id, contentType: img.contentType, bytes: img.bytes })));
  return { method: 'POST', url, body: mp.body, params: { ...common, headers: { 'Content-Type': mp.contentType, 'X-Image-Id': ids } } };
}

export function send(req: InferRequest): RefinedResponse<ResponseType> {
  return http.post(req.url, req.body, req.params);
}

// k6 provides console; @types/k6 does not declare it (no DOM lib in this tsconfig).
declare const console: { warn(...args: unknown[]): void };

let warned = 0;

/** The verdict the named checks below read: set by checkResponse before it calls check(). */
let verdict: AnswerVerdict = judgeAnswer(null, [], '');

/** The checks of every answer, built once rather than as a new literal of four arrow functions per response. */
const ANSWER_CHECKS = {
  'status is 200': (r: RefinedResponse<ResponseType>) => r.status === 200,
  'body is an InferResponse of this implementation': () => verdict.isResponse,
  'one result per image sent, in order': () => verdict.ordered,
  'detections for every model': () => verdict.detections,
};

/** Protocol checks of one response; returns true when all passed. Failures name the image(s). */
export function checkResponse(res: RefinedResponse<ResponseType>, images: LoadedImage[], tags: RequestTags, models?: readonly ModelName[]): boolean {
  // A refusal is counted in its own column (requests_refused, and http_req_failed); it is not an
  // answer whose content could be checked, so `checks` judge accepted answers and real failures.
  if (recordAnswer(res, tags) === 'refused') {
    recordGoodput(res, tags, false);
    return false;
  }
  let body: InferResponse | null = null;
  try {
    // res.json() (Go's encoding/json) parses an answer in a fraction of the time JSON.parse (sobek's
    // token decoder) takes, and parsing is the largest item in k6's CPU per request.
    body = res.status === 200 ? (res.json() as unknown as InferResponse) : null;
  } catch {
    body = null;
  }
  const ids = images.length === 1 ? [images[0]!.id] : images.map((i) => i.id);
  verdict = judgeAnswer(body, ids, tags.impl);
  const ok = check(res, ANSWER_CHECKS, tags);
  if (!ok && warned++ < 5) console.warn(`request ${tags.impl} image(s) ${ids.join(',')}: status ${res.status}, ${String(res.body ?? res.error).slice(0, 200)}`);

  // ==== OUTPUT-CHECK HOOK =====================================================================
  // The one place a response is compared with the reference for the image(s) it was sent:
  // `body.images[i]` answers `images[i].id`. The in-run output checks (lib/k6/output-check.ts)
  // plug in here. Without REFERENCE (absolute path of the reference's detections.json) it is a no-op.
  // Not part of `ok`: output mismatches fail their own thresholds (output_match), not `checks`.
  const outputsOk = res.status === 200 ? (models ? checkOutputs(ids, body, tags, models) : checkOutputs(ids, body, tags)) : false;
  // ============================================================================================
  // Goodput (lib/k6/goodput.ts): accepted, on time, protocol checks and (with REFERENCE) outputs passed.
  recordGoodput(res, tags, ok && outputsOk);

  return ok;
}

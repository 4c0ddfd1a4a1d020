// How each inference answer counts. Accepted (2xx) answers are the only ones in requests/s and
// latency figures: they select k6's built-in tag expected_response:true. Refused (503: the server said
// "not now" with Retry-After: queue full or timed out, loading, shutting down) and failed (anything
// else: 4xx/5xx, resets, client timeouts) are counted by the two Rates below, tagged like the request,
// so the summary shows them in their own columns and thresholds can bound them apart.
import { Rate } from 'k6/metrics';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { answerKind, type AnswerKind } from '../answer.ts';
import type { RequestTags } from './tags.ts';

const refused = new Rate('requests_refused');
const failed = new Rate('requests_failed');

export function recordAnswer(res: RefinedResponse<ResponseType>, tags: RequestTags): AnswerKind {
  const kind = answerKind(res.status);
  refused.add(kind === 'refused', tags);
  failed.add(kind === 'failed', tags);
  return kind;
}

/** Seconds a refused client waits before its next request: the answer's Retry-After, at most `cap_s`. */
export function retryAfterS(res: RefinedResponse<ResponseType>, cap_s: number): number {
  const v = Number(res.headers['Retry-After'] ?? res.headers['retry-after'] ?? 1);
  return Math.min(cap_s, Number.isFinite(v) && v >= 0 ? v : 1);
}

// How each inference answer counts. Accepted (2xx) answers are the only ones in requests/s and
// latency figures: they select k6's built-in tag expected_response:true. Refused (503: the server said
// "not now" with Retry-After: queue full or timed out, loading, shutting down) and failed (anything
// else: 4xx/5xx, resets, client timeouts) are counted by the two Rates below, tagged like the request,
// so the summary shows them in their own columns and thresholds can bound them apart.
import { Rate } from 'k6/metrics';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { answerOutcome, type AnswerOutcome } from '../outcome.ts';
import type { RequestTags } from './request.ts';

const refused = new Rate('requests_refused');
const failed = new Rate('requests_failed');

export function recordOutcome(res: RefinedResponse<ResponseType>, tags: RequestTags): AnswerOutcome {
  const outcome = answerOutcome(res.status);
  refused.add(outcome === 'refused', tags);
  failed.add(outcome === 'failed', tags);
  return outcome;
}

/** Seconds a refused client waits before its next request: the answer's Retry-After, at most `cap_s`. */
export function retryAfterS(res: RefinedResponse<ResponseType>, cap_s: number): number {
  const v = Number(res.headers['Retry-After'] ?? res.headers['retry-after'] ?? 1);
  return Math.min(cap_s, Number.isFinite(v) && v >= 0 ? v : 1);
}

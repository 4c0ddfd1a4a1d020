// The three kinds of answer an inference request can get, shared by k6's metrics and Node-side tools.

/** The status of a capacity refusal: the server is up but will not take this request now. */
const REFUSED_STATUS = 503;

export type AnswerKind = 'accepted' | 'refused' | 'failed';

/** 2xx accepted; 503 refused (queue_full, queue_timeout, not_ready, shutting_down); the rest (and status 0: no answer) failed. */
export function answerKind(status: number): AnswerKind {
  if (status >= 200 && status < 300) return 'accepted';
  return status === REFUSED_STATUS ? 'refused' : 'failed';
}

/** Goodput's rule for one answer (lib/k6/goodput.ts counts it): accepted, correct, and on time, i.e.
 * its duration within `sloMs`; with no SLO (undefined) every accepted answer is on time. */
export function isGood(status: number, durationMs: number, correct: boolean, sloMs: number | undefined): boolean {
  return answerKind(status) === 'accepted' && correct && (sloMs === undefined || durationMs <= sloMs);
}

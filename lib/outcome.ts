// The three ways an inference request can end, shared by k6's metrics and Node-side tools.

/** The status of a capacity refusal: the server is up but will not take this request now. */
export const REFUSED_STATUS = 503;

export type AnswerOutcome = 'accepted' | 'refused' | 'failed';

/** 2xx accepted; 503 refused (queue_full, queue_timeout, not_ready, shutting_down); the rest (and status 0: no answer) failed. */
export function answerOutcome(status: number): AnswerOutcome {
  if (status >= 200 && status < 300) return 'accepted';
  return status === REFUSED_STATUS ? 'refused' : 'failed';
}

// What the native protocol's checks judge of one answer (pure: k6 runs it per response, tests run it
// in Node). One pass over the parsed body, reading each field once: on the object k6's res.json()
// returns, every property read converts a Go value anew, so one pass costs less k6 CPU per answer
// than four predicates each walking `body.images`.
import type { InferResponse } from './types.ts';

/** The verdicts behind the checks of one answer (besides its status). */
export interface AnswerVerdict {
  /** An InferResponse of the implementation asked, with an images array. */
  isResponse: boolean;
  /** One result per image sent, in the order sent (an echoed image_id, when present, matches). */
  ordered: boolean;
  /** Every result carries at least one model, each with boxes and as many scores. */
  detections: boolean;
}

const NOTHING: AnswerVerdict = { isResponse: false, ordered: false, detections: false };

export function judgeAnswer(body: InferResponse | null | undefined, sentIds: readonly string[], impl: string): AnswerVerdict {
  if (body === null || body === undefined || typeof body !== 'object') return NOTHING;
  const results = body.images;
  if (!Array.isArray(results)) return NOTHING;
  const isResponse = body.implementation === impl;
  const n = results.length;
  let ordered = n === sentIds.length;
  let detections = true;
  for (let i = 0; i < n && (ordered || detections); i++) {
    const r = results[i];
    if (r === null || typeof r !== 'object') return { isResponse, ordered: false, detections: false };
    if (ordered) {
      const id = r.image_id;
      if (id !== undefined && id !== sentIds[i]) ordered = false;
    }
    if (detections) detections = modelsComplete(r.models);
  }
  return { isResponse, ordered, detections };
}

function modelsComplete(models: InferResponse['images'][number]['models'] | undefined): boolean {
  if (models === null || typeof models !== 'object') return false;
  let count = 0;
  for (const name in models) {
    const m = models[name as keyof typeof models];
    if (m === undefined || m === null) return false;
    const boxes = m.boxes;
    const scores = m.scores;
    if (!Array.isArray(boxes) || !Array.isArray(scores) || boxes.length !== scores.length) return false;
    count++;
  }
  return count > 0;
}

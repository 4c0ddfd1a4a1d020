// One response against the reference for the image it was sent with: the in-run check used by k6
// (lib/k6/output-check.ts) and by the accuracy tools. Pure TypeScript.
import type { ModelName } from '../types.ts';
import type { Detections } from './match.ts';
import { compareDetections, unmatchedRatio } from './metrics.ts';
import type { AccuracyGateBounds } from './gates.ts';

export interface ModelCheck {
  model: ModelName;
  /** null when the model is missing from the response or nothing matched. */
  boxes_mse: number | null;
  scores_mse: number | null;
  unmatched: number;
  labels_accuracy: number;
  match: boolean;
}

export interface OutputCheck {
  /** Every reference model present and within bounds. */
  match: boolean;
  models: ModelCheck[];
}

export function checkModel(
  model: ModelName,
  actual: Detections | undefined,
  reference: Detections,
  bounds: AccuracyGateBounds,
): ModelCheck {
  if (!actual) {
    return { model, boxes_mse: null, scores_mse: null, unmatched: reference.boxes.length, labels_accuracy: 0, match: false };
  }
  const s = compareDetections(actual, reference);
  const empty = s.reference_detections === 0 && s.actual_detections === 0;
  const boxes = s.matched > 0 ? s.box_sq_err / (4 * s.matched) : empty ? 0 : null;
  const scores = s.matched > 0 ? s.score_sq_err / s.matched : empty ? 0 : null;
  const unmatched = s.unmatched_actual + s.unmatched_reference;
  const labels = s.labels_total > 0 ? s.labels_correct / s.labels_total : 1;
  const match =
    boxes !== null && boxes <= bounds.boxes_mse_max &&
    scores !== null && scores <= bounds.scores_mse_max &&
    labels >= bounds.labels_accuracy_min && unmatchedRatio(unmatched, s.reference_detections) <= bounds.unmatched_max;
  return { model, boxes_mse: boxes, scores_mse: scores, unmatched, labels_accuracy: labels, match };
}

/** Checks every model of the reference that the response was asked for. */
export function checkOutput(
  actual: Partial<Record<ModelName, Detections>>,
  reference: Partial<Record<ModelName, Detections>>,
  bounds: AccuracyGateBounds,
  models: readonly ModelName[] = Object.keys(reference) as ModelName[],
): OutputCheck {
  const checks = models.filter((m) => reference[m]).map((m) => checkModel(m, actual[m], reference[m]!, bounds));
  return { match: checks.every((c) => c.match), models: checks };
}

// One response against the reference for the image it was sent with: the in-run check used by k6
// (lib/k6/output-check.ts) and by the accuracy tools. Pure TypeScript.
import type { ModelName } from '../types.ts';
import type { Detections } from './match.ts';
import { compareDetections, finalizeMetrics } from './metrics.ts';
import { evaluateGates, type AccuracyGateBounds } from './gates.ts';

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
  // Same figures and gates as the replay, for one image: the two checks cannot drift apart.
  const m = finalizeMetrics(compareDetections(actual, reference));
  const match = evaluateGates(m, bounds).every((g) => g.passed);
  return { model, boxes_mse: m.boxes_mse, scores_mse: m.scores_mse, unmatched: m.unmatched, labels_accuracy: m.labels_accuracy, match };
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

// Matching of detections against reference detections: greedy by score, IoU-based, never by index.
// The seed project compared the i-th detection with the i-th reference after a score filter, so a
// mere reordering looked like an error and a swapped answer could look right; this does what COCO
// evaluation does: take the actual detections in descending score order and give each the unmatched
// reference detection with the highest IoU (>= the threshold).
import { iou, type Box } from './iou.ts';

/** The detections of one model for one image (a subset of lib/types.ts ModelDetections). */
export interface Detections {
  boxes: readonly Box[];
  scores: readonly number[];
  labels: readonly number[];
}

export interface MatchedPair {
  /** Index into the actual detections. */
  actual: number;
  /** Index into the reference detections. */
  reference: number;
  iou: number;
}

export interface MatchResult {
  pairs: MatchedPair[];
  /** Indices of actual detections without a partner (extra detections). */
  unmatchedActual: number[];
  /** Indices of reference detections without a partner (missing detections). */
  unmatchedReference: number[];
}

export const DEFAULT_IOU_THRESHOLD = 0.5;

export interface MatchOptions {
  iouThreshold?: number;
  /** true (default): only same-label pairs match. false: any label matches, same label preferred. */
  classAware?: boolean;
}

/** Actual indices by descending score; ties keep the original order so the result is deterministic. */
function byScoreDescending(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}

export function matchDetections(actual: Detections, reference: Detections, options: MatchOptions = {}): MatchResult {
  const threshold = options.iouThreshold ?? DEFAULT_IOU_THRESHOLD;
  const classAware = options.classAware ?? true;
  const taken = new Uint8Array(reference.boxes.length);
  const pairs: MatchedPair[] = [];
  const unmatchedActual: number[] = [];
  for (const a of byScoreDescending(actual.scores)) {
    let best = -1;
    let bestIou = -1;
    let bestSameLabel = false;
    for (let r = 0; r < reference.boxes.length; r++) {
      if (taken[r]) continue;
      const sameLabel = actual.labels[a] === reference.labels[r];
      if (classAware && !sameLabel) continue;
      const overlap = iou(actual.boxes[a], reference.boxes[r]);
      if (overlap < threshold) continue;
      // Highest IoU wins; at equal IoU a same-label partner wins, then the higher reference score.
      const better =
        overlap > bestIou ||
        (overlap === bestIou && sameLabel && !bestSameLabel) ||
        (overlap === bestIou && sameLabel === bestSameLabel && reference.scores[r] > reference.scores[best]);
      if (better) {
        best = r;
        bestIou = overlap;
        bestSameLabel = sameLabel;
      }
    }
    if (best < 0) unmatchedActual.push(a);
    else {
      taken[best] = 1;
      pairs.push({ actual: a, reference: best, iou: bestIou });
    }
  }
  const unmatchedReference: number[] = [];
  for (let r = 0; r < taken.length; r++) if (!taken[r]) unmatchedReference.push(r);
  unmatchedActual.sort((x, y) => x - y);
  return { pairs, unmatchedActual, unmatchedReference };
}

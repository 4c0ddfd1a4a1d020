// Matching of detections against reference detections: greedy by score, IoU-based, never by index.
// The seed project compared the i-th detection with the i-th reference after a score filter, so a
// mere reordering looked like an error and a swapped answer could look right; this does what COCO
// evaluation does: take the actual detections in descending score order and give each the unmatched
// reference detection with the highest IoU (>= the threshold).
import { iouBox, overlap, type Box } from './iou.ts';

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
  const nRef = reference.boxes.length;
  // Nothing to pair (e.g. invalid's empty answers): every entry is unmatched. Inside k6 building the
  // reference's index below cost more than the rest of the request.
  if (nRef === 0 || actual.boxes.length === 0) {
    return { pairs: [], unmatchedActual: actual.boxes.map((_, i) => i), unmatchedReference: reference.boxes.map((_, i) => i) };
  }
  // Widened copies in one flat array and per-label buckets: inside k6 (goja) nested arrays and one
  // search over every pair made this the costliest step of a response with 3 x 100 detections.
  const ref = new Float64Array(nRef * 5);
  const byLabel = new Map<number, number[]>();
  const all: number[] = [];
  for (let r = 0; r < nRef; r++) {
    ref.set(iouBox(reference.boxes[r]), r * 5);
    all.push(r);
    const bucket = byLabel.get(reference.labels[r]);
    if (bucket) bucket.push(r);
    else byLabel.set(reference.labels[r], [r]);
  }
  const taken = new Uint8Array(nRef);
  const pairs: MatchedPair[] = [];
  const unmatchedActual: number[] = [];
  for (const a of byScoreDescending(actual.scores)) {
    const [ax1, ay1, ax2, ay2, area] = iouBox(actual.boxes[a]);
    const label = actual.labels[a];
    // A box with a NaN or infinite coordinate overlaps nothing.
    const candidates = Number.isFinite(area) ? (classAware ? byLabel.get(label) ?? [] : all) : [];
    let best = -1;
    let bestIou = -1;
    let bestSameLabel = false;
    // Index loop: goja's for-of is several times slower.
    for (let c = 0; c < candidates.length; c++) {
      const r = candidates[c];
      if (taken[r]) continue;
      const o = r * 5;
      const iouValue = overlap(ax1, ay1, ax2, ay2, area, ref[o], ref[o + 1], ref[o + 2], ref[o + 3], ref[o + 4]);
      if (iouValue < threshold) continue;
      const sameLabel = label === reference.labels[r];
      // Highest IoU wins; at equal IoU a same-label partner wins, then the higher reference score.
      const better =
        iouValue > bestIou ||
        (iouValue === bestIou && sameLabel && !bestSameLabel) ||
        (iouValue === bestIou && sameLabel === bestSameLabel && reference.scores[r] > reference.scores[best]);
      if (better) {
        best = r;
        bestIou = iouValue;
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
  for (let r = 0; r < nRef; r++) if (!taken[r]) unmatchedReference.push(r);
  unmatchedActual.sort((x, y) => x - y);
  return { pairs, unmatchedActual, unmatchedReference };
}

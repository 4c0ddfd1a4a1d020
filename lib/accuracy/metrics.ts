// Accuracy metrics of actual detections against reference detections.
// Comparisons accumulate plain sums (so per-model and overall figures are exact pooled values, not
// means of means) and are turned into metrics at the end. Every figure carries its sample count.
import { matchDetections, type Detections, type MatchOptions } from './match.ts';

/** Running sums of one or many image/model comparisons. */
export interface AccuracySums {
  images: number;
  reference_detections: number;
  actual_detections: number;
  matched: number;
  unmatched_reference: number;
  unmatched_actual: number;
  /** Sum over matched pairs of the squared coordinate differences (4 per pair), px^2. */
  box_sq_err: number;
  score_sq_err: number;
  iou_sum: number;
  /** Detections at the right place (IoU >= threshold) with the right label. */
  labels_correct: number;
  /** Unmatched detections whose place matches an unmatched reference detection of another label. */
  label_mismatches: number;
  /** Sum over images of max(reference, actual) count: the labels-accuracy denominator. */
  labels_total: number;
  count_abs_diff: number;
  count_diff: number;
  count_abs_diff_max: number;
  class_logits_sq_err: number;
  class_logits_n: number;
  box_regression_sq_err: number;
  box_regression_n: number;
}

export function emptySums(): AccuracySums {
  return {
    images: 0, reference_detections: 0, actual_detections: 0, matched: 0, unmatched_reference: 0,
    unmatched_actual: 0, box_sq_err: 0, score_sq_err: 0, iou_sum: 0, labels_correct: 0, label_mismatches: 0, labels_total: 0,
    count_abs_diff: 0, count_diff: 0, count_abs_diff_max: 0, class_logits_sq_err: 0, class_logits_n: 0,
    box_regression_sq_err: 0, box_regression_n: 0,
  };
}

/** Adds b into a (in place) and returns a. */
export function addSums(a: AccuracySums, b: AccuracySums): AccuracySums {
  for (const key of Object.keys(a) as (keyof AccuracySums)[]) {
    a[key] = key === 'count_abs_diff_max' ? Math.max(a[key], b[key]) : a[key] + b[key];
  }
  return a;
}

function pick(d: Detections, indices: readonly number[]): Detections {
  return { boxes: indices.map((i) => d.boxes[i]), scores: indices.map((i) => d.scores[i]), labels: indices.map((i) => d.labels[i]) };
}

/** Same entries in the same order with the same values: what a lossless implementation returns. */
function identicalDetections(a: Detections, r: Detections): boolean {
  const n = r.boxes.length;
  if (a.boxes.length !== n || a.scores.length !== n || a.labels.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const x = a.boxes[i];
    const y = r.boxes[i];
    if (a.scores[i] !== r.scores[i] || a.labels[i] !== r.labels[i] || x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2] || x[3] !== y[3]) return false;
  }
  return true;
}

/** The sums matching yields for identical lists: every entry pairs with itself (IoU 1, same label;
 * a twin at the same place loses the tie to the entry's own same-label, same-score partner), so
 * the O(n^2) IoU search, the costliest step of a response inside k6, is skipped. */
function identicalSums(n: number): AccuracySums {
  return { ...emptySums(), images: 1, reference_detections: n, actual_detections: n, matched: n, iou_sum: n, labels_correct: n, labels_total: n };
}

/** The sums when one side has no detections: nothing can pair, every entry of the other side is
 * unmatched. What the matching below yields then, without its index lists: inside k6 building them
 * (the class-aware pass, then the leftovers' class-agnostic pass) was half of the output check's k6
 * CPU on invalid's answers, which are all empty. */
function oneSideEmptySums(nActual: number, nReference: number): AccuracySums {
  const diff = nActual - nReference;
  return {
    ...emptySums(), images: 1, reference_detections: nReference, actual_detections: nActual, unmatched_reference: nReference, unmatched_actual: nActual,
    labels_total: Math.max(nActual, nReference), count_diff: diff, count_abs_diff: Math.abs(diff), count_abs_diff_max: Math.abs(diff),
  };
}

/** Compares the detections of one model on one image. */
export function compareDetections(actual: Detections, reference: Detections, options: MatchOptions = {}): AccuracySums {
  if (identicalDetections(actual, reference)) return identicalSums(actual.boxes.length);
  if (actual.boxes.length === 0 || reference.boxes.length === 0) return oneSideEmptySums(actual.boxes.length, reference.boxes.length);
  const sums = emptySums();
  const { pairs, unmatchedActual, unmatchedReference } = matchDetections(actual, reference, options);
  sums.images = 1;
  sums.reference_detections = reference.boxes.length;
  sums.actual_detections = actual.boxes.length;
  sums.matched = pairs.length;
  sums.unmatched_reference = unmatchedReference.length;
  sums.unmatched_actual = unmatchedActual.length;
  for (const p of pairs) {
    const a = actual.boxes[p.actual];
    const r = reference.boxes[p.reference];
    for (let k = 0; k < 4; k++) sums.box_sq_err += (a[k] - r[k]) ** 2;
    sums.score_sq_err += (actual.scores[p.actual] - reference.scores[p.reference]) ** 2;
    sums.iou_sum += p.iou;
  }
  // Labels: class-aware pairs agree by construction; what is left unmatched is matched again without
  // regard to class, which finds "another class at the same place". Only the leftovers: a second
  // search over every pair would double the matching's cost inside k6.
  sums.labels_correct = pairs.length;
  const agnostic = matchDetections(pick(actual, unmatchedActual), pick(reference, unmatchedReference), { ...options, classAware: false });
  for (const p of agnostic.pairs) {
    if (actual.labels[unmatchedActual[p.actual]] === reference.labels[unmatchedReference[p.reference]]) sums.labels_correct++;
    else sums.label_mismatches++;
  }
  sums.labels_total = Math.max(actual.boxes.length, reference.boxes.length);
  const diff = actual.boxes.length - reference.boxes.length;
  sums.count_diff = diff;
  sums.count_abs_diff = Math.abs(diff);
  sums.count_abs_diff_max = Math.abs(diff);
  return sums;
}

/** Adds the squared errors of raw-head values (reference subset vs the same entries of the actual heads). */
export function addRawHeadErrors(
  sums: AccuracySums,
  head: 'class_logits' | 'box_regression',
  actual: ArrayLike<number>,
  reference: ArrayLike<number>,
): void {
  if (actual.length !== reference.length) {
    throw new Error(`${head}: ${actual.length} actual values vs ${reference.length} reference values`);
  }
  let sq = 0;
  for (let i = 0; i < actual.length; i++) sq += (actual[i] - reference[i]) ** 2;
  if (head === 'class_logits') {
    sums.class_logits_sq_err += sq;
    sums.class_logits_n += actual.length;
  } else {
    sums.box_regression_sq_err += sq;
    sums.box_regression_n += actual.length;
  }
}

/** Final figures. null = not measurable (e.g. no matched pair although detections were expected). */
export interface AccuracyMetrics {
  images: number;
  reference_detections: number;
  actual_detections: number;
  matched: number;
  /** unmatched_reference + unmatched_actual. */
  unmatched: number;
  unmatched_reference: number;
  unmatched_actual: number;
  /** unmatched / reference detections (unmatched itself when there were none): what gates bound,
   * so one bound fits any dataset size; lossless bounds it by 0. */
  unmatched_ratio: number;
  /** Mean over matched pairs and the 4 coordinates of the squared difference, px^2. */
  boxes_mse: number | null;
  scores_mse: number | null;
  /** Detections at the right place with the right label / sum over images of max(reference, actual) count. */
  labels_accuracy: number;
  /** Detections at the right place (IoU >= threshold) but with another label. */
  label_mismatches: number;
  /** Mean IoU of matched pairs (1 = identical boxes). */
  mean_iou: number | null;
  /** Mean over images of |actual count - reference count|. */
  count_diff_mean: number;
  count_diff_max: number;
  /** Sum over images of (actual count - reference count). */
  count_diff_total: number;
  /** MSE of raw heads on the reference's stored subset; null when the implementation returned none. */
  class_logits_mse: number | null;
  class_logits_values: number;
  box_regression_mse: number | null;
  box_regression_values: number;
}

export function unmatchedRatio(unmatched: number, referenceDetections: number): number {
  return unmatched / Math.max(1, referenceDetections);
}

export function finalizeMetrics(s: AccuracySums): AccuracyMetrics {
  // Nothing expected and nothing returned: no error to measure, so 0 rather than "unknown".
  const nothingToCompare = s.reference_detections === 0 && s.actual_detections === 0;
  const perPair = (sum: number, n: number): number | null => (n > 0 ? sum / n : nothingToCompare ? 0 : null);
  return {
    images: s.images,
    reference_detections: s.reference_detections,
    actual_detections: s.actual_detections,
    matched: s.matched,
    unmatched: s.unmatched_reference + s.unmatched_actual,
    unmatched_reference: s.unmatched_reference,
    unmatched_actual: s.unmatched_actual,
    unmatched_ratio: unmatchedRatio(s.unmatched_reference + s.unmatched_actual, s.reference_detections),
    boxes_mse: perPair(s.box_sq_err, 4 * s.matched),
    scores_mse: perPair(s.score_sq_err, s.matched),
    labels_accuracy: s.labels_total > 0 ? s.labels_correct / s.labels_total : 1,
    label_mismatches: s.label_mismatches,
    mean_iou: s.matched > 0 ? s.iou_sum / s.matched : nothingToCompare ? 1 : null,
    count_diff_mean: s.images > 0 ? s.count_abs_diff / s.images : 0,
    count_diff_max: s.count_abs_diff_max,
    count_diff_total: s.count_diff,
    class_logits_mse: s.class_logits_n > 0 ? s.class_logits_sq_err / s.class_logits_n : null,
    class_logits_values: s.class_logits_n,
    box_regression_mse: s.box_regression_n > 0 ? s.box_regression_sq_err / s.box_regression_n : null,
    box_regression_values: s.box_regression_n,
  };
}

// Matching and metrics on hand-made cases: the numbers here are worked out by hand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  matchIou as iou, matchDetections, compareDetections, finalizeMetrics, addSums, emptySums, evaluateGates,
  describeBrokenGate, checkOutput, isClose, firstMismatch, assertAllClose, type Detections,
} from '../../lib/accuracy/index.ts';

const LOSSLESS = { boxes_mse_max: 1e-6, scores_mse_max: 1e-8, labels_accuracy_min: 1, unmatched_max: 0 };

/** Three well-separated detections of classes 1, 2 and 3. */
function reference(): Detections {
  return {
    boxes: [[10, 10, 50, 50], [100, 100, 180, 160], [200, 20, 260, 90]],
    scores: [0.9, 0.7, 0.5],
    labels: [1, 2, 3],
  };
}

function metricsOf(actual: Detections, ref: Detections = reference()) {
  return finalizeMetrics(compareDetections(actual, ref));
}

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint ones and the hand-computed value for an overlap', () => {
    assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
    assert.equal(iou([0, 0, 10, 10], [20, 20, 30, 30]), 0);
    // Overlap 5x10 = 50; union 100 + 100 - 50 = 150.
    assert.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  });

  it('sees zero-width boxes (clipped at the border) as 1 px strips, so near-identical ones still match', () => {
    assert.equal(iou([0, 100, 0, 140], [0, 100, 0, 140]), 1);
    // Both become [-0.5, 0.5] wide; heights 40 and 39.5 overlap by 39.5.
    assert.equal(iou([0, 100, 0, 140], [0, 100.5, 0, 140]), 39.5 / 40);
    const clipped: Detections = { boxes: [[0, 100, 0, 140]], scores: [0.2], labels: [3] };
    const shifted: Detections = { boxes: [[0, 100.5, 0, 140]], scores: [0.2], labels: [3] };
    const m = metricsOf(shifted, clipped);
    assert.equal(m.matched, 1);
    assert.equal(m.boxes_mse, 0.25 / 4, 'MSE on the coordinates as returned');
  });
});

describe('matching and metrics', () => {
  it('identical detections: every deviation is 0, everything matched', () => {
    const m = metricsOf(reference());
    assert.equal(m.boxes_mse, 0);
    assert.equal(m.scores_mse, 0);
    assert.equal(m.labels_accuracy, 1);
    assert.equal(m.mean_iou, 1);
    assert.equal(m.count_diff_mean, 0);
    assert.equal(m.matched, 3);
    assert.equal(m.unmatched, 0);
    assert.deepEqual(evaluateGates(m, LOSSLESS).filter((g) => !g.passed), []);
  });

  it('a box shifted by 2 px in x: boxes MSE = (2^2 + 2^2 + 0 + 0) / (4 coords x 3 pairs) = 2/3 px^2', () => {
    const shifted = reference();
    shifted.boxes = shifted.boxes.map((b, i) => (i === 1 ? [b[0] + 2, b[1], b[2] + 2, b[3]] : b));
    const m = metricsOf(shifted);
    assert.equal(m.matched, 3);
    assert.equal(m.unmatched, 0);
    assert.ok(Math.abs(m.boxes_mse! - 8 / 12) < 1e-12, `boxes_mse ${m.boxes_mse}`);
    assert.equal(m.scores_mse, 0);
    // IoU of the shifted 80x60 box: intersection 78x60, union 2*4800 - 4680.
    assert.ok(Math.abs(m.mean_iou! - (2 + 4680 / 4920) / 3) < 1e-12);
    const broken = evaluateGates(m, LOSSLESS).filter((g) => !g.passed);
    assert.deepEqual(broken.map((g) => g.metric), ['boxes_mse']);
    assert.match(describeBrokenGate('d0', broken[0], m), /boxes_mse = 0\.666\d* px\^2, bound <= 0\.000001/);
  });

  it('a single pair shifted by 2 px in x: boxes MSE is 2 px^2', () => {
    const one: Detections = { boxes: [[0, 0, 40, 40]], scores: [0.5], labels: [7] };
    const moved: Detections = { boxes: [[2, 0, 42, 40]], scores: [0.5], labels: [7] };
    assert.equal(metricsOf(moved, one).boxes_mse, 2);
  });

  it('a score differing by 0.1 gives scores MSE 0.01 / 3', () => {
    const changed = reference();
    changed.scores = [0.9, 0.6, 0.5];
    assert.ok(Math.abs(metricsOf(changed).scores_mse! - (0.1 ** 2) / 3) < 1e-12);
  });

  it('the same detections in another order: 0 on every metric (never matched by index)', () => {
    const r = reference();
    const order = [2, 0, 1];
    const shuffled: Detections = {
      boxes: order.map((i) => r.boxes[i]), scores: order.map((i) => r.scores[i]), labels: order.map((i) => r.labels[i]),
    };
    const m = metricsOf(shuffled);
    assert.equal(m.boxes_mse, 0);
    assert.equal(m.scores_mse, 0);
    assert.equal(m.labels_accuracy, 1);
    assert.equal(m.unmatched, 0);
    const pairs = matchDetections(shuffled, r).pairs.map((p) => [p.actual, p.reference]).sort();
    assert.deepEqual(pairs, [[0, 2], [1, 0], [2, 1]]);
  });

  it('a missing detection is counted as unmatched reference, the rest still compared', () => {
    const r = reference();
    const missing: Detections = { boxes: r.boxes.slice(0, 2), scores: r.scores.slice(0, 2), labels: r.labels.slice(0, 2) };
    const m = metricsOf(missing);
    assert.equal(m.matched, 2);
    assert.equal(m.unmatched_reference, 1);
    assert.equal(m.unmatched_actual, 0);
    assert.equal(m.unmatched, 1);
    assert.equal(m.unmatched_ratio, 1 / 3);
    assert.equal(m.boxes_mse, 0);
    assert.equal(m.count_diff_total, -1);
    assert.equal(m.labels_accuracy, 2 / 3);
    assert.equal(m.label_mismatches, 0, 'a missing detection is not a wrong label');
    assert.deepEqual(evaluateGates(m, LOSSLESS).filter((g) => !g.passed).map((g) => g.metric), ['labels_accuracy', 'unmatched_ratio']);
  });

  it('another class at the same place is unmatched (both sides) and lowers labels accuracy', () => {
    const relabelled = reference();
    relabelled.labels = [1, 5, 3];
    const m = metricsOf(relabelled);
    assert.equal(m.matched, 2);
    assert.equal(m.unmatched_reference, 1);
    assert.equal(m.unmatched_actual, 1);
    assert.equal(m.labels_accuracy, 2 / 3);
    assert.equal(m.label_mismatches, 1);
  });

  it('a box below IoU 0.5 does not match', () => {
    const far: Detections = { boxes: [[0, 0, 10, 10]], scores: [1], labels: [1] };
    const half: Detections = { boxes: [[5, 0, 15, 10]], scores: [1], labels: [1] }; // IoU 1/3
    assert.equal(metricsOf(half, far).matched, 0);
    assert.equal(metricsOf(half, far).boxes_mse, null);
  });

  it('greedy by score: the higher-scored detection takes the better reference box', () => {
    const ref: Detections = { boxes: [[0, 0, 10, 10]], scores: [0.9], labels: [1] };
    const actual: Detections = { boxes: [[1, 0, 11, 10], [0, 0, 10, 10]], scores: [0.3, 0.9], labels: [1, 1] };
    const { pairs, unmatchedActual } = matchDetections(actual, ref);
    assert.deepEqual(pairs.map((p) => [p.actual, p.reference]), [[1, 0]]);
    assert.deepEqual(unmatchedActual, [0]);
  });

  it('zero detections against a non-empty reference (the invalid stub) fails every gate', () => {
    const m = metricsOf({ boxes: [], scores: [], labels: [] });
    assert.equal(m.matched, 0);
    assert.equal(m.unmatched, 3);
    assert.equal(m.boxes_mse, null);
    assert.equal(m.labels_accuracy, 0);
    const broken = evaluateGates(m, LOSSLESS).filter((g) => !g.passed).map((g) => g.metric);
    assert.deepEqual(broken, ['boxes_mse', 'scores_mse', 'labels_accuracy', 'unmatched_ratio']);
  });

  it('one side empty: the sums are what matching every entry as unmatched gives, both ways round', () => {
    const none: Detections = { boxes: [], scores: [], labels: [] };
    const common = { ...emptySums(), images: 1, matched: 0, box_sq_err: 0, score_sq_err: 0, iou_sum: 0, labels_correct: 0, label_mismatches: 0, labels_total: 3 };
    assert.deepEqual(compareDetections(none, reference()), { ...common, reference_detections: 3, actual_detections: 0, unmatched_reference: 3, unmatched_actual: 0, count_diff: -3, count_abs_diff: 3, count_abs_diff_max: 3 });
    assert.deepEqual(compareDetections(reference(), none), { ...common, reference_detections: 0, actual_detections: 3, unmatched_reference: 0, unmatched_actual: 3, count_diff: 3, count_abs_diff: 3, count_abs_diff_max: 3 });
    // Both empty: identical (nothing to compare), every figure 0 but the image.
    assert.deepEqual(compareDetections(none, none), { ...emptySums(), images: 1 });
    // The same figures as one detection that matches nothing (a pass through the matching itself).
    const far: Detections = { boxes: [[900, 900, 950, 950]], scores: [0.5], labels: [1] };
    const viaMatching = finalizeMetrics(compareDetections(far, reference()));
    const shortCut = finalizeMetrics(compareDetections(none, reference()));
    assert.equal(viaMatching.unmatched, shortCut.unmatched + 1, 'the far detection adds one unmatched, nothing else');
    assert.equal(viaMatching.labels_accuracy, shortCut.labels_accuracy);
  });

  it('sums pool over images and models (not a mean of means)', () => {
    const one: Detections = { boxes: [[0, 0, 40, 40]], scores: [0.5], labels: [7] };
    const moved: Detections = { boxes: [[2, 0, 42, 40]], scores: [0.5], labels: [7] };
    const total = addSums(addSums(emptySums(), compareDetections(moved, one)), compareDetections(reference(), reference()));
    const m = finalizeMetrics(total);
    assert.equal(m.images, 2);
    assert.equal(m.matched, 4);
    assert.equal(m.boxes_mse, 8 / 16);
  });
});

describe('checkOutput (the in-run check)', () => {
  it('matches its own reference and rejects another image\'s detections', () => {
    const other: Detections = { boxes: [[300, 300, 340, 350]], scores: [0.8], labels: [4] };
    assert.equal(checkOutput({ d0: reference() }, { d0: reference() }, LOSSLESS).match, true);
    const swapped = checkOutput({ d0: other }, { d0: reference() }, LOSSLESS);
    assert.equal(swapped.match, false);
    assert.equal(swapped.models[0].unmatched, 4);
    assert.equal(checkOutput({}, { d0: reference() }, LOSSLESS).match, false, 'a missing model is a mismatch');
  });
});

describe('float tolerance helpers', () => {
  it('use abs + rel * |expected| and name index, actual and expected', () => {
    assert.ok(isClose(1.0000001, 1, { abs: 0, rel: 1e-6 }));
    assert.ok(!isClose(1.1, 1, { abs: 0.05, rel: 0.01 }));
    assert.ok(isClose(NaN, NaN));
    assert.equal(firstMismatch([1, 2, 3], [1, 2, 3]), null);
    const m = firstMismatch([1, 2.5, 3], [1, 2, 3], { abs: 0.1, rel: 0 }, 'scores');
    assert.deepEqual([m!.index, m!.actual, m!.expected], [1, 2.5, 2]);
    assert.throws(() => assertAllClose([1, 2.5], [1, 2], { abs: 0.1, rel: 0 }, 'scores'), /scores\[1\]: actual 2\.5, expected 2/);
    assert.throws(() => assertAllClose([1], [1, 2]), /length 1, expected 2/);
  });
});

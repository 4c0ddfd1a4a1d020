// Anchors, box decoding, NMS and the reference post-processing of lib/detection on hand-computed cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EFFICIENTDET_ANCHORS, anchorCount, decodeBox, generateAnchors, iou, levelSizes, nms, postprocess, topK, type Box,
} from '../../lib/detection/index.ts';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (tol ${tol})`);

describe('anchors', () => {
  it('counts 49,104 / 76,725 / 110,484 anchors for 512 / 640 / 768', () => {
    assert.equal(anchorCount(512), 49104);
    assert.equal(anchorCount(640), 76725);
    assert.equal(anchorCount(768), 110484);
    assert.deepEqual(levelSizes(640, EFFICIENTDET_ANCHORS), [80, 40, 20, 10, 5]);
  });

  it('places level-3 anchors at stride/2 with side 4 * 8 * 2^(octave/3), aspect (sqrt r, 1/sqrt r)', () => {
    const a = generateAnchors(512); // (cy, cx, h, w) per anchor
    assert.equal(a.length, 49104 * 4);
    assert.deepEqual([...a.subarray(0, 4)], [4, 4, 32, 32]); // level 3, (0,0), octave 0, ratio 1
    close(a[4 + 2], 32 / Math.SQRT2, 1e-4, 'ratio 2 height');
    close(a[4 + 3], 32 * Math.SQRT2, 1e-4, 'ratio 2 width');
    close(a[3 * 4 + 2], 32 * 2 ** (1 / 3), 1e-4, 'octave 1 side');
    assert.deepEqual([...a.subarray(9 * 4, 9 * 4 + 2)], [4, 12], 'next location is one stride to the right');
    const firstLevel4 = 64 * 64 * 9;
    assert.deepEqual([...a.subarray(firstLevel4 * 4, firstLevel4 * 4 + 4)], [8, 8, 64, 64]);
    const last = a.length - 4; // level 7 (4x4), bottom-right, octave 2, ratio 0.5
    close(a[last], 128 / 2 + 3 * 128, 0, 'last centre y');
    close(a[last + 3], 4 * 128 * 2 ** (2 / 3) * Math.SQRT1_2, 1e-3, 'last width');
  });
});

describe('decodeBox (automl: ty, tx, th, tw against anchor centre and size)', () => {
  const anchor = [100, 50, 20, 40]; // cy, cx, h, w
  it('zero regression gives the anchor itself as x1, y1, x2, y2', () => {
    assert.deepEqual(decodeBox([0, 0, 0, 0], 0, anchor, 0, 512), [30, 90, 70, 110]);
  });
  it('ty shifts the centre by ty * h, th scales the height by exp(th)', () => {
    const b = decodeBox([0.5, 0, Math.log(2), 0], 0, anchor, 0, 512);
    [30, 90, 70, 130].forEach((v, i) => close(b[i], v, 1e-4, `coord ${i}`));
  });
  it('tx, tw act on x; results are clipped to [0, size]', () => {
    const b = decodeBox([0, -1, 0, Math.log(3)], 0, anchor, 0, 512); // centre x 10, width 120
    [0, 90, 70, 110].forEach((v, i) => close(b[i], v, 1e-4, `coord ${i}`));
    const c = decodeBox([0, 0, 0, 0], 0, [500, 500, 40, 40], 0, 512);
    assert.deepEqual(c, [480, 480, 512, 512]);
  });
});

describe('iou and nms', () => {
  const A: Box = [0, 0, 10, 10], B: Box = [1, 0, 11, 10], C: Box = [20, 20, 30, 30], D: Box = [5, 0, 15, 10];
  it('iou of hand-made pairs', () => {
    close(iou(A, B), 90 / 110, 1e-12, 'A,B');
    close(iou(A, D), 50 / 150, 1e-12, 'A,D');
    assert.equal(iou(A, C), 0);
    assert.equal(iou(A, [3, 3, 3, 9]), 0, 'zero-area box');
  });
  it('greedy NMS drops boxes with IoU > threshold and scores <= threshold', () => {
    assert.deepEqual(nms([A, B, C, D], [0.9, 0.8, 0.7, 0.6], 0.5, 0.05, 100), [0, 2, 3]);
    assert.deepEqual(nms([A, B, C, D], [0.9, 0.8, 0.7, 0.6], 0.3, 0.05, 100), [0, 2]);
    assert.deepEqual(nms([A, B, C, D], [0.9, 0.8, 0.7, 0.05], 0.5, 0.05, 100), [0, 2]);
    assert.deepEqual(nms([A, B, C, D], [0.9, 0.8, 0.7, 0.6], 0.5, 0.05, 1), [0]);
  });
});

describe('topK', () => {
  it('returns indices by value descending, ties to the lower index', () => {
    assert.deepEqual(topK([1, 5, 3, 5, 2, 5], 4), [1, 3, 5, 2]);
    assert.deepEqual(topK([0, 0, 0], 2), [0, 1]);
  });
});

describe('postprocess', () => {
  // 3 anchors x 2 classes; anchors (cy, cx, h, w). Anchors 0 and 1 overlap (IoU 0.6), anchor 2 apart.
  const anchors = [20, 20, 20, 20, 20, 24, 20, 20, 80, 80, 20, 20];
  const reg = new Array(12).fill(0);
  const opts = { numClasses: 2, imageSize: 100, preNmsTopK: 6, iouThreshold: 0.5, scoreThreshold: 0.1, maxDetections: 10 };
  it('keeps the best of two overlapping boxes of one class, keeps other classes at the same place', () => {
    // logits [anchor][class]
    const logits = [3, 1, 2, -9, 0, -9];
    const d = postprocess(logits, reg, anchors, opts);
    assert.deepEqual(d.classes, [1, 2, 1]); // anchor0/class1, anchor0/class2 (other class, same box), anchor2/class1
    assert.deepEqual(d.boxes, [[10, 10, 30, 30], [10, 10, 30, 30], [70, 70, 90, 90]]);
    close(d.scores[0], 1 / (1 + Math.exp(-3)), 1e-7, 'score 0');
  });
  it('caps at maxDetections and drops scores at or below the threshold', () => {
    const logits = [3, 1, 2, -9, 0, -9];
    assert.equal(postprocess(logits, reg, anchors, { ...opts, maxDetections: 2 }).classes.length, 2);
    assert.equal(postprocess(logits, reg, anchors, { ...opts, scoreThreshold: 0.9 }).classes.length, 1);
  });
});

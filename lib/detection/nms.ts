// Greedy NMS and the full EfficientDet post-processing in plain TypeScript: the reference the
// in-graph post-processing is tested against.

import { iou, type Box } from '../box.ts';
import { decodeBox } from './decode.ts';

export { iou, type Box };

/**
 * Greedy NMS over candidates already sorted by descending score (ties: earlier first).
 * A candidate is dropped when its score <= scoreThreshold or its IoU with a kept box > iouThreshold.
 * Returns the kept candidate indices in order, at most maxOut.
 */
export function nms(boxes: readonly Box[], scores: ArrayLike<number>, iouThreshold: number, scoreThreshold: number, maxOut: number): number[] {
  const kept: number[] = [];
  for (let i = 0; i < boxes.length && kept.length < maxOut; i++) {
    if (!(scores[i] > scoreThreshold)) continue;
    if (kept.every((k) => iou(boxes[k], boxes[i]) <= iouThreshold)) kept.push(i);
  }
  return kept;
}

/**
 * Indices of the k largest values, sorted descending; ties go to the lower index (as ORT's TopK).
 * The one top-k: the TypeScript NMS reference and the accuracy reference's raw-head subset use it.
 */
export function topK(values: ArrayLike<number>, k: number, offset = 0, length = values.length): number[] {
  // Min-heap of the best k seen so far; root = worst (lowest value, then highest index).
  const heap: number[] = [];
  const worse = (a: number, b: number) => {
    const va = values[offset + a], vb = values[offset + b];
    return va < vb || (va === vb && a > b);
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let c = heap.length - 1; c > 0; ) {
        const p = (c - 1) >> 1;
        if (!worse(heap[c], heap[p])) break;
        [heap[c], heap[p]] = [heap[p], heap[c]];
        c = p;
      }
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}

export interface NmsPostprocessOptions {
  numClasses: number;
  imageSize: number;
  preNmsTopK: number;
  iouThreshold: number;
  scoreThreshold: number;
  maxDetections: number;
}

export interface Detections {
  boxes: Box[];
  scores: number[];
  /** 1-based class ids. */
  classes: number[];
}

const sigmoid = (x: number) => Math.fround(1 / (1 + Math.exp(-x)));

/**
 * The EfficientDet post-processing for one image, step by step as the graph does it:
 * top-k over anchors x classes (on logits; sigmoid is monotonic), sigmoid, decode, clip,
 * per-class greedy NMS, then the best maxDetections over all classes by score.
 * classLogits: [A * numClasses] of one image; boxRegression: [A * 4]; anchors: [A * 4] (cy, cx, h, w).
 */
export function postprocess(
  classLogits: ArrayLike<number>, boxRegression: ArrayLike<number>, anchors: ArrayLike<number>, o: NmsPostprocessOptions,
): Detections {
  const cand = topK(classLogits, o.preNmsTopK);
  const byClass = new Map<number, number[]>();
  const boxes: Box[] = [];
  const scores: number[] = [];
  cand.forEach((flat, i) => {
    const a = Math.floor(flat / o.numClasses);
    const c = flat % o.numClasses;
    boxes.push(decodeBox(boxRegression, a * 4, anchors, a * 4, o.imageSize));
    scores.push(sigmoid(classLogits[flat]));
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  });
  const kept: { i: number; c: number }[] = [];
  for (const [c, members] of byClass) {
    const keep = nms(members.map((i) => boxes[i]), members.map((i) => scores[i]), o.iouThreshold, o.scoreThreshold, o.maxDetections);
    for (const k of keep) kept.push({ i: members[k], c });
  }
  // Candidates are in descending score order already, so ordering by index = by score, ties stable.
  kept.sort((p, q) => p.i - q.i);
  const best = kept.slice(0, o.maxDetections);
  return {
    boxes: best.map((k) => boxes[k.i]),
    scores: best.map((k) => scores[k.i]),
    classes: best.map((k) => k.c + 1),
  };
}

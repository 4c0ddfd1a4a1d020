// Raw heads in the reference: the full heads are A x 90 class logits + A x 4 box regressions per model
// and image (D0 17.7 MB + D1 27.6 MB + D2 39.8 MB = 85 MB per image as float32), far too big for 100
// images. We keep the top-k (anchor, class) entries by class logit - the candidates that decide NMS and
// so the detections - with their anchor's 4 box-regression values: 24 bytes per entry, little-endian:
//   uint32 flat index (anchor * classes + class), float32 logit, float32 box_regression[4].
// An implementation's heads are compared at exactly those entries.

import { topK } from '../../lib/detection/nms.ts';

export const RECORD_BYTES = 24;

export interface RawSubset {
  /** anchor * classes + class, in descending logit order. */
  indices: Uint32Array;
  logits: Float32Array;
  /** 4 per entry: the box regression of the entry's anchor. */
  boxes: Float32Array;
}

export function selectRawSubset(classLogits: Float32Array, boxRegression: Float32Array, classes: number, k: number): RawSubset {
  const indices = Uint32Array.from(topK(classLogits, Math.min(k, classLogits.length)));
  return gatherRaw(classLogits, boxRegression, classes, indices);
}

/** The entries of (an implementation's) full heads at the given flat indices. */
export function gatherRaw(classLogits: Float32Array, boxRegression: Float32Array, classes: number, indices: Uint32Array): RawSubset {
  const logits = new Float32Array(indices.length);
  const boxes = new Float32Array(indices.length * 4);
  for (let i = 0; i < indices.length; i++) {
    const flat = indices[i];
    if (flat >= classLogits.length) throw new Error(`raw heads: index ${flat} outside class_logits of length ${classLogits.length}`);
    logits[i] = classLogits[flat];
    const anchor = Math.floor(flat / classes);
    for (let c = 0; c < 4; c++) boxes[i * 4 + c] = boxRegression[anchor * 4 + c];
  }
  return { indices, logits, boxes };
}

export function encodeRaw(s: RawSubset): Buffer {
  const out = Buffer.alloc(s.indices.length * RECORD_BYTES);
  for (let i = 0; i < s.indices.length; i++) {
    const o = i * RECORD_BYTES;
    out.writeUInt32LE(s.indices[i], o);
    out.writeFloatLE(s.logits[i], o + 4);
    for (let c = 0; c < 4; c++) out.writeFloatLE(s.boxes[i * 4 + c], o + 8 + c * 4);
  }
  return out;
}

export function decodeRaw(buf: Buffer): RawSubset {
  const n = Math.floor(buf.length / RECORD_BYTES);
  const s: RawSubset = { indices: new Uint32Array(n), logits: new Float32Array(n), boxes: new Float32Array(n * 4) };
  for (let i = 0; i < n; i++) {
    const o = i * RECORD_BYTES;
    s.indices[i] = buf.readUInt32LE(o);
    s.logits[i] = buf.readFloatLE(o + 4);
    for (let c = 0; c < 4; c++) s.boxes[i * 4 + c] = buf.readFloatLE(o + 8 + c * 4);
  }
  return s;
}

// Raw heads in the reference: the full heads are A x 90 class logits + A x 4 box regressions per model
// and image (D0 17.7 MB + D1 27.6 MB + D2 39.8 MB = 85 MB per image as float32), far too big for 100
// images. We keep the top-k (anchor, class) entries by class logit - the candidates that decide NMS and
// so the detections - with their anchor's 4 box-regression values: 24 bytes per entry, little-endian:
//   uint32 flat index (anchor * classes + class), float32 logit, float32 box_regression[4].
// An implementation's heads are compared at exactly those entries.

export const RECORD_BYTES = 24;

export interface RawSubset {
  /** anchor * classes + class, in descending logit order. */
  indices: Uint32Array;
  logits: Float32Array;
  /** 4 per entry: the box regression of the entry's anchor. */
  boxes: Float32Array;
}

/** Top-k flat indices of values, descending by value (lower index first on ties). */
export function topK(values: Float32Array, k: number): Uint32Array {
  k = Math.min(k, values.length);
  // Min-heap of the k best so far, keyed by (value, -index).
  const heap = new Uint32Array(k);
  let size = 0;
  const worse = (a: number, b: number): boolean => values[a] < values[b] || (values[a] === values[b] && a > b);
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(heap[l], heap[m])) m = l;
      if (r < size && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let idx = 0; idx < values.length; idx++) {
    if (size < k) {
      let i = size++;
      heap[i] = idx;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (k > 0 && worse(heap[0], idx)) {
      heap[0] = idx;
      siftDown(0);
    }
  }
  return Uint32Array.from(heap.slice(0, size)).sort((a, b) => values[b] - values[a] || a - b);
}

export function selectRawSubset(classLogits: Float32Array, boxRegression: Float32Array, classes: number, k: number): RawSubset {
  const indices = topK(classLogits, k);
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

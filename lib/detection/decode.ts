// Box decoding of EfficientDet (automl decode_box_outputs), mirrored op by op in float32 so the
// in-graph result can be compared with a tight tolerance.

const f = Math.fround;

/**
 * Decodes one regression (ty, tx, th, tw) against one anchor (cy, cx, h, w):
 * centre = t_yx * anchor_hw + anchor_c, size = exp(t_hw) * anchor_hw, clipped to [0, clipTo].
 * Returns [x1, y1, x2, y2] (the graph computes y-first then reorders; this follows the same steps).
 */
export function decodeBox(
  reg: ArrayLike<number>, ro: number,
  anchors: ArrayLike<number>, ao: number,
  clipTo: number,
): [number, number, number, number] {
  const yx: number[] = [];
  for (let d = 0; d < 2; d++) {
    const c = f(f(reg[ro + d] * anchors[ao + 2 + d]) + anchors[ao + d]);
    const half = f(f(f(Math.exp(reg[ro + 2 + d])) * anchors[ao + 2 + d]) * 0.5);
    yx.push(f(c - half), f(c + half));
  }
  const clip = (v: number) => Math.min(Math.max(v, 0), clipTo);
  // yx = [y1, y2, x1, x2]
  return [clip(yx[2]), clip(yx[0]), clip(yx[3]), clip(yx[1])];
}

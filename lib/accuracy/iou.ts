// Intersection over union of axis-aligned boxes [x1, y1, x2, y2] (pixels, x2 >= x1, y2 >= y1).
// Pure TypeScript: used by the Node accuracy tools and inside k6 scripts.

export type Box = readonly [number, number, number, number] | readonly number[];

export function boxArea(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/** IoU in [0, 1]; two empty boxes at the same place count as identical (1) so that
 * degenerate-but-equal outputs still match. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const union = boxArea(a) + boxArea(b) - inter;
  if (union <= 0) return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] ? 1 : 0;
  return inter / union;
}

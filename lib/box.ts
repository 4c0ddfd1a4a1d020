// Axis-aligned boxes [x1, y1, x2, y2] in pixels: the one Box type of the detection maths, the
// accuracy matcher and the wire (ModelDetections.boxes). Pure TypeScript, both runtimes.

export type Box = readonly [number, number, number, number];

/**
 * IoU of two boxes as onnxruntime's NonMaxSuppression computes it: 0 when either has no area.
 * The accuracy matcher widens degenerate boxes first (lib/accuracy/iou.ts, matchIou).
 */
export function iou(a: Box, b: Box): number {
  const areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const areaB = (b[2] - b[0]) * (b[3] - b[1]);
  if (areaA <= 0 || areaB <= 0) return 0;
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (areaA + areaB - inter);
}

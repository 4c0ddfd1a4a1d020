// The accuracy matcher's IoU: boxes [x1, y1, x2, y2] (pixels) widened to a least extent first, so
// clipped (zero-width) boxes can match. Pure TypeScript: used by the Node accuracy tools and inside
// k6 scripts. The plain IoU (onnxruntime's, for NMS) is lib/box.ts's.
import type { Box } from '../box.ts';
export type { Box };

/**
 * Smallest extent per axis, in pixels, that IoU sees. Boxes clipped to the image border often have
 * zero width or height (half of the seeded models' detections do), and continuous IoU is 0/0 for
 * them, so two near-identical clipped boxes would never match. Each axis shorter than this is
 * widened to it around its centre: IoU of ordinary boxes is unchanged, a clipped box becomes a
 * 1 px strip. Box MSE is still computed on the coordinates as returned.
 */
export const MIN_EXTENT_PX = 1;

/** [lo, hi] widened to MIN_EXTENT_PX around its centre when shorter (or inverted). */
export function widen(lo: number, hi: number): [number, number] {
  if (hi - lo >= MIN_EXTENT_PX) return [lo, hi];
  const c = (lo + hi) / 2;
  return [c - MIN_EXTENT_PX / 2, c + MIN_EXTENT_PX / 2];
}

/** The box IoU works on: [x1, y1, x2, y2, area], every axis at least MIN_EXTENT_PX long. */
export function iouBox(b: Box): [number, number, number, number, number] {
  const [x1, x2] = widen(b[0], b[2]);
  const [y1, y2] = widen(b[1], b[3]);
  return [x1, y1, x2, y2, (x2 - x1) * (y2 - y1)];
}

/** IoU in [0, 1] of the widened boxes (see MIN_EXTENT_PX); NaN coordinates give 0 (no overlap). */
export function matchIou(a: Box, b: Box): number {
  const [ax1, ay1, ax2, ay2, aArea] = iouBox(a);
  const [bx1, by1, bx2, by2, bArea] = iouBox(b);
  return overlap(ax1, ay1, ax2, ay2, aArea, bx1, by1, bx2, by2, bArea);
}

/** IoU of two widened boxes given as numbers (the matcher's hot loop calls this directly). */
export function overlap(
  ax1: number, ay1: number, ax2: number, ay2: number, aArea: number,
  bx1: number, by1: number, bx2: number, by2: number, bArea: number,
): number {
  // Conditional min/max: Math.min/max calls dominate inside k6's JS runtime. Callers pass finite values.
  const iw = (ax2 < bx2 ? ax2 : bx2) - (ax1 > bx1 ? ax1 : bx1);
  const ih = (ay2 < by2 ? ay2 : by2) - (ay1 > by1 ? ay1 : by1);
  if (!(iw > 0 && ih > 0)) return 0;
  const inter = iw * ih;
  return inter / (aArea + bArea - inter);
}

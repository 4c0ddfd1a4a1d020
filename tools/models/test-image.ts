// Deterministic synthetic input for tests and the bench: gradients, a disc and a rectangle,
// ImageNet-normalised NCHW float32. Neither the BN statistics batch (bn-statistics.ts) nor one of
// the int8 calibration images (quantize.ts), so a test on it is not a test on what was fitted.

import { IMAGENET_MEAN, IMAGENET_STD } from '../../lib/model-contract.ts';

/** `padBottom`: fraction of rows left at 0 (the mean colour), as a letterboxed landscape photo. */
export function testImage(size: number, batch = 1, variant = 0, padBottom = 0): Float32Array {
  const a = new Float32Array(batch * 3 * size * size);
  const rows = Math.round(size * (1 - padBottom));
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < rows; y++) {
        for (let x = 0; x < size; x++) {
          const k = variant + b;
          let v = k % 2 === 0
            ? 0.5 + 0.3 * Math.sin((x * (c + 1)) / 37 + k) * Math.cos(y / 23)
            : 0.4 + 0.3 * Math.cos((x + y) / 11 + c + k) * Math.sin(x / 5);
          if ((x - size / 3) ** 2 + (y - size / 2) ** 2 < (size / 6) ** 2) v = 0.9 - c * 0.3;
          if (x > size * 0.6 && x < size * 0.9 && y > size * 0.1 && y < size * 0.4) v = 0.1 + c * 0.3;
          a[((b * 3 + c) * size + y) * size + x] = (v - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        }
      }
    }
  }
  return a;
}

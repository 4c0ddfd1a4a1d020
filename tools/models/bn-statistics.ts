// BatchNorm statistics for the seeded weights. Random weights without BN let activations die out
// or blow up over ~80 conv layers; trained EfficientDets keep them O(1) through BN. So the network
// is first built with explicit BN ops (per-channel mean, per-layer sigma over the batch) and run
// once by onnxruntime on a synthetic batch at the model's own input size; the final
// graph then folds those statistics into the conv weights and biases, as a BN fold does.
// Statistics are rounded to 5 significant digits so last-bit float differences between runs
// cannot change the written file.

import * as ort from 'onnxruntime-node';
import { IMAGENET_MEAN as MEAN, IMAGENET_STD as STD } from '../../lib/model-contract.ts';

/** One conv's measured BatchNorm statistics: per-channel mean and, where measured, the layer's sigma. */
export interface BnStats { mean: Float32Array; sigma?: number }

/** Deterministic integer hash noise in [0, 1). */
const noise = (x: number, y: number, c: number) => (((Math.imul(x * 73856093 ^ y * 19349663 ^ c * 83492791, 0x27d4eb2d) >>> 0) % 1000) / 1000);

/**
 * Two synthetic "photos", normalised like the real input: (0) smooth gradients, flat shapes and
 * fine texture; (1) a letterboxed frame: textured content on top, flat padding below.
 */
function bnStatisticsBatch(size: number): Float32Array {
  const out = new Float32Array(2 * 3 * size * size);
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const u = x / size, v = y / size;
          let p: number;
          if (b === 0) {
            p = 0.5 + 0.25 * Math.sin(9 * u * (c + 1)) * Math.cos(7 * v) + 0.15 * (noise(x, y, c) - 0.5);
            if ((u - 0.3) ** 2 + (v - 0.5) ** 2 < 0.03) p = 0.85 - 0.3 * c;
            if (u > 0.6 && u < 0.9 && v > 0.1 && v < 0.45) p = 0.15 + 0.3 * c;
          } else {
            p = v > 0.7 ? 0.447 : 0.3 + 0.4 * noise(x >> 3, y >> 3, c) + 0.2 * (noise(x, y, c) - 0.5) * Math.cos(20 * u);
          }
          out[((b * 3 + c) * size + y) * size + x] = (p - MEAN[c]) / STD[c];
        }
      }
    }
  }
  return out;
}

const round5 = (x: number) => Math.fround(Number(x.toPrecision(5)));

/** Runs a statistics graph whose outputs are `<conv>/bn_mean` and `<conv>/bn_sigma` tensors. */
export async function measureBatchNorm(model: Uint8Array, input: string, size: number): Promise<Map<string, BnStats>> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
  try {
    const out = await session.run({ [input]: new ort.Tensor('float32', bnStatisticsBatch(size), [2, 3, size, size]) });
    const stats = new Map<string, BnStats>();
    const entry = (conv: string) => {
      let s = stats.get(conv);
      if (!s) stats.set(conv, (s = { mean: new Float32Array(0) }));
      return s;
    };
    for (const [name, t] of Object.entries(out)) {
      const data = t.data as Float32Array;
      if (name.endsWith('/bn_mean')) entry(name.slice(0, -'/bn_mean'.length)).mean = data.map(round5);
      else if (name.endsWith('/bn_sigma')) entry(name.slice(0, -'/bn_sigma'.length)).sigma = round5(data[0]);
    }
    return stats;
  } finally {
    await session.release();
  }
}

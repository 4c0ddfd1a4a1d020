// Seeded weights: lib/rng.ts's mulberry32 driving a uniform variance-scaling init, so the same seed
// gives the same bits on every platform and Node version.

import { mulberry32 } from '../../lib/rng.ts';

export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** n values uniform with mean `mean` and standard deviation `std` (half-width std * sqrt(3)). */
  uniform(n: number, std: number, mean = 0): Float32Array {
    const half = std * Math.sqrt(3);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + (2 * this.next() - 1) * half;
    return out;
  }
}

/** A per-model stream so d0/d1/d2 differ but each depends only on (seed, model name). */
export function modelSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

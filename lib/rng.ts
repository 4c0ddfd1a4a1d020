// The suite's one seeded PRNG: the models' weights, the synthetic scenes, the bootstrap of make
// report's ratios and the tests' malformed inputs all draw from it. Only integer ops and one division,
// so the same seed gives the same stream on every platform, in Node and in k6.

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

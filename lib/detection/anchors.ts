// Anchor boxes of EfficientDet (google/automl efficientdet/anchors.py). The generator writes them
// into each graph (its decode step) and the model contract's metadata defaults come from here; the
// tests rebuild them to check the in-graph decode against the TypeScript one (lib/detection/nms.ts).

export interface AnchorConfig {
  minLevel: number;
  maxLevel: number;
  /** Octave scales per level: 2^(i / numScales), i = 0..numScales-1. */
  numScales: number;
  /** Width/height ratios; automl turns r into (x, y) = (sqrt(r), 1 / sqrt(r)). */
  aspectRatios: readonly number[];
  /** Base anchor side = anchorScale * stride of the level. */
  anchorScale: number;
}

export const EFFICIENTDET_ANCHORS: AnchorConfig = {
  minLevel: 3,
  maxLevel: 7,
  numScales: 3,
  aspectRatios: [1.0, 2.0, 0.5],
  anchorScale: 4.0,
};

export function anchorsPerLocation(cfg: AnchorConfig): number {
  return cfg.numScales * cfg.aspectRatios.length;
}

/** Feature-map side of each level for a square input (TF 'SAME' stride-2 chain: ceil halving). */
export function levelSizes(imageSize: number, cfg: AnchorConfig): number[] {
  const sizes: number[] = [];
  for (let level = cfg.minLevel; level <= cfg.maxLevel; level++) {
    let s = imageSize;
    for (let i = 0; i < level; i++) s = Math.ceil(s / 2);
    sizes.push(s);
  }
  return sizes;
}

export function anchorCount(imageSize: number, cfg: AnchorConfig = EFFICIENTDET_ANCHORS): number {
  return levelSizes(imageSize, cfg).reduce((sum, s) => sum + s * s, 0) * anchorsPerLocation(cfg);
}

/**
 * Anchors as float32 [A, 4] in (cy, cx, h, w) order, input pixels. Order: level, then row y,
 * then column x, then octave scale, then aspect ratio: the order the heads' channels are reshaped in.
 * (cy, cx, h, w) matches the order of the box regression (ty, tx, th, tw).
 */
export function generateAnchors(imageSize: number, cfg: AnchorConfig = EFFICIENTDET_ANCHORS): Float32Array {
  const out = new Float32Array(anchorCount(imageSize, cfg) * 4);
  let o = 0;
  const sizes = levelSizes(imageSize, cfg);
  for (let li = 0; li < sizes.length; li++) {
    const stride = 2 ** (cfg.minLevel + li);
    const n = sizes[li];
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        for (let octave = 0; octave < cfg.numScales; octave++) {
          const base = cfg.anchorScale * stride * 2 ** (octave / cfg.numScales);
          for (const r of cfg.aspectRatios) {
            const ax = Math.sqrt(r);
            out[o++] = stride / 2 + y * stride;
            out[o++] = stride / 2 + x * stride;
            out[o++] = base / ax; // h = base * (1 / sqrt(r))
            out[o++] = base * ax; // w = base * sqrt(r)
          }
        }
      }
    }
  }
  return out;
}

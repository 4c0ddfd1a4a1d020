// EfficientDet D0-D2 as an ONNX graph: EfficientNet backbone, BiFPN, shared heads, and the
// post-processing (decode, top-k, per-class NMS, top 100) inside the graph.
// Architecture after Tan, Pang, Le (CVPR 2020) and google/automl efficientdet (hparams_config.py,
// efficientnet_model.py, efficientdet_keras.py, anchors.py). BatchNorm is folded: every conv that
// had a BN after it carries a bias instead.

import { generateAnchors, anchorCount, anchorsPerLocation } from '../../lib/detection/anchors.ts';
import {
  DEFAULT_ANCHORS, IMAGENET_MEAN, type ModelName, IMAGENET_STD, INPUT_NAME, IOU_THRESHOLD, MAX_DETECTIONS, META_KEYS,
  NUM_CLASSES, OUTPUT_NAMES, PRE_NMS_TOPK, SCORE_THRESHOLD,
} from '../../lib/model-contract.ts';
import { DT, GraphBuilder, type Dim, type TensorInfo } from './onnx-graph.ts';
import { Rng, modelSeed } from './rng.ts';
import { measureBatchNorm, type BnStats } from './bn-statistics.ts';


export interface EfficientDetConfig {
  name: ModelName;
  inputSize: number;
  /** EfficientNet-Bx width and depth multipliers. */
  widthMult: number;
  depthMult: number;
  fpnWidth: number;
  fpnLayers: number;
  headDepth: number;
}

/** automl hparams_config.efficientdet_model_param_dict. */
export const MODEL_CONFIGS: Record<ModelName, EfficientDetConfig> = {
  d0: { name: 'd0', inputSize: 512, widthMult: 1.0, depthMult: 1.0, fpnWidth: 64, fpnLayers: 3, headDepth: 3 },
  d1: { name: 'd1', inputSize: 640, widthMult: 1.0, depthMult: 1.1, fpnWidth: 88, fpnLayers: 4, headDepth: 3 },
  d2: { name: 'd2', inputSize: 768, widthMult: 1.1, depthMult: 1.2, fpnWidth: 112, fpnLayers: 5, headDepth: 3 },
};

/** EfficientNet-B0 stages: repeats, kernel, stride, expansion, in, out (before width/depth scaling). */
const B0_BLOCKS = [
  { r: 1, k: 3, s: 1, e: 1, i: 32, o: 16 },
  { r: 2, k: 3, s: 2, e: 6, i: 16, o: 24 },
  { r: 2, k: 5, s: 2, e: 6, i: 24, o: 40 }, // -> P3 (stride 8)
  { r: 3, k: 3, s: 2, e: 6, i: 40, o: 80 },
  { r: 3, k: 5, s: 1, e: 6, i: 80, o: 112 }, // -> P4 (stride 16)
  { r: 4, k: 5, s: 2, e: 6, i: 112, o: 192 },
  { r: 1, k: 3, s: 1, e: 6, i: 192, o: 320 }, // -> P5 (stride 32)
];
const FEATURE_STAGES = [2, 4, 6];
const SE_RATIO = 0.25;
const FUSION_EPS = 1e-4;
const CLASS_PRIOR_BIAS = -4.6; // -log((1 - 0.01) / 0.01): sigmoid = 0.01 at start, as RetinaNet/automl

export function roundFilters(filters: number, widthMult: number, divisor = 8): number {
  const f = filters * widthMult;
  let n = Math.max(divisor, Math.floor((f + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * f) n += divisor;
  return n;
}

export function roundRepeats(repeats: number, depthMult: number): number {
  return Math.ceil(depthMult * repeats);
}

/**
 * Init gains (std = gain / sqrt(fan_in), uniform). Convs with a BN get rescaled by the folded
 * BatchNorm statistics (bn-statistics.ts), so their gain hardly matters; it does for the
 * squeeze-excitation convs and for the prediction convs, which set the spread of class logits
 * and box offsets.
 */
const GAIN = {
  act: 1.7, // conv followed by swish (E[swish(x)^2] ~ 0.36 for x ~ N(0, 1))
  linear: 1.0,
  project: 1.0,
  projectResidual: 1.0,
  fpnConv: 1.0,
  classPred: 0.5,
  boxPred: 0.15,
  bias: 0.02,
};

const BN_AFFINE_STD = 0.1;
/** BN gamma means (automl initialises gamma to 1). */
const BN_GAMMA = 1;
const RES_GAMMA = 1;
/**
 * Two choices keep the untrained network's activations bounded on images unlike the BN-statistics
 * batch (measured on the synthetic dataset: logit std 0.5-0.8 on every image instead of 0.07 to
 * 150): BNs that feed a swish get beta ~ 1, so swish works in its near-linear range instead of
 * compounding scale changes block after block; and the squeeze-excitation expand conv gets a small
 * gain, so its sigmoid gate stays near 0.5 instead of swinging between 0 and 1 with image contrast.
 */
const BETA_ACT = 1.0;
const SE_GAIN = 0.2;
const BN_EPS = 1e-3;

const f32 = (dims: Dim[]): TensorInfo => ({ dtype: DT.FLOAT, dims });

/** BN handling: 'measure' emits explicit BN ops and records their statistics tensors;
 * 'fold' bakes given statistics into the conv weights and biases. */
export class BnState {
  readonly gammaOf = new Map<string, Float32Array>();
  readonly sigmaOf = new Map<string, string>();
  readonly sigmaTensor = new Map<string, string>();
  readonly statOutputs: string[] = [];
  constructor(readonly mode: 'measure' | 'fold', readonly stats = new Map<string, BnStats>()) {}
}

/** Layer-building context: one per network inside a graph (prefix keeps stacked graphs apart). */
export class NetBuilder {
  constructor(readonly g: GraphBuilder, readonly rng: Rng, readonly prefix: string, readonly bn: BnState) {}

  weight(name: string, dims: number[], std: number, mean = 0): string {
    const n = dims.reduce((a, b) => a * b, 1);
    return this.g.initializer(`${this.prefix}${name}`, dims, this.rng.uniform(n, std, mean));
  }

  convWeight(name: string, cout: number, cinPerGroup: number, k: number, gain: number): string {
    return this.weight(name, [cout, cinPerGroup, k, k], gain / Math.sqrt(cinPerGroup * k * k));
  }

  bias(name: string, cout: number, mean = 0): string {
    return this.weight(name, [cout], GAIN.bias, mean);
  }

  /** Conv with TF 'SAME' padding; w/b given when shared (heads), else created here. */
  conv(x: string, o: { name: string; cout: number; k: number; stride?: number; group?: number; gain?: number; w?: string; b?: string | null; biasMean?: number; gamma?: number; beta?: number }): string {
    const [n, cin, h, wdt] = this.g.info(x).dims as [Dim, number, number, number];
    const s = o.stride ?? 1, group = o.group ?? 1;
    const w = o.w ?? this.convWeight(`${o.name}/w`, o.cout, cin / group, o.k, o.gain ?? GAIN.act);
    const b = o.b === undefined ? this.bias(`${o.name}/b`, o.cout, o.biasMean) : o.b;
    const oh = Math.ceil(h / s), ow = Math.ceil(wdt / s);
    const ph = Math.max((oh - 1) * s + o.k - h, 0), pw = Math.max((ow - 1) * s + o.k - wdt, 0);
    const name = `${this.prefix}${o.name}`;
    const bn = b !== null && !/\/se\/|\/pred\//.test(o.name) ? this.batchNorm(name, w, b, o.cout, o.gamma ?? BN_GAMMA, o.beta ?? 0) : null;
    const y = this.g.op('Conv', b ? [x, w, b] : [x, w], name, f32([n, o.cout, oh, ow]), {
      kernel_shape: [o.k, o.k], strides: [s, s], group,
      pads: [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)],
    });
    return bn && this.bn.mode === 'measure' ? this.explicitBatchNorm(y, name, w, bn) : y;
  }

  // ---- BatchNorm: explicit ops in the statistics graph, folded into the conv in the final one ----

  /** Seeded BN affine parameters; gamma belongs to the weight (shared head weights share it). */
  private batchNorm(name: string, w: string, b: string, cout: number, gammaMean: number, betaMean: number): { gamma: Float32Array; beta: Float32Array; firstUse: boolean } {
    let gamma = this.bn.gammaOf.get(w);
    const firstUse = !gamma;
    if (!gamma) this.bn.gammaOf.set(w, (gamma = this.rng.uniform(cout, BN_AFFINE_STD * gammaMean, gammaMean)));
    const beta = this.rng.uniform(cout, BN_AFFINE_STD, betaMean);
    if (this.bn.mode === 'fold') {
      const st = this.bn.stats.get(name);
      if (!st) throw new Error(`no BN statistics for ${name}`);
      const sigma = st.sigma ?? this.bn.stats.get(this.bn.sigmaOf.get(w)!)!.sigma!;
      if (firstUse) this.bn.sigmaOf.set(w, name);
      const wd = this.g.floatData.get(w)!, bd = this.g.floatData.get(b)!;
      const per = wd.length / cout;
      for (let c = 0; c < cout; c++) {
        const k = gamma[c] / sigma;
        if (firstUse) for (let i = c * per; i < (c + 1) * per; i++) wd[i] *= k;
        bd[c] = (bd[c] - st.mean[c]) * k + beta[c];
      }
    }
    return { gamma, beta, firstUse };
  }

  /** y -> (y - mean_c) / sigma * gamma + beta, mean per channel and sigma per layer over the batch. */
  private explicitBatchNorm(y: string, name: string, w: string, p: { gamma: Float32Array; beta: Float32Array; firstUse: boolean }): string {
    const g = this.g, info = g.info(y), c = p.gamma.length;
    const mean = g.op('ReduceMean', [y], `${name}/bn_mean`, f32([1, c, 1, 1]), { axes: [0, 2, 3], keepdims: 1 });
    const d = g.op('Sub', [y, mean], `${name}/bn_centred`, info);
    let sigma = this.bn.sigmaTensor.get(w);
    if (p.firstUse) {
      const v = g.op('ReduceMean', [g.op('Mul', [d, d], `${name}/bn_sq`, info)], `${name}/bn_var`, f32([]), { keepdims: 0 });
      sigma = g.op('Sqrt', [g.op('Add', [v, g.constF([BN_EPS], [])], `${name}/bn_var_eps`, f32([]))], `${name}/bn_sigma`, f32([]));
      this.bn.sigmaTensor.set(w, sigma);
      this.bn.statOutputs.push(sigma);
    }
    this.bn.statOutputs.push(mean);
    const normed = g.op('Div', [d, sigma!], `${name}/bn_normed`, info);
    const scaled = g.op('Mul', [normed, g.initializer(`const/${name}/gamma`, [1, c, 1, 1], p.gamma)], `${name}/bn_scaled`, info);
    return g.op('Add', [scaled, g.initializer(`const/${name}/beta`, [1, c, 1, 1], p.beta)], `${name}/bn`, info);
  }

  swish(x: string): string {
    const info = this.g.info(x);
    const sg = this.g.op('Sigmoid', [x], `${x}/sigmoid`, info);
    return this.g.op('Mul', [x, sg], `${x}/swish`, info);
  }

  /** 3x3 stride-2 'SAME' max-pool (automl resample_feature_map for a 2x smaller level). */
  maxPool(x: string): string {
    const [n, c, h, w] = this.g.info(x).dims as [Dim, number, number, number];
    const oh = Math.ceil(h / 2), ow = Math.ceil(w / 2);
    const ph = Math.max((oh - 1) * 2 + 3 - h, 0), pw = Math.max((ow - 1) * 2 + 3 - w, 0);
    return this.g.op('MaxPool', [x], `${x}/maxpool`, f32([n, c, oh, ow]), {
      kernel_shape: [3, 3], strides: [2, 2],
      pads: [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)],
    });
  }

  upsample2x(x: string): string {
    const [n, c, h, w] = this.g.info(x).dims as [Dim, number, number, number];
    return this.g.op('Resize', [x, '', this.g.constF([1, 1, 2, 2])], `${x}/up`, f32([n, c, 2 * h, 2 * w]), {
      mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor',
    });
  }

  // ---- EfficientNet ----

  mbconv(x: string, name: string, b: { k: number; s: number; e: number; cin: number; cout: number }): string {
    let h = x;
    const expanded = b.cin * b.e;
    if (b.e !== 1) h = this.swish(this.conv(h, { name: `${name}/expand`, cout: expanded, k: 1, beta: BETA_ACT }));
    h = this.swish(this.conv(h, { name: `${name}/dw`, cout: expanded, k: b.k, stride: b.s, group: expanded, beta: BETA_ACT }));
    // Squeeze-and-excitation: reduced to 0.25 of the block's INPUT channels.
    const reduced = Math.max(1, Math.floor(b.cin * SE_RATIO));
    const [n] = this.g.info(h).dims;
    const pooled = this.g.op('GlobalAveragePool', [h], `${this.prefix}${name}/se/pool`, f32([n, expanded, 1, 1]));
    const r = this.swish(this.conv(pooled, { name: `${name}/se/reduce`, cout: reduced, k: 1 }));
    const e = this.conv(r, { name: `${name}/se/expand`, cout: expanded, k: 1, gain: SE_GAIN });
    const gate = this.g.op('Sigmoid', [e], `${e}/sigmoid`, this.g.info(e));
    h = this.g.op('Mul', [h, gate], `${this.prefix}${name}/se/out`, this.g.info(h));
    const residual = b.s === 1 && b.cin === b.cout;
    h = this.conv(h, { name: `${name}/project`, cout: b.cout, k: 1, gain: residual ? GAIN.projectResidual : GAIN.project, gamma: residual ? RES_GAMMA : BN_GAMMA });
    if (residual) h = this.g.op('Add', [h, x], `${this.prefix}${name}/out`, this.g.info(h));
    return h;
  }

  /** EfficientNet-Bx without its top; returns [P3, P4, P5]. */
  backbone(input: string, cfg: EfficientDetConfig): string[] {
    let x = this.swish(this.conv(input, { name: 'stem', cout: roundFilters(32, cfg.widthMult), k: 3, stride: 2, beta: BETA_ACT }));
    const feats: string[] = [];
    B0_BLOCKS.forEach((st, si) => {
      const cin = roundFilters(st.i, cfg.widthMult), cout = roundFilters(st.o, cfg.widthMult);
      const repeats = roundRepeats(st.r, cfg.depthMult);
      for (let r = 0; r < repeats; r++) {
        x = this.mbconv(x, `backbone/stage${si + 1}/block${r}`, {
          k: st.k, s: r === 0 ? st.s : 1, e: st.e, cin: r === 0 ? cin : cout, cout,
        });
      }
      if (FEATURE_STAGES.includes(si)) feats.push(x);
    });
    return feats;
  }

  // ---- BiFPN ----

  /** Fast normalised fusion kept as graph ops: sum_i relu(w_i) x_i / (sum_j relu(w_j) + eps). */
  fuse(inputs: string[], name: string): string {
    const w = this.weight(`${name}/fusion_w`, [inputs.length], 0.15, 1.0); // automl inits ones
    const relu = this.g.op('Relu', [w], `${this.prefix}${name}/fusion_relu`, f32([inputs.length]));
    const sum = this.g.op('ReduceSum', [relu, this.g.constI([0])], `${this.prefix}${name}/fusion_sum`, f32([1]), { keepdims: 1 });
    const den = this.g.op('Add', [sum, this.g.constF([FUSION_EPS])], `${this.prefix}${name}/fusion_den`, f32([1]));
    const norm = this.g.op('Div', [relu, den], `${this.prefix}${name}/fusion_norm`, f32([inputs.length]));
    const info = this.g.info(inputs[0]);
    const terms = inputs.map((x, i) => {
      const wi = this.g.op('Gather', [norm, this.g.constI([i], [])], `${this.prefix}${name}/fusion_w${i}`, f32([]), { axis: 0 });
      return this.g.op('Mul', [x, wi], `${this.prefix}${name}/fusion_in${i}`, info);
    });
    return this.g.op('Sum', terms, `${this.prefix}${name}/fused`, info);
  }

  /** Depthwise 3x3 (no bias: its BN comes after the pointwise) + pointwise 1x1 with folded BN. */
  separable(x: string, name: string, cout: number, o: { dw?: string; pw?: string; b?: string; gain?: number; biasMean?: number; beta?: number } = {}): string {
    const c = this.g.info(x).dims[1] as number;
    const d = this.conv(x, { name: `${name}/dw`, cout: c, k: 3, group: c, gain: GAIN.linear, w: o.dw, b: null });
    return this.conv(d, { name: `${name}/pw`, cout, k: 1, gain: o.gain ?? GAIN.act, w: o.pw, b: o.b, biasMean: o.biasMean, beta: o.beta });
  }

  resample(x: string, name: string, width: number, targetSize: number): string {
    let y = x;
    if (this.g.info(y).dims[1] !== width) y = this.conv(y, { name: `${name}/resample`, cout: width, k: 1, gain: GAIN.linear });
    const size = this.g.info(y).dims[2] as number;
    if (size > targetSize) y = this.maxPool(y);
    else if (size < targetSize) y = this.upsample2x(y);
    return y;
  }

  /** automl fpn_config 'bifpn' for levels 3-7: 4 top-down nodes then 4 bottom-up nodes. */
  bifpn(p345: string[], cfg: EfficientDetConfig): string[] {
    const W = cfg.fpnWidth;
    const p6 = this.maxPool(this.conv(p345[2], { name: 'bifpn/p6_in', cout: W, k: 1, gain: GAIN.linear }));
    const p7 = this.maxPool(p6);
    let levels = [...p345, p6, p7]; // index = level - 3
    const NODES: { level: number; inputs: number[] }[] = [
      { level: 6, inputs: [3, 4] }, { level: 5, inputs: [2, 5] }, { level: 4, inputs: [1, 6] }, { level: 3, inputs: [0, 7] },
      { level: 4, inputs: [1, 7, 8] }, { level: 5, inputs: [2, 6, 9] }, { level: 6, inputs: [3, 5, 10] }, { level: 7, inputs: [4, 11] },
    ];
    for (let l = 0; l < cfg.fpnLayers; l++) {
      const feats = [...levels];
      const sizeOf = (lv: number) => this.g.info(levels[lv - 3]).dims[2] as number;
      NODES.forEach((nd, ni) => {
        const name = `bifpn/layer${l}/node${ni}`;
        const ins = nd.inputs.map((off, k) => this.resample(feats[off], `${name}/in${k}`, W, sizeOf(nd.level)));
        const fused = this.swish(this.fuse(ins, name));
        feats.push(this.separable(fused, `${name}/conv`, W, { gain: GAIN.fpnConv }));
      });
      levels = [3, 4, 5, 6, 7].map((lv) => feats[feats.length - 1 - [...NODES].reverse().findIndex((n) => n.level === lv)]);
    }
    return levels;
  }

  // ---- heads ----

  /**
   * Shared head over all levels: `depth` separable convs + swish, then a separable prediction conv.
   * Conv weights are shared across levels; the folded BN is per level in automl, so each level
   * keeps its own bias. Returns [N, A, perAnchor] (level, y, x, anchor order).
   */
  head(levels: string[], name: string, outName: string, cfg: EfficientDetConfig, perAnchor: number, predGain: number, predBias: number): string {
    const W = cfg.fpnWidth, A = anchorsPerLocation(DEFAULT_ANCHORS);
    const shared = Array.from({ length: cfg.headDepth }, (_, r) => ({
      dw: this.convWeight(`${name}/conv${r}/dw/w`, W, 1, 3, GAIN.linear),
      pw: this.convWeight(`${name}/conv${r}/pw/w`, W, W, 1, GAIN.act),
    }));
    const pred = {
      dw: this.convWeight(`${name}/pred/dw/w`, W, 1, 3, GAIN.linear),
      pw: this.convWeight(`${name}/pred/pw/w`, A * perAnchor, W, 1, predGain),
      b: this.bias(`${name}/pred/pw/b`, A * perAnchor, predBias),
    };
    const [n] = this.g.info(levels[0]).dims;
    const flat = levels.map((x, li) => {
      let h = x;
      shared.forEach((s, r) => {
        h = this.swish(this.separable(h, `${name}/conv${r}/level${li + 3}`, W, { ...s, b: this.bias(`${name}/conv${r}/level${li + 3}/b`, W), beta: BETA_ACT }));
      });
      h = this.separable(h, `${name}/pred/level${li + 3}`, A * perAnchor, pred);
      const [, , hh, ww] = this.g.info(h).dims as number[];
      const t = this.g.op('Transpose', [h], `${h}/nhwc`, f32([n, hh, ww, A * perAnchor]), { perm: [0, 2, 3, 1] });
      return this.g.op('Reshape', [t, this.g.constI([0, -1, perAnchor])], `${h}/flat`, f32([n, hh * ww * A, perAnchor]));
    });
    const total = flat.reduce((s, t) => s + (this.g.info(t).dims[1] as number), 0);
    return this.g.op('Concat', flat, `${this.prefix}${outName}`, f32([n, total, perAnchor]), { axis: 1 });
  }
}

interface NetOutputs {
  classLogits: string;
  boxRegression: string;
  boxes: string;
  scores: string;
  classes: string;
  numDetections: string;
}

/** Backbone, BiFPN and heads: the raw class logits and box regression. */
function buildNetwork(net: NetBuilder, input: string, cfg: EfficientDetConfig): { classLogits: string; boxRegression: string } {
  const feats = net.bifpn(net.backbone(input, cfg), cfg);
  const classLogits = net.head(feats, 'class_net', OUTPUT_NAMES.classLogits, cfg, NUM_CLASSES, GAIN.classPred, CLASS_PRIOR_BIAS);
  const boxRegression = net.head(feats, 'box_net', OUTPUT_NAMES.boxRegression, cfg, 4, GAIN.boxPred, 0);
  return { classLogits, boxRegression };
}

/** The whole detector on an already-normalised [N,3,S,S] input tensor. */
export function buildEfficientDet(net: NetBuilder, input: string, cfg: EfficientDetConfig, scoreThreshold = SCORE_THRESHOLD): NetOutputs {
  const { classLogits, boxRegression } = buildNetwork(net, input, cfg);
  return { classLogits, boxRegression, ...postprocess(net, classLogits, boxRegression, cfg, scoreThreshold) };
}

/**
 * In-graph post-processing, per image: top-k over anchors x classes on the logits (sigmoid is
 * monotonic, so this equals top-k on scores and runs sigmoid on k values only), decode the k boxes,
 * clip to the image, per-class NMS (one NonMaxSuppression with a [N, classes, k] score tensor in
 * which each candidate scores only in its own class), then the best MAX_DETECTIONS by score.
 */
function postprocess(net: NetBuilder, classLogits: string, boxRegression: string, cfg: EfficientDetConfig, scoreThreshold: number) {
  const g = net.g, p = `${net.prefix}post/`;
  const S = cfg.inputSize, K = PRE_NMS_TOPK, C = NUM_CLASSES, M = MAX_DETECTIONS;
  const A = anchorCount(S);
  const [n] = g.info(classLogits).dims;
  const I64 = (dims: Dim[]): TensorInfo => ({ dtype: DT.INT64, dims });
  const BOOL = (dims: Dim[]): TensorInfo => ({ dtype: DT.BOOL, dims });

  // Top-k in two stages, so the TopKs see A anchor maxima and then K*C logits instead of all A*C
  // logits, yet pick the same set as one top-k over all A*C:
  // an anchor holding one of the K best (anchor, class) pairs has its best class logit among the K
  // best anchors; so take the K best anchors by max logit, then the K best pairs among their K*C
  // logits. Only the order among exactly equal logits can differ from the flat top-k (anchor rank
  // instead of anchor index).
  const best = g.op('ReduceMax', [classLogits], `${p}anchor_max_logit`, f32([n, A]), { axes: [2], keepdims: 0 });
  const [, topAnchors] = g.node('TopK', [best, g.constI([K])], [[`${p}top_anchor_logit`, f32([n, K])], [`${p}top_anchor`, I64([n, K])]], { axis: -1, largest: 1, sorted: 1 });
  const sub = g.op('GatherND', [classLogits, g.op('Unsqueeze', [topAnchors, g.constI([-1])], `${p}top_anchor3`, I64([n, K, 1]))], `${p}top_anchor_logits`, f32([n, K, C]), { batch_dims: 1 });
  const flat = g.op('Reshape', [sub, g.constI([0, -1])], `${p}top_anchor_logits_flat`, f32([n, K * C]));
  const [topLogits, pos] = g.node('TopK', [flat, g.constI([K])], [[`${p}topk_logits`, f32([n, K])], [`${p}topk_pos`, I64([n, K])]], { axis: -1, largest: 1, sorted: 1 });
  const rankOfAnchor = g.op('Div', [pos, g.constI([C], [])], `${p}cand_anchor_rank`, I64([n, K]));
  const anchorIdx = g.op('GatherElements', [topAnchors, rankOfAnchor], `${p}cand_anchor`, I64([n, K]), { axis: 1 });
  const classIdx = g.op('Mod', [pos, g.constI([C], [])], `${p}cand_class`, I64([n, K]));
  const candScores = g.op('Sigmoid', [topLogits], `${p}cand_scores`, f32([n, K]));

  // Decode (automl decode_box_outputs): centre = t_yx * anchor_hw + anchor_c; size = exp(t_hw) * anchor_hw.
  const anchors = g.initializer(`${p}anchors_cy_cx_h_w`, [A, 4], generateAnchors(S));
  const anc = g.op('Gather', [anchors, anchorIdx], `${p}cand_anchor_box`, f32([n, K, 4]), { axis: 0 });
  const idx3 = g.op('Unsqueeze', [anchorIdx, g.constI([-1])], `${p}cand_anchor_idx3`, I64([n, K, 1]));
  const reg = g.op('GatherND', [boxRegression, idx3], `${p}cand_regression`, f32([n, K, 4]), { batch_dims: 1 });
  const half2 = f32([n, K, 2]);
  const slice = (x: string, from: number, nm: string) => g.op('Slice', [x, g.constI([from]), g.constI([from + 2]), g.constI([2])], `${p}${nm}`, half2);
  const tC = slice(reg, 0, 't_yx'), tS = slice(reg, 2, 't_hw'), aC = slice(anc, 0, 'a_yx'), aS = slice(anc, 2, 'a_hw');
  const centre = g.op('Add', [g.op('Mul', [tC, aS], `${p}t_yx_scaled`, half2), aC], `${p}centre_yx`, half2);
  const size = g.op('Mul', [g.op('Exp', [tS], `${p}exp_t_hw`, half2), aS], `${p}size_hw`, half2);
  const halfSize = g.op('Mul', [size, g.constF([0.5], [])], `${p}half_hw`, half2);
  const lo = g.op('Sub', [centre, halfSize], `${p}y1x1`, half2);
  const hi = g.op('Add', [centre, halfSize], `${p}y2x2`, half2);
  const yxyx = g.op('Concat', [lo, hi], `${p}y1x1y2x2`, f32([n, K, 4]), { axis: 2 });
  const clipped = g.op('Clip', [yxyx, g.constF([0], []), g.constF([S], [])], `${p}clipped`, f32([n, K, 4]));
  const boxes = g.op('Gather', [clipped, g.constI([1, 0, 3, 2])], `${p}cand_boxes`, f32([n, K, 4]), { axis: 2 });

  // Class-aware NMS: candidate k takes part only in row class(k) and only when its score passes the
  // threshold. NMS gets the candidate's rank (1 - k/K, strictly decreasing) instead of its score:
  // the order is the same (candidates are sorted by logit, ties by index) but has no ties, so the
  // result does not depend on how NonMaxSuppression breaks them.
  const sel = `${net.prefix}num_selected`; // data-dependent; a distinct symbol per network
  const rank = g.constF(Array.from({ length: K }, (_, k) => 1 - k / K), [1, 1, K]);
  const cls3 = g.op('Unsqueeze', [classIdx, g.constI([1])], `${p}cand_class3`, I64([n, 1, K]));
  const isCls = g.op('Equal', [cls3, g.constI([...Array(C).keys()], [1, C, 1])], `${p}class_mask`, BOOL([n, C, K]));
  const pass = g.op('Greater', [candScores, g.constF([scoreThreshold], [])], `${p}cand_pass`, BOOL([n, K]));
  const pass3 = g.op('Unsqueeze', [pass, g.constI([1])], `${p}cand_pass3`, BOOL([n, 1, K]));
  const inNms = g.op('And', [isCls, pass3], `${p}nms_mask`, BOOL([n, C, K]));
  const nmsScores = g.op('Where', [inNms, rank, g.constF([-1], [])], `${p}nms_scores`, f32([n, C, K]));
  const selected = g.op('NonMaxSuppression', [boxes, nmsScores, g.constI([M]), g.constF([IOU_THRESHOLD]), g.constF([0])],
    `${p}nms_selected`, I64([sel, 3]), { center_point_box: 0 });

  // Kept mask [N, K] via ScatterND at (batch, candidate); then the best M by rank (= by score), padded.
  const selBk = g.op('Gather', [selected, g.constI([0, 2])], `${p}nms_batch_cand`, I64([sel, 2]), { axis: 1 });
  const numSel = g.op('Slice', [g.op('Shape', [selected], `${p}nms_shape`, I64([2])), g.constI([0]), g.constI([1])], `${p}nms_count`, I64([1]));
  const ones = g.op('ConstantOfShape', [numSel], `${p}nms_ones`, f32([sel]), { value: { name: 'one', dims: [1], dataType: DT.FLOAT, floatData: [1] } });
  const zeros = g.op('ConstantOfShape', [g.op('Shape', [candScores], `${p}cand_shape`, I64([2]))], `${p}zeros`, f32([n, K]), { value: { name: 'zero', dims: [1], dataType: DT.FLOAT, floatData: [0] } });
  const kept = g.op('ScatterND', [zeros, selBk, ones], `${p}kept`, f32([n, K]));
  const keptB = g.op('Greater', [kept, g.constF([0.5], [])], `${p}kept_bool`, BOOL([n, K]));
  const masked = g.op('Where', [keptB, g.op('Reshape', [rank, g.constI([1, K])], `${p}rank2`, f32([1, K])), g.constF([-1], [])], `${p}kept_rank`, f32([n, K]));
  const [topRank, topI] = g.node('TopK', [masked, g.constI([M])], [[`${p}final_rank`, f32([n, M])], [`${p}final_index`, I64([n, M])]], { axis: -1, largest: 1, sorted: 1 });
  const valid = g.op('Greater', [topRank, g.constF([0], [])], `${p}valid`, BOOL([n, M]));
  const validF = g.op('Cast', [valid], `${p}valid_f`, f32([n, M]), { to: DT.FLOAT });
  const gi = g.op('Unsqueeze', [topI, g.constI([-1])], `${p}final_index3`, I64([n, M, 1]));
  const topScores = g.op('GatherND', [candScores, gi], `${p}final_scores_raw`, f32([n, M]), { batch_dims: 1 });
  const selBoxes = g.op('GatherND', [boxes, gi], `${p}final_boxes_raw`, f32([n, M, 4]), { batch_dims: 1 });
  const classF = g.op('Add', [g.op('Cast', [classIdx], `${p}cand_class_f`, f32([n, K]), { to: DT.FLOAT }), g.constF([1], [])], `${p}cand_class_1based`, f32([n, K]));
  const selClasses = g.op('GatherND', [classF, gi], `${p}final_classes_raw`, f32([n, M]), { batch_dims: 1 });
  const valid3 = g.op('Unsqueeze', [valid, g.constI([-1])], `${p}valid3`, BOOL([n, M, 1]));
  const zero = g.constF([0], []);
  const out = (x: string) => `${net.prefix}${x}`;
  return {
    boxes: g.op('Where', [valid3, selBoxes, zero], out(OUTPUT_NAMES.boxes), f32([n, M, 4])),
    scores: g.op('Where', [valid, topScores, zero], out(OUTPUT_NAMES.scores), f32([n, M])),
    classes: g.op('Where', [valid, selClasses, zero], out(OUTPUT_NAMES.classes), f32([n, M])),
    numDetections: g.op('ReduceSum', [validF, g.constI([1])], out(OUTPUT_NAMES.numDetections), f32([n]), { keepdims: 0 }),
  };
}

export interface GenerateOptions {
  seed: number;
  generatorVersion: string;
  scoreThreshold?: number;
}

export function metadataFor(cfg: EfficientDetConfig, o: GenerateOptions): Record<string, string> {
  const K = META_KEYS, a = DEFAULT_ANCHORS;
  return {
    [K.modelName]: cfg.name,
    [K.inputSize]: String(cfg.inputSize),
    [K.inputLayout]: 'NCHW',
    [K.colorOrder]: 'RGB',
    [K.pixelScale]: '255',
    [K.mean]: IMAGENET_MEAN.join(','),
    [K.std]: IMAGENET_STD.join(','),
    [K.numClasses]: String(NUM_CLASSES),
    [K.classIdOffset]: '1',
    [K.numAnchors]: String(anchorCount(cfg.inputSize)),
    [K.anchorMinLevel]: String(a.minLevel),
    [K.anchorMaxLevel]: String(a.maxLevel),
    [K.anchorNumScales]: String(a.numScales),
    [K.anchorAspectRatios]: a.aspectRatios.join(','),
    [K.anchorScale]: String(a.anchorScale),
    [K.boxRegressionOrder]: 'ty,tx,th,tw',
    [K.boxFormat]: 'x1,y1,x2,y2 input pixels',
    [K.preNmsTopK]: String(PRE_NMS_TOPK),
    [K.iouThreshold]: String(IOU_THRESHOLD),
    [K.scoreThreshold]: String(o.scoreThreshold ?? SCORE_THRESHOLD),
    [K.maxDetections]: String(MAX_DETECTIONS),
    [K.seed]: String(o.seed),
    [K.generatorVersion]: o.generatorVersion,
    [K.weights]: 'seeded random (architecture only, not trained)',
  };
}

export const OPSET = 17;

const statsCache = new Map<string, Map<string, BnStats>>();

/** Forget cached BN statistics (tests use it to prove the statistics themselves are deterministic). */
export function clearBnStatisticsCache(): void {
  statsCache.clear();
}

/**
 * BN statistics of one detector on the synthetic statistics batch (see bn-statistics.ts), keyed by conv name
 * with `prefix` prepended. Cached per (model, seed) so the stacked graph reuses the separate runs.
 */
export async function bnStatistics(cfg: EfficientDetConfig, seed: number, prefix = ''): Promise<Map<string, BnStats>> {
  const key = `${cfg.name}:${cfg.inputSize}:${seed}`;
  let stats = statsCache.get(key);
  if (!stats) {
    const g = new GraphBuilder();
    g.shapes.set(INPUT_NAME, f32(['N', 3, cfg.inputSize, cfg.inputSize]));
    const bn = new BnState('measure');
    buildNetwork(new NetBuilder(g, new Rng(modelSeed(seed, cfg.name)), '', bn), INPUT_NAME, cfg);
    const model = g.toModel({ inputs: [INPUT_NAME], outputs: bn.statOutputs, opset: OPSET, graphName: 'bn-statistics', docString: '', metadata: {} });
    statsCache.set(key, (stats = await measureBatchNorm(model, INPUT_NAME, cfg.inputSize)));
  }
  return new Map([...stats].map(([k, v]) => [`${prefix}${k}`, v]));
}

/** One detector as a complete ONNX file (bytes). */
export async function buildModelFile(cfg: EfficientDetConfig, o: GenerateOptions): Promise<Uint8Array> {
  const stats = await bnStatistics(cfg, o.seed);
  const g = new GraphBuilder();
  g.shapes.set(INPUT_NAME, f32(['N', 3, cfg.inputSize, cfg.inputSize]));
  const net = new NetBuilder(g, new Rng(modelSeed(o.seed, cfg.name)), '', new BnState('fold', stats));
  const out = buildEfficientDet(net, INPUT_NAME, cfg, o.scoreThreshold);
  return g.toModel({
    inputs: [INPUT_NAME],
    outputs: [out.classLogits, out.boxRegression, out.boxes, out.scores, out.classes, out.numDetections],
    opset: OPSET,
    graphName: `efficientdet-${cfg.name}`,
    docString: `EfficientDet-${cfg.name.toUpperCase()} architecture (Tan, Pang, Le 2020; google/automl) with seeded random weights, BN statistics from a synthetic calibration batch folded into the convs, in-graph post-processing.`,
    metadata: metadataFor(cfg, o),
  });
}

/** Input of one network inside the stacked graph. */
const stackedInput = (name: ModelName) => `${name}/${INPUT_NAME}`;

/**
 * The STACKED graph: D0, D1 and D2 in one ONNX file, one session run for all three. Each network
 * keeps its own input (`d0/images` [N,3,512,512], `d1/images`, `d2/images`): letterboxing the
 * original image to each size outside the graph is what makes the answers equal to the separate
 * models (an in-graph resize of one 768 input would not be). Outputs are the contract's names with
 * the model as prefix (`d0/detection_boxes`, ...); metadata keys likewise (`d0/input_size`, ...),
 * plus model_name = stacked and stacked_models = d0,d1,d2. Weights are those of the separate files.
 */
export async function buildStackedFile(names: readonly ModelName[], o: GenerateOptions): Promise<Uint8Array> {
  const g = new GraphBuilder();
  const inputs: string[] = [], outputs: string[] = [];
  const metadata: Record<string, string> = { [META_KEYS.modelName]: 'stacked', stacked_models: names.join(','), [META_KEYS.seed]: String(o.seed), [META_KEYS.generatorVersion]: o.generatorVersion };
  for (const name of names) {
    const cfg = MODEL_CONFIGS[name], prefix = `${name}/`;
    const input = stackedInput(name);
    g.shapes.set(input, f32(['N', 3, cfg.inputSize, cfg.inputSize]));
    const net = new NetBuilder(g, new Rng(modelSeed(o.seed, name)), prefix, new BnState('fold', await bnStatistics(cfg, o.seed, prefix)));
    const out = buildEfficientDet(net, input, cfg, o.scoreThreshold);
    inputs.push(input);
    outputs.push(out.classLogits, out.boxRegression, out.boxes, out.scores, out.classes, out.numDetections);
    for (const [k, v] of Object.entries(metadataFor(cfg, o))) metadata[`${prefix}${k}`] = v;
  }
  return g.toModel({
    inputs, outputs, opset: OPSET, graphName: 'efficientdet-stacked',
    docString: `EfficientDet ${names.join(', ')} stacked in one graph (separate inputs, prefixed outputs); same weights as the separate files.`,
    metadata,
  });
}

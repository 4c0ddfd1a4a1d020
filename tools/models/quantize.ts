// int8 variants of the detectors (for the `int8` implementation): a pass over the finished float
// graph turns the network part (backbone, BiFPN, heads) into QDQ form that onnxruntime's CPU EP
// fuses into int8 kernels (QLinearConv, QLinearAdd/Mul/Sigmoid/GlobalAveragePool); the
// post-processing (decode, top-k, NMS) stays float. A pass over the built graph instead of hooks
// in NetBuilder keeps the float generator untouched (its files stay byte-identical) and sees every
// weight after the BN fold, which NetBuilder.conv() applies in place.
//
// Scheme (the ORT quantize_static defaults for x86):
// - conv weights: int8, symmetric, per output channel, in 7 bits (scale = max|w_c| / 63: ORT's
//   reduce_range): on x86 CPUs without VNNI (AVX2, AVX-512F) the u8 x s8 kernels add pairs of products
//   into int16 (vpmaddubsw), which saturates with full-range weights; here (AMD EPYC, AVX2 only) full
//   range matched the float model's labels on 3-7% of detections, 7 bits keep them (docs/implementations.md, int8);
//   biases int32 with scale = input scale x weight scale of the channel;
// - activations: uint8, asymmetric, per tensor, from min/max over the calibration images (each
//   image run through the float graph at the model's input size, letterboxed like the server does);
// - BiFPN fast fusion: the normalised fusion weights are constants, so w_i * x_i costs nothing:
//   x_i's dequantisation scale is multiplied by w_i, and the Sum becomes a chain of QLinearAdds;
// - MaxPool, nearest Resize, Transpose, Reshape run on the uint8 tensor directly (same scale);
// - Concat of the head levels and everything after it is float.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type * as OnnxProto from 'onnx-proto';
import { MANIFEST_FILE, type DatasetManifest } from '../../lib/dataset.ts';
import { decodeImage, letterboxBatch, type DecodedImage } from '../../server/index.ts';
import { IMAGENET_MEAN, IMAGENET_STD, INPUT_NAME, INT8_META, META_KEYS } from '../../lib/model-contract.ts';
import { BnState, buildEfficientDet, bnStatistics, metadataFor, NetBuilder, OPSET, type EfficientDetConfig, type GenerateOptions } from './efficientdet.ts';
import { DT, GraphBuilder, onnx } from './onnx-graph.ts';
import { modelSeed, Rng } from './rng.ts';

/** Largest weight magnitude: 7 bits (reduce_range), so u8 x s8 pair sums fit int16 on non-VNNI x86. */
const WEIGHT_QMAX = 63;

/** Bump when the quantization pass or its calibration changes: `make models-int8` regenerates. */
const INT8_VERSION = '1.1.0';

const SCHEME = 'qdq int8: weights int8 (7-bit range) symmetric per output channel, biases int32, activations uint8 asymmetric per tensor (min/max calibration); post-processing float';

interface Int8Options extends GenerateOptions {
  /** Calibration images (already decoded), with their ids for the metadata. */
  calibration: { id: string; image: DecodedImage }[];
  calibrationDataset: string;
}

type Node = OnnxProto.onnx.INodeProto;
interface QInfo { q: string; scale: number; zp: number }

/** Node-proto helper that records nothing in GraphBuilder.nodes (the pass assembles its own list). */
function mkNode(op: string, inputs: string[], outputs: string[], name: string, attrs: OnnxProto.onnx.IAttributeProto[] = []): Node {
  return { opType: op, name, input: inputs, output: outputs, attribute: attrs };
}

const INT_ATTR = onnx.AttributeProto.AttributeType.INT;

/** uint8 affine parameters covering [min, max] and 0 (zero must be exact: conv padding). */
function activationParams(min: number, max: number): { scale: number; zp: number } {
  const lo = Math.min(0, min), hi = Math.max(0, max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zp = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale: Math.fround(scale), zp };
}

const round5 = (x: number) => Number(x.toPrecision(5));

/** Tensors derived only from initializers (the BiFPN fusion weights), evaluated in TypeScript. */
function constantValues(g: GraphBuilder, nodes: Node[]): Map<string, Float64Array> {
  const inits = new Map(g.initializers.map((t) => [t.name!, t]));
  const val = new Map<string, Float64Array>();
  const valueOf = (name: string): Float64Array | undefined => {
    if (val.has(name)) return val.get(name);
    const t = inits.get(name);
    if (!t) return undefined;
    const raw = t.rawData!;
    const v = t.dataType === DT.FLOAT
      ? Float64Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4))
      : Float64Array.from(new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), Number);
    val.set(name, v);
    return v;
  };
  const bcast = (a: Float64Array, b: Float64Array, f: (x: number, y: number) => number) =>
    Float64Array.from({ length: Math.max(a.length, b.length) }, (_, i) => f(a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]));
  for (const n of nodes) {
    const ins = n.input!.filter((x) => x !== '').map(valueOf);
    if (ins.some((x) => x === undefined)) continue;
    const [a, b] = ins as Float64Array[];
    let out: Float64Array;
    switch (n.opType) {
      case 'Relu': out = a.map((x) => Math.max(0, x)); break;
      case 'ReduceSum': out = Float64Array.of(a.reduce((s, x) => s + x, 0)); break;
      case 'Add': out = bcast(a, b, (x, y) => x + y); break;
      case 'Div': out = bcast(a, b, (x, y) => x / y); break;
      case 'Gather': out = Float64Array.of(a[b[0]]); break;
      default: continue; // not a constant chain this pass knows
    }
    // float32 like onnxruntime would compute them
    val.set(n.output![0], out.map((x) => Math.fround(x)));
  }
  for (const t of inits.keys()) val.delete(t);
  return val;
}

/** Sum(a, b, c) -> Add(Add(a, b), c): QLinearAdd is binary, Sum has no int8 kernel. Float-exact for 2 inputs. */
function sumToAdds(g: GraphBuilder, nodes: Node[]): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    if (n.opType !== 'Sum' || n.input!.length < 2) { out.push(n); continue; }
    let acc = n.input![0];
    n.input!.slice(1).forEach((x, i, rest) => {
      const last = i === rest.length - 1;
      const name = last ? n.output![0] : g.name(`${n.output![0]}/partial${i}`);
      if (!last) g.shapes.set(name, g.info(n.output![0]));
      out.push(mkNode('Add', [acc, x], [name], name));
      acc = name;
    });
  }
  return out;
}

/** The float graph of one detector, split into network nodes (quantized) and post-processing nodes (float). */
interface FloatGraph {
  g: GraphBuilder;
  network: Node[];
  post: Node[];
  outputs: string[];
  consts: Map<string, Float64Array>;
}

async function buildFloatGraph(cfg: EfficientDetConfig, o: GenerateOptions): Promise<FloatGraph> {
  const stats = await bnStatistics(cfg, o.seed);
  const g = new GraphBuilder();
  g.shapes.set(INPUT_NAME, { dtype: DT.FLOAT, dims: ['N', 3, cfg.inputSize, cfg.inputSize] });
  const net = new NetBuilder(g, new Rng(modelSeed(o.seed, cfg.name)), '', new BnState('fold', stats));
  const out = buildEfficientDet(net, INPUT_NAME, cfg, o.scoreThreshold);
  // buildEfficientDet emits the network, then the post-processing; the box head's Concat ends the network.
  const end = g.nodes.findIndex((n) => n.output![0] === out.boxRegression);
  const network = sumToAdds(g, g.nodes.slice(0, end + 1));
  return {
    g, network, post: g.nodes.slice(end + 1),
    outputs: [out.classLogits, out.boxRegression, out.boxes, out.scores, out.classes, out.numDetections],
    consts: constantValues(g, network),
  };
}

/** Float activations of the network: outputs of network nodes that are not constant-derived. */
function activations(fg: FloatGraph): string[] {
  return fg.network.flatMap((n) => n.output!).filter((t) => !fg.consts.has(t) && fg.g.shapes.get(t)?.dtype === DT.FLOAT);
}

/** Runs the float network on each calibration image and returns min/max per activation (5 digits). */
async function measureRanges(fg: FloatGraph, inputs: Float32Array[], size: number): Promise<Map<string, [number, number]>> {
  const g = fg.g, acts = [INPUT_NAME, ...activations(fg)];
  const extra: Node[] = [], outs: string[] = [];
  for (const t of acts) {
    for (const op of ['ReduceMin', 'ReduceMax']) {
      const o = `${t}/calib_${op}`;
      g.shapes.set(o, { dtype: DT.FLOAT, dims: [] });
      extra.push(mkNode(op, [t], [o], o, [{ name: 'keepdims', type: INT_ATTR, i: 0 }]));
      outs.push(o);
    }
  }
  const saved = g.nodes.splice(0, g.nodes.length, ...fg.network, ...extra);
  const model = g.toModel({ inputs: [INPUT_NAME], outputs: outs, opset: OPSET, graphName: 'int8-calibration', docString: '', metadata: {} });
  g.nodes.splice(0, g.nodes.length, ...saved);
  for (const o of outs) g.shapes.delete(o);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
  const ranges = new Map<string, [number, number]>();
  try {
    for (const x of inputs) {
      const r = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [1, 3, size, size]) });
      for (const t of acts) {
        const at = (op: string) => (r[`${t}/calib_${op}`].data as Float32Array)[0];
        const lo = at('ReduceMin'), hi = at('ReduceMax');
        const prev = ranges.get(t);
        ranges.set(t, prev ? [Math.min(prev[0], lo), Math.max(prev[1], hi)] : [lo, hi]);
      }
    }
  } finally {
    await session.release();
  }
  for (const [t, [lo, hi]] of ranges) ranges.set(t, [round5(lo), round5(hi)]);
  return ranges;
}

/** Ops turned into QDQ node units that onnxruntime fuses into int8 kernels. */
const QUANT_OPS = new Set(['Conv', 'Sigmoid', 'Mul', 'Add', 'GlobalAveragePool']);
/** Ops that run on the uint8 tensor itself, keeping its scale and zero point. */
const SAME_SCALE_OPS = new Set(['MaxPool', 'Resize', 'Transpose', 'Reshape']);

interface QuantizeStats { quantizedNodes: number; floatNodes: number; int8Weights: number }

/** Rewrites fg.g's node list and initializers into the QDQ graph. */
function quantizeGraph(fg: FloatGraph, ranges: Map<string, [number, number]>): QuantizeStats {
  const rewriter = new QdqRewriter(fg, ranges);
  for (const n of fg.network) rewriter.rewrite(n);
  const nodes = rewriter.finish();
  pruneToOutputs(fg.g, nodes, fg.outputs);
  return rewriter.stats;
}

/**
 * The float network, node by node, into QDQ node units: the state of one rewrite (the quantized form
 * of each tensor so far, the tensors already float, the int8 weights made) and its emitting steps.
 */
class QdqRewriter {
  readonly stats: QuantizeStats = { quantizedNodes: 0, floatNodes: 0, int8Weights: 0 };
  private readonly g: GraphBuilder;
  private readonly nodes: Node[] = [];
  private readonly inits: Map<string, OnnxProto.onnx.ITensorProto>;
  private readonly qinfo = new Map<string, QInfo>();
  private readonly floatReady: Set<string>;
  private readonly weightScales = new Map<string, { q: string; scales: Float32Array }>();

  constructor(
    private readonly fg: FloatGraph,
    private readonly ranges: Map<string, [number, number]>,
  ) {
    this.g = fg.g;
    this.inits = new Map(this.g.initializers.map((t) => [t.name!, t]));
    this.floatReady = new Set<string>([INPUT_NAME, ...this.inits.keys(), ...fg.consts.keys()]);
  }

  /** One node of the float network: folded into a scale, run on uint8, made a QDQ unit, or left float. */
  rewrite(n: Node): void {
    const fg = this.fg;
    const ins = n.input as string[];
    const isConst = (t: string) => this.inits.has(t) || fg.consts.has(t);
    if (fg.consts.has(n.output![0])) { this.nodes.push(n); return; } // fusion-weight arithmetic (pruned if unused)
    if (n.opType === 'Mul' && isConst(ins[1]) && fg.consts.get(ins[1])?.length === 1) {
      // w_i * x_i with a constant w_i: the same uint8 tensor, dequantized with scale x w_i.
      const x = this.qOf(ins[0]);
      this.qinfo.set(n.output![0], { q: x.q, scale: Math.fround(x.scale * Math.max(fg.consts.get(ins[1])![0], 1e-12)), zp: x.zp });
      return;
    }
    if (SAME_SCALE_OPS.has(n.opType!) && !isConst(ins[0])) {
      const x = this.qOf(ins[0]);
      const q = this.g.name(`${n.output![0]}/q`);
      this.g.shapes.set(q, { dtype: DT.UINT8, dims: this.g.info(n.output![0]).dims });
      this.nodes.push({ ...n, input: [x.q, ...ins.slice(1)], output: [q] });
      this.qinfo.set(n.output![0], { ...x, q });
      this.stats.quantizedNodes++;
      return;
    }
    if (n.opType === 'Conv') {
      const x = this.qOf(ins[0]);
      const w = this.quantWeight(ins[1]);
      const inputs = [this.dequant(ins[0], x), w.dq];
      if (ins[2]) inputs.push(this.quantBias(ins[2], n.output![0], x.scale, w.scales));
      this.emitQuantized(n, inputs);
      return;
    }
    if (QUANT_OPS.has(n.opType!) && ins.every((t) => !isConst(t))) {
      this.emitQuantized(n, ins.map((t) => this.dequant(t, this.qOf(t))));
      return;
    }
    for (const t of ins) if (t) this.floatOf(t);
    this.nodes.push(n);
    for (const t of n.output!) this.floatReady.add(t);
    this.stats.floatNodes++;
  }

  /** The rewritten node list: the detection heads float again, then the float post-processing. */
  finish(): Node[] {
    for (const t of this.fg.outputs.slice(0, 2)) this.floatOf(t);
    for (const n of this.fg.post) for (const t of n.input!) if (t && !this.floatReady.has(t) && this.qinfo.has(t)) this.floatOf(t);
    this.nodes.push(...this.fg.post);
    return this.nodes;
  }

  private scalarInit(base: string, dtype: number, value: number): string {
    const name = this.g.name(base);
    const raw = dtype === DT.FLOAT ? new Uint8Array(Float32Array.of(value).buffer) : Uint8Array.of(value & 0xff);
    this.g.initializers.push({ name, dims: [], dataType: dtype, rawData: raw });
    return name;
  }

  private rawInit(name: string, dims: number[], dtype: number, data: Int8Array | Int32Array | Float32Array): string {
    this.g.initializers.push({ name, dims, dataType: dtype, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** QuantizeLinear of float `input` into `info.q`, with scalar scale and zero point named after tensor `t`. */
  private emitQuantize(t: string, input: string, info: QInfo): void {
    this.nodes.push(mkNode('QuantizeLinear', [input, this.scalarInit(`${t}/q_scale`, DT.FLOAT, info.scale), this.scalarInit(`${t}/q_zp`, DT.UINT8, info.zp)], [info.q], info.q));
  }

  /** DequantizeLinear of `info.q` into float `out` (node `node`), with scalar scale and zero point named after tensor `t`. */
  private emitDequantize(t: string, info: QInfo, out: string, node: string): void {
    this.nodes.push(mkNode('DequantizeLinear', [info.q, this.scalarInit(`${t}/dq_scale`, DT.FLOAT, info.scale), this.scalarInit(`${t}/dq_zp`, DT.UINT8, info.zp)], [out], node));
  }

  private rangeOf(t: string): { scale: number; zp: number } {
    const r = this.ranges.get(t);
    if (!r) throw new Error(`int8: no calibration range for ${t}`);
    return activationParams(r[0], r[1]);
  }

  /** Quantizes a float tensor that no quantized op produced (the graph input). */
  private quantizeFloat(t: string): QInfo {
    const { scale, zp } = this.rangeOf(t);
    const q = this.g.name(`${t}/q`);
    this.g.shapes.set(q, { dtype: DT.UINT8, dims: this.g.info(t).dims });
    this.emitQuantize(t, t, { q, scale, zp });
    const info = { q, scale, zp };
    this.qinfo.set(t, info);
    return info;
  }

  private qOf(t: string): QInfo {
    return this.qinfo.get(t) ?? this.quantizeFloat(t);
  }

  /** A fresh DequantizeLinear of `info` for one consumer (fusion wants a DQ per node unit). */
  private dequant(t: string, info: QInfo): string {
    const d = this.g.name(`${t}/dq`);
    this.g.shapes.set(d, { dtype: DT.FLOAT, dims: this.g.info(t).dims });
    this.emitDequantize(t, info, d, d);
    return d;
  }

  /** The float tensor `t` for a float consumer: dequantized once, under its original name. */
  private floatOf(t: string): void {
    if (this.floatReady.has(t)) return;
    const info = this.qinfo.get(t);
    if (!info) throw new Error(`int8: tensor ${t} has neither a float nor a quantized producer`);
    this.emitDequantize(t, info, t, `${t}/dq_float`);
    this.floatReady.add(t);
  }

  /** int8 per-output-channel weight (made once per weight) + a DequantizeLinear of it (axis 0) per use. */
  private quantWeight(w: string): { dq: string; scales: Float32Array } {
    let qw = this.weightScales.get(w);
    if (!qw) {
      const data = this.g.floatData.get(w)!, dims = this.g.info(w).dims as number[];
      const cout = dims[0], per = data.length / cout;
      const scales = new Float32Array(cout), q = new Int8Array(data.length);
      for (let c = 0; c < cout; c++) {
        let m = 0;
        for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(data[i]));
        scales[c] = m > 0 ? m / WEIGHT_QMAX : 1;
        for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-WEIGHT_QMAX, Math.min(WEIGHT_QMAX, Math.round(data[i] / scales[c])));
      }
      const name = this.rawInit(this.g.name(`${w}/int8`), dims, DT.INT8, q);
      this.g.shapes.set(name, { dtype: DT.INT8, dims });
      this.rawInit(`${name}/scale`, [cout], DT.FLOAT, scales);
      this.rawInit(`${name}/zp`, [cout], DT.INT8, new Int8Array(cout));
      this.weightScales.set(w, (qw = { q: name, scales }));
      this.stats.int8Weights++;
    }
    const dq = this.g.name(`${w}/dq`);
    this.g.shapes.set(dq, this.g.info(w));
    this.nodes.push(mkNode('DequantizeLinear', [qw.q, `${qw.q}/scale`, `${qw.q}/zp`], [dq], dq, [{ name: 'axis', type: INT_ATTR, i: 0 }]));
    return { dq, scales: qw.scales };
  }

  /** int32 bias with scale = input scale x weight scale per channel. */
  private quantBias(b: string, conv: string, inScale: number, wScales: Float32Array): string {
    const data = this.g.floatData.get(b)!, n = data.length;
    const scales = Float32Array.from(wScales, (s) => s * inScale);
    const q = Int32Array.from(data, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / scales[c]))));
    const name = this.rawInit(this.g.name(`${conv}/b_int32`), [n], DT.INT32, q);
    this.rawInit(`${name}/scale`, [n], DT.FLOAT, scales);
    this.rawInit(`${name}/zp`, [n], DT.INT32, new Int32Array(n));
    const dq = this.g.name(`${conv}/b_dq`);
    this.g.shapes.set(dq, { dtype: DT.FLOAT, dims: [n] });
    this.nodes.push(mkNode('DequantizeLinear', [name, `${name}/scale`, `${name}/zp`], [dq], dq, [{ name: 'axis', type: INT_ATTR, i: 0 }]));
    return dq;
  }

  /** Emits `n` with its float output renamed and quantized: a QDQ node unit. */
  private emitQuantized(n: Node, inputs: string[]): void {
    const t = n.output![0];
    const { scale, zp } = this.rangeOf(t);
    const f = this.g.name(`${t}/f`), q = this.g.name(`${t}/q`);
    this.g.shapes.set(f, this.g.info(t));
    this.g.shapes.set(q, { dtype: DT.UINT8, dims: this.g.info(t).dims });
    this.nodes.push({ ...n, input: inputs, output: [f] });
    this.emitQuantize(t, f, { q, scale, zp });
    this.qinfo.set(t, { q, scale, zp });
    this.stats.quantizedNodes++;
  }
}

/** Keeps in `g` only what the outputs need (drops the fusion-weight arithmetic, now folded into scales). */
function pruneToOutputs(g: GraphBuilder, nodes: Node[], outputs: string[]): void {
  const needed = new Set(outputs);
  const live = [...nodes].reverse().filter((n) => {
    if (!n.output!.some((o) => needed.has(o))) return false;
    for (const t of n.input!) needed.add(t);
    return true;
  }).reverse();
  g.nodes.splice(0, g.nodes.length, ...live);
  const keep = g.initializers.filter((t) => needed.has(t.name!));
  g.initializers.splice(0, g.initializers.length, ...keep);
  const produced = new Set([INPUT_NAME, ...live.flatMap((n) => n.output!)]);
  for (const t of [...g.shapes.keys()]) if (!produced.has(t)) g.shapes.delete(t);
}

/** The first `count` images of a dataset folder (manifest order), decoded like the server does. */
export async function loadCalibrationImages(dir: string, count: number): Promise<{ id: string; image: DecodedImage }[]> {
  const manifest = join(dir, MANIFEST_FILE);
  if (!existsSync(manifest)) throw new Error(`calibration images: ${manifest} not found: run 'make data' (or set INT8_CALIBRATION_DIR to a dataset folder)`);
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as DatasetManifest;
  if (m.images.length < count) throw new Error(`calibration images: ${dir} holds ${m.images.length} images, INT8_CALIBRATION_IMAGES=${count} asks for more`);
  return Promise.all(m.images.slice(0, count).map(async (e) => ({
    id: e.id,
    image: await decodeImage(readFileSync(join(dir, e.file)), { maxPixels: 40e6, id: e.id }),
  })));
}

function int8Metadata(cfg: EfficientDetConfig, o: Int8Options): Record<string, string> {
  return {
    ...metadataFor(cfg, o),
    [INT8_META.quantization]: SCHEME,
    [INT8_META.quantizationVersion]: INT8_VERSION,
    [INT8_META.calibrationDataset]: o.calibrationDataset,
    [INT8_META.calibrationImages]: o.calibration.map((c) => c.id).join(','),
  };
}

/** One int8 detector as a complete ONNX file (bytes): same inputs, outputs and metadata keys as the float file. */
export async function buildInt8ModelFile(cfg: EfficientDetConfig, o: Int8Options): Promise<{ bytes: Uint8Array; stats: QuantizeStats }> {
  const fg = await buildFloatGraph(cfg, o);
  const S = cfg.inputSize;
  const norm = { pixelScale: 255, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
  // letterboxBatch reads the pixels without detaching them, so the images are reusable per model.
  const inputs = await Promise.all(o.calibration.map(async (c) => (await letterboxBatch([c.image], S, norm)).data));
  const ranges = await measureRanges(fg, inputs, S);
  const stats = quantizeGraph(fg, ranges);
  const bytes = fg.g.toModel({
    inputs: [INPUT_NAME],
    outputs: fg.outputs,
    opset: OPSET,
    graphName: `efficientdet-${cfg.name}-int8`,
    docString: `EfficientDet-${cfg.name.toUpperCase()} of the float file with the same seed, quantized: ${SCHEME}. Calibrated on ${o.calibration.length} images of ${o.calibrationDataset}.`,
    metadata: int8Metadata(cfg, o),
  });
  return { bytes, stats };
}

/** Expected metadata of an up-to-date int8 file. */
export function int8UpToDate(meta: Record<string, string>, generatorVersion: string, seed: number, calibrationIds: string[]): boolean {
  return meta[META_KEYS.generatorVersion] === generatorVersion && meta[META_KEYS.seed] === String(seed)
    && meta[INT8_META.quantizationVersion] === INT8_VERSION && meta[INT8_META.calibrationImages] === calibrationIds.join(',');
}


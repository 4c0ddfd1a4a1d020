// Reads a detector ONNX file back: metadata, parameter count and conv multiply-adds computed
// from the initializers and the value_info shapes (batch 1).

import { readFileSync } from 'node:fs';
import type * as OnnxProto from 'onnx-proto';
import { onnx } from './onnx-graph.ts';

type Model = OnnxProto.onnx.IModelProto;
type ValueInfo = OnnxProto.onnx.IValueInfoProto;

export interface ModelStats {
  metadata: Record<string, string>;
  /** Trainable-parameter count: every float initializer except constants of the post-processing. */
  params: number;
  /** Multiply-adds of all Conv nodes at batch 1: out elements x (C_in / group) x kh x kw. */
  convMacs: number;
  convCount: number;
  opsetVersion: number;
  inputs: { name: string; dims: (number | string)[]; elemType: number }[];
  outputs: { name: string; dims: (number | string)[]; elemType: number }[];
}

/** Post-processing constants and shared small constants are not parameters. */
const isConstant = (name: string) => /(^|\/)(const|post)\//.test(name);

function dimsOf(vi: ValueInfo): (number | string)[] {
  return (vi.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
}

export function decodeModel(bytes: Uint8Array): OnnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** Only the metadata, for callers that do not need the graph (still decodes the file). */
export function readMetadata(file: string): Record<string, string> {
  return metadataOf(decodeModel(readFileSync(file)));
}

function metadataOf(m: Model): Record<string, string> {
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

export function modelStats(m: Model): ModelStats {
  const graph = m.graph!;
  const shapes = new Map<string, (number | string)[]>();
  for (const vi of [...(graph.valueInfo ?? []), ...(graph.output ?? []), ...(graph.input ?? [])]) shapes.set(vi.name!, dimsOf(vi));
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  let params = 0;
  const DT = onnx.TensorProto.DataType;
  // int8 files (quantize.ts): int8 weights and int32 biases are parameters, their scales and zero points are not.
  const paramTypes = new Set<number>([DT.FLOAT, DT.INT8, DT.INT32]);
  for (const t of inits.values()) {
    if (!paramTypes.has(t.dataType!) || isConstant(t.name!) || /(scale|zp)$/.test(t.name!)) continue;
    params += (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  }
  let convMacs = 0, convCount = 0;
  // A QDQ conv's weight is a DequantizeLinear of an int8 initializer.
  const dequantized = new Map((graph.node ?? []).filter((n) => n.opType === 'DequantizeLinear').map((n) => [n.output![0], n.input![0]]));
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Conv') continue;
    const w = inits.get(n.input![1]) ?? inits.get(dequantized.get(n.input![1]) ?? '');
    const out = shapes.get(n.output![0]);
    if (!w || !out) throw new Error(`conv ${n.name}: weight or output shape missing`);
    const [cout, cinPerGroup, kh, kw] = (w.dims ?? []).map(Number);
    const [, , oh, ow] = out.map((d) => (typeof d === 'number' ? d : 1));
    convMacs += cout * oh * ow * cinPerGroup * kh * kw;
    convCount++;
  }
  const io = (v: ValueInfo[]) => v.map((vi) => ({ name: vi.name!, dims: dimsOf(vi), elemType: vi.type!.tensorType!.elemType! }));
  return {
    metadata: metadataOf(m), params, convMacs, convCount,
    opsetVersion: Number(m.opsetImport?.[0]?.version ?? 0),
    inputs: io(graph.input ?? []), outputs: io(graph.output ?? []),
  };
}

export function readModelStats(file: string): ModelStats {
  return modelStats(decodeModel(readFileSync(file)));
}

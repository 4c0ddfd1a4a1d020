// A small ONNX graph builder over onnx-proto (protobufjs): named nodes, initializers and
// value_info with static shapes (batch symbolic), so tools and tests can read shapes and
// count multiply-adds straight from the file.

import { createRequire } from 'node:module';
import type * as OnnxProto from 'onnx-proto';

// onnx-proto is CommonJS without named ESM exports.
export const { onnx } = createRequire(import.meta.url)('onnx-proto') as typeof OnnxProto;

export const DT = onnx.TensorProto.DataType;
export type Dim = number | string;
export interface TensorInfo { dtype: number; dims: Dim[] }

type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | OnnxProto.onnx.ITensorProto;

const AT = onnx.AttributeProto.AttributeType;

function attribute(name: string, v: AttrValue): OnnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AT.FLOATS, floats: v.floats };
  return { name, type: AT.TENSOR, t: v };
}

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, t: TensorInfo): OnnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: t.dtype,
        shape: { dim: t.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class GraphBuilder {
  readonly nodes: OnnxProto.onnx.INodeProto[] = [];
  readonly initializers: OnnxProto.onnx.ITensorProto[] = [];
  readonly shapes = new Map<string, TensorInfo>();
  /** Float initializer data by name (views shared with the protobuf raw_data, so edits show up). */
  readonly floatData = new Map<string, Float32Array>();
  private readonly used = new Map<string, number>();
  private readonly consts = new Map<string, string>();

  /** A unique tensor name from a readable base. */
  name(base: string): string {
    const n = this.used.get(base) ?? 0;
    this.used.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  initializer(base: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const name = this.name(base);
    const dtype = data instanceof Float32Array ? DT.FLOAT : DT.INT64;
    this.initializers.push({ name, dims, dataType: dtype, rawData: bytesOf(data) });
    if (data instanceof Float32Array) this.floatData.set(name, data);
    this.shapes.set(name, { dtype, dims });
    return name;
  }

  /** Small constants, deduplicated by value. */
  constF(values: number[], dims: number[] = [values.length]): string {
    const key = `f${dims.join('x')}:${values.join(',')}`;
    let n = this.consts.get(key);
    if (!n) this.consts.set(key, (n = this.initializer('const/f', dims, Float32Array.from(values))));
    return n;
  }

  constI(values: number[], dims: number[] = [values.length]): string {
    const key = `i${dims.join('x')}:${values.join(',')}`;
    let n = this.consts.get(key);
    if (!n) this.consts.set(key, (n = this.initializer('const/i', dims, BigInt64Array.from(values.map(BigInt)))));
    return n;
  }

  /**
   * Adds a node; `outputs` are [base name, shape] pairs (shape null when it is data-dependent
   * and not worth a value_info). Returns the unique output names.
   */
  node(op: string, inputs: string[], outputs: [string, TensorInfo | null][], attrs: Record<string, AttrValue> = {}): string[] {
    const names = outputs.map(([base, info]) => {
      const n = this.name(base);
      if (info) this.shapes.set(n, info);
      return n;
    });
    this.nodes.push({
      opType: op,
      name: names[0],
      input: inputs,
      output: names,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return names;
  }

  /** Single-output node helper. */
  op(op: string, inputs: string[], out: string, info: TensorInfo | null, attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, [[out, info]], attrs)[0];
  }

  info(name: string): TensorInfo {
    const t = this.shapes.get(name);
    if (!t) throw new Error(`no shape recorded for tensor ${name}`);
    return t;
  }

  toModel(o: { inputs: string[]; outputs: string[]; opset: number; docString: string; metadata: Record<string, string>; graphName: string }): Uint8Array {
    const io = new Set([...o.inputs, ...o.outputs]);
    const inits = new Set(this.initializers.map((t) => t.name));
    const model: OnnxProto.onnx.IModelProto = {
      irVersion: 8,
      producerName: 'multidet-bench tools/models',
      producerVersion: o.metadata.generator_version ?? '',
      docString: o.docString,
      opsetImport: [{ domain: '', version: o.opset }],
      metadataProps: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: o.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: o.inputs.map((n) => valueInfo(n, this.info(n))),
        output: o.outputs.map((n) => valueInfo(n, this.info(n))),
        valueInfo: [...this.shapes.entries()]
          .filter(([n]) => !io.has(n) && !inits.has(n))
          .map(([n, t]) => valueInfo(n, t)),
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

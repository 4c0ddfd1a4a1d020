// Client side of the Open Inference Protocol's binary tensor data extension, pure TypeScript for k6
// and Node alike (no TextEncoder in k6): a request body is a JSON header followed by the tensors'
// bytes (Inference-Header-Content-Length = the header's length); a response is the same, or plain
// JSON. Tensor names and our headers are ASCII, so the JSON is encoded byte per character.

interface V2TensorHead {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

interface V2ResponseHeader {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: V2TensorHead[];
}

export interface V2Tensor {
  datatype: string;
  shape: number[];
  /** FP32 outputs as floats (binary or JSON alike). */
  data: Float32Array;
}

export const HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) throw new Error(`v2 wire: non-ASCII character in a JSON header (${text.slice(Math.max(0, i - 10), i + 10)})`);
    out[i] = c;
  }
  return out;
}

function asciiText(bytes: Uint8Array): string {
  let s = '';
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/**
 * The JSON header of a binary request: every input's bytes follow it, in order. Outputs named are
 * asked for in binary; none named = the model's default outputs, all in binary.
 */
export function binaryRequestHeader(
  inputs: { name: string; datatype: string; shape: number[]; bytes: number }[],
  outputs: string[],
  id?: string,
): Uint8Array {
  return asciiBytes(
    JSON.stringify({
      ...(id !== undefined ? { id } : {}),
      inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, parameters: { binary_data_size: i.bytes } })),
      ...(outputs.length > 0 ? { outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })) } : { parameters: { binary_data_output: true } }),
    }),
  );
}

/** BYTES elements in the binary encoding: 4-byte little-endian length, then the bytes, per element. */
export function bytesElements(items: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(items.reduce((s, b) => s + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of items) {
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** Parses an infer response (JSON, or binary when headerLength is given). Throws on a malformed one. */
export function parseInferResponse(body: ArrayBuffer, headerLength: number | undefined): { header: V2ResponseHeader; tensors: Record<string, V2Tensor> } {
  const bytes = new Uint8Array(body);
  const jsonLength = headerLength ?? bytes.length;
  if (!(jsonLength >= 0 && jsonLength <= bytes.length)) throw new Error(`v2 response: header length ${jsonLength} outside the body of ${bytes.length} bytes`);
  const header = JSON.parse(asciiText(bytes.subarray(0, jsonLength))) as V2ResponseHeader;
  if (!Array.isArray(header.outputs)) throw new Error("v2 response: no 'outputs' array");
  const tensors: Record<string, V2Tensor> = {};
  let at = jsonLength;
  for (const o of header.outputs) {
    const size = o.parameters?.['binary_data_size'];
    let data: Float32Array;
    if (typeof size === 'number') {
      if (at + size > bytes.length) throw new Error(`v2 response: output ${o.name} runs past the body`);
      data = o.datatype === 'FP32' ? new Float32Array(body.slice(at, at + size)) : new Float32Array(0);
      at += size;
    } else {
      data = Float32Array.from((o.data ?? []) as number[]);
    }
    tensors[o.name] = { datatype: o.datatype, shape: o.shape, data };
  }
  return { header, tensors };
}

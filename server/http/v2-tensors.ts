// The Open Inference Protocol's (KServe v2) tensor codec: an infer request body as JSON or with the
// binary tensor data extension (a JSON header of Inference-Header-Content-Length bytes, then each
// binary tensor's bytes in input order, sizes in parameters.binary_data_size), and the response the
// same two ways (binary_data per output, or binary_data_output for all). Only what our models use is
// decoded: FP32 (little-endian, as every v2 client on x86/arm sends it) and BYTES (4-byte length
// prefix per element in binary; base64 strings in JSON, as MLServer does). Every malformed body is a
// 400 naming the tensor and the mismatch.
import { HttpError } from './errors.ts';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface V2Input {
  name: string;
  datatype: string;
  shape: number[];
  /** The tensor's bytes when sent with the binary extension. */
  binary?: Buffer;
  /** The JSON `data` otherwise (flat or nested). */
  data?: unknown;
}

interface V2RequestedOutput {
  name: string;
  binary: boolean;
}

export interface V2Request {
  id?: string;
  inputs: V2Input[];
  /** Outputs named by the request; undefined = the model's default outputs. */
  outputs?: V2RequestedOutput[];
  /** Request-level binary_data_output: default for every output that does not say. */
  binaryOutput: boolean;
}

export interface V2Output {
  name: string;
  datatype: 'FP32';
  shape: number[];
  data: Float32Array;
}

const bad = (detail: string) => new HttpError(400, 'invalid_tensor', detail);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parameters(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isRecord(v)) throw bad(`${where}.parameters must be an object`);
  return v;
}

/** Parses an infer request body; headerLength is the Inference-Header-Content-Length header, if any. */
export function parseInferRequest(body: Buffer, headerLength: string | undefined): V2Request {
  let jsonLength = body.length;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.length) {
      throw bad(`Inference-Header-Content-Length ${JSON.stringify(headerLength).slice(0, 40)} must be an integer between 0 and the body length ${body.length}`);
    }
    jsonLength = n;
  }
  if (jsonLength === 0) throw new HttpError(400, 'empty_body', 'the request carried no inference request JSON');
  let head: unknown;
  try {
    head = JSON.parse(body.toString('utf8', 0, jsonLength));
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the inference request header is not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  if (!isRecord(head)) throw new HttpError(400, 'invalid_json', 'the inference request must be a JSON object');
  const reqParams = parameters(head.parameters, 'request');
  if (!Array.isArray(head.inputs) || head.inputs.length === 0) throw bad("the request needs a non-empty 'inputs' array");

  let offset = jsonLength;
  const inputs = head.inputs.map((raw, k): V2Input => {
    const where = `inputs[${k}]`;
    if (!isRecord(raw) || typeof raw.name !== 'string') throw bad(`${where} needs a string 'name'`);
    const name = raw.name;
    if (typeof raw.datatype !== 'string') throw bad(`input '${name}' needs a string 'datatype'`);
    if (!Array.isArray(raw.shape) || !raw.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`input '${name}' needs a 'shape' of non-negative integers`);
    const p = parameters(raw.parameters, `input '${name}'`);
    const input: V2Input = { name, datatype: raw.datatype, shape: raw.shape as number[] };
    if (p.binary_data_size !== undefined) {
      const size = p.binary_data_size;
      if (!Number.isInteger(size) || (size as number) < 0) throw bad(`input '${name}': binary_data_size must be a non-negative integer`);
      if (raw.data !== undefined) throw bad(`input '${name}' has both 'data' and binary_data_size`);
      if (offset + (size as number) > body.length) throw bad(`input '${name}': binary_data_size ${String(size)} runs past the end of the body (${body.length - offset} bytes left)`);
      input.binary = body.subarray(offset, offset + (size as number));
      offset += size as number;
    } else {
      if (raw.data === undefined) throw bad(`input '${name}' has neither 'data' nor parameters.binary_data_size`);
      input.data = raw.data;
    }
    return input;
  });
  if (offset !== body.length) throw bad(`the body carries ${body.length - offset} bytes more than the inputs' binary_data_size declare`);

  let outputs: V2RequestedOutput[] | undefined;
  if (head.outputs !== undefined) {
    if (!Array.isArray(head.outputs)) throw bad("'outputs' must be an array");
    outputs = head.outputs.map((raw, k) => {
      if (!isRecord(raw) || typeof raw.name !== 'string') throw bad(`outputs[${k}] needs a string 'name'`);
      const p = parameters(raw.parameters, `output '${raw.name}'`);
      return { name: raw.name, binary: p.binary_data === undefined ? reqParams.binary_data_output === true : p.binary_data === true };
    });
  }
  const id = head.id === undefined ? undefined : String(head.id);
  return { ...(id !== undefined ? { id } : {}), inputs, ...(outputs ? { outputs } : {}), binaryOutput: reqParams.binary_data_output === true };
}

const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

/**
 * An FP32 input as floats in shared memory (the workers read it without a copy per job). Checks the
 * datatype and that the data holds exactly the elements the shape declares.
 */
export function fp32Input(input: V2Input): Float32Array {
  if (input.datatype !== 'FP32') throw bad(`input '${input.name}' has datatype ${input.datatype}; expected FP32`);
  const n = elementCount(input.shape);
  const out = new Float32Array(new SharedArrayBuffer(n * 4));
  if (input.binary) {
    if (input.binary.length !== n * 4) throw bad(`input '${input.name}': shape [${input.shape.join(',')}] needs ${n * 4} bytes of FP32, binary_data_size is ${input.binary.length}`);
    new Uint8Array(out.buffer).set(input.binary);
    return out;
  }
  const flat: unknown[] = [];
  flatten(input.data, flat);
  if (flat.length !== n) throw bad(`input '${input.name}': shape [${input.shape.join(',')}] needs ${n} values, data has ${flat.length}`);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== 'number') throw bad(`input '${input.name}': data[${i}] is not a number`);
    out[i] = v;
  }
  return out;
}

/** A BYTES input's elements: length-prefixed in binary, base64 strings in JSON. */
export function bytesInput(input: V2Input): Buffer[] {
  if (input.datatype !== 'BYTES') throw bad(`input '${input.name}' has datatype ${input.datatype}; expected BYTES`);
  const n = elementCount(input.shape);
  const items: Buffer[] = [];
  if (input.binary) {
    const b = input.binary;
    let at = 0;
    while (at < b.length) {
      if (at + 4 > b.length) throw bad(`input '${input.name}': element ${items.length} has a truncated 4-byte length prefix`);
      const len = b.readUInt32LE(at);
      if (at + 4 + len > b.length) throw bad(`input '${input.name}': element ${items.length} declares ${len} bytes, ${b.length - at - 4} are left`);
      items.push(b.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
  } else {
    const flat: unknown[] = [];
    flatten(input.data, flat);
    flat.forEach((v, i) => {
      if (typeof v !== 'string') throw bad(`input '${input.name}': data[${i}] must be a base64 string`);
      items.push(Buffer.from(v, 'base64'));
    });
  }
  if (items.length !== n) throw bad(`input '${input.name}': shape [${input.shape.join(',')}] needs ${n} elements, got ${items.length}`);
  return items;
}

interface V2ResponseHead {
  model_name: string;
  model_version: string;
  id?: string;
  parameters?: Record<string, unknown>;
}

/**
 * Encodes a response: outputs whose `binary` is true go after the JSON header as raw little-endian
 * bytes (headerLength is then set: the Inference-Header-Content-Length to send), the others as JSON data.
 */
export function encodeInferResponse(head: V2ResponseHead, outputs: readonly V2Output[], binary: (name: string) => boolean): { body: Buffer; headerLength?: number } {
  const blobs: Buffer[] = [];
  const described = outputs.map((o) => {
    const base = { name: o.name, datatype: o.datatype, shape: o.shape };
    if (!binary(o.name)) return { ...base, data: Array.from(o.data) };
    const bytes = Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength);
    blobs.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const json = Buffer.from(JSON.stringify({ ...head, outputs: described }));
  if (blobs.length === 0) return { body: json };
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.length };
}

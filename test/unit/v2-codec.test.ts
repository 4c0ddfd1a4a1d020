// The v2 codecs on hand-made bodies: the server's request parser and response encoder against the
// client's (k6-side) header builder and response parser, and the PROTOCOL / V2_MODELS parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../lib/env.ts';
import { protocolEnv, v2ModelsEnv } from '../../lib/v2/config.ts';
import { toOriginalBox } from '../../lib/v2/tensors.ts';
import { binaryRequestHeader, bytesElements, parseInferResponse } from '../../lib/v2/wire.ts';
import { HttpError } from '../../server/http/errors.ts';
import { bytesInput, encodeInferResponse, fp32Input, parseInferRequest } from '../../server/http/v2-tensors.ts';

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const body = (header: Uint8Array, ...tails: Uint8Array[]) => Buffer.concat([header, ...tails]);

test('a binary request built by the client parses on the server: tensors, outputs, binary flags, id', () => {
  const header = binaryRequestHeader([{ name: 'images', datatype: 'FP32', shape: [1, 3], bytes: 12 }, { name: 'image', datatype: 'BYTES', shape: [2], bytes: 4 + 2 + 4 + 1 }], ['num_detections'], 'r1');
  const req = parseInferRequest(body(header, f32(1.5, -2, 3), bytesElements([new Uint8Array([7, 8]), new Uint8Array([9])])), String(header.length));
  assert.equal(req.id, 'r1');
  assert.deepEqual(req.outputs, [{ name: 'num_detections', binary: true }]);
  assert.deepEqual(Array.from(fp32Input(req.inputs[0]!)), [1.5, -2, 3]);
  assert.deepEqual(bytesInput(req.inputs[1]!).map((b) => Array.from(b)), [[7, 8], [9]]);
  // No outputs named: the defaults, binary for all.
  const plain = binaryRequestHeader([{ name: 'images', datatype: 'FP32', shape: [1], bytes: 4 }], []);
  assert.equal(parseInferRequest(body(plain, f32(1)), String(plain.length)).binaryOutput, true);
});

test('malformed bodies are 400s naming the mismatch', () => {
  const header = binaryRequestHeader([{ name: 'images', datatype: 'FP32', shape: [1, 3], bytes: 12 }], []);
  const cases: [string, () => unknown, RegExp][] = [
    ['bytes beyond the sizes', () => parseInferRequest(body(header, f32(1, 2, 3, 4)), String(header.length)), /4 bytes more/],
    ['size past the end', () => parseInferRequest(body(header, f32(1)), String(header.length)), /runs past the end/],
    ['header length not a number', () => parseInferRequest(body(header, f32(1, 2, 3)), 'x'), /Inference-Header-Content-Length/],
    ['shape vs bytes', () => fp32Input({ name: 'images', datatype: 'FP32', shape: [1, 4], binary: Buffer.from(f32(1, 2, 3)) }), /needs 16 bytes/],
    ['JSON count', () => fp32Input({ name: 'images', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3]] }), /needs 4 values, data has 3/],
    ['datatype', () => fp32Input({ name: 'images', datatype: 'INT8', shape: [1], data: [1] }), /expected FP32/],
    ['BYTES prefix', () => bytesInput({ name: 'image', datatype: 'BYTES', shape: [1], binary: Buffer.from([9, 0, 0, 0, 1]) }), /declares 9 bytes/],
    ['not JSON', () => parseInferRequest(Buffer.from('{'), undefined), /not JSON/],
  ];
  for (const [name, run, message] of cases) {
    assert.throws(run, (e: unknown) => e instanceof HttpError && e.status === 400 && message.test(e.message), name);
  }
});

test('responses encoded by the server parse on the client, binary and JSON alike', () => {
  const outputs = [{ name: 'a', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([0.25, -1]) }, { name: 'b', datatype: 'FP32' as const, shape: [1], data: new Float32Array([3]) }];
  const binary = encodeInferResponse({ model_name: 'm', model_version: '1' }, outputs, (n) => n === 'a');
  const parsed = parseInferResponse(binary.body.buffer.slice(binary.body.byteOffset, binary.body.byteOffset + binary.body.length) as ArrayBuffer, binary.headerLength);
  assert.deepEqual(Array.from(parsed.tensors['a']!.data), [0.25, -1]);
  assert.deepEqual(Array.from(parsed.tensors['b']!.data), [3]);
  const json = encodeInferResponse({ model_name: 'm', model_version: '1' }, outputs, () => false);
  assert.equal(json.headerLength, undefined);
  assert.deepEqual(parseInferResponse(new Uint8Array(json.body).buffer, undefined).tensors['a']!.shape, [1, 2]);
});

test('PROTOCOL and V2_MODELS parsers; boxes back to original pixels, clipped', () => {
  assert.equal(protocolEnv({}), 'native');
  assert.throws(() => protocolEnv({ PROTOCOL: 'grpc' }), (e: unknown) => e instanceof ConfigError && /PROTOCOL=grpc .* native, v2/.test(e.message));
  assert.deepEqual(v2ModelsEnv({}), { kind: 'pipeline' });
  assert.deepEqual(v2ModelsEnv({ V2_MODELS: 'd2, d0' }), { kind: 'models', models: ['d0', 'd2'] });
  assert.throws(() => v2ModelsEnv({ V2_MODELS: 'd0,d7' }), (e: unknown) => e instanceof ConfigError && /V2_MODELS=d0,d7/.test(e.message));
  assert.deepEqual(toOriginalBox([10, 20, 512, 400], { scale_x: 0.5, scale_y: 0.5 }, 640, 480), [20, 40, 640, 480]);
});

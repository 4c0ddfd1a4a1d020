// The Open Inference Protocol (KServe v2) on the real server with every implementation loaded:
// every endpoint, JSON and binary tensors, every bad input, and v2 answers equal to the native ones
// for the same image and implementation (per-model tensors letterboxed by the server's own code).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import sharp from 'sharp';
import { MODEL_NAMES, type InferResponse, type ModelName } from '../../lib/types.ts';
import { binaryRequestHeader, bytesElements, parseInferResponse, type V2Tensor } from '../../lib/v2/wire.ts';
import { decodeImage } from '../../server/runtime/decode.ts';
import { letterboxBatch, letterboxGeometry } from '../../server/runtime/letterbox.ts';
import { readModelInfos } from '../../server/runtime/model-info.ts';
import type { ModelInfo } from '../../server/runtime/protocol.ts';
import { MODELS_DIR, spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';
import { ensureInt8Models } from '../helpers/make-target.ts';

const MAX_BODY_MB = 16;
const MAX_PIXELS = 1_000_000;
const IMPLS = ['baseline', 'invalid', 'stacked', 'concurrent', 'batched', 'int8'];
let server: Spawned;
let jpeg: Buffer;
let infos: ModelInfo[];
/** The test image letterboxed per model by the server's code, and where it landed. */
const tensors = new Map<ModelName, Float32Array>();

before(async () => {
  // IMPLS serves int8: its model files, built through make (test/helpers/make-target.ts says why here).
  await ensureInt8Models();
  jpeg = await testJpeg(640, 480);
  infos = await readModelInfos(MODELS_DIR);
  const decoded = await decodeImage(jpeg, { maxPixels: 40e6 });
  for (const info of infos) tensors.set(info.name, (await letterboxBatch([decoded], info.inputSize, info.norm)).data);
  server = await spawnServer({ IMPL: IMPLS.join(','), MAX_BODY_MB: String(MAX_BODY_MB), MAX_PIXELS: String(MAX_PIXELS), REQUEST_MAX_BATCH: '4', LOG_LEVEL: 'info' });
  await waitFor(server, () => / ready http/.test(server.stdout()), 240_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

const url = (path: string) => `${server.url}${path}`;
const getJson = async <T = Record<string, unknown>>(path: string, status = 200): Promise<T> => {
  const res = await fetch(url(path));
  assert.equal(res.status, status, `GET ${path}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as T;
};

function concat(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

/** A binary-extension request of one FP32 tensor. */
function tensorBody(model: ModelName, data: Float32Array, shape: number[], outputs: string[] = []) {
  const header = binaryRequestHeader([{ name: 'images', datatype: 'FP32', shape, bytes: data.byteLength }], outputs, 'req-1');
  return { body: concat(header, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)), headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' } };
}

async function infer(path: string, req: { body: Buffer | string; headers: Record<string, string> }) {
  const res = await fetch(url(path), { method: 'POST', body: req.body, headers: req.headers });
  const buf = await res.arrayBuffer();
  const length = res.headers.get('inference-header-content-length');
  return { res, buf, parsed: res.status === 200 ? parseInferResponse(buf, length === null ? undefined : Number(length)) : undefined, text: () => Buffer.from(buf).toString() };
}

async function native(impl: string, models = 'd0,d1,d2'): Promise<InferResponse> {
  const res = await fetch(url(`/infer/${impl}?models=${models}`), { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
  assert.equal(res.status, 200);
  return (await res.json()) as InferResponse;
}

/** Compares v2 detection tensors (boxes mapped by `toOriginal`) with a native answer's model entry. */
function assertSameDetections(t: Record<string, V2Tensor>, prefix: string, expected: InferResponse['images'][0]['models']['d0'], toOriginal: (b: number[]) => number[], what: string) {
  assert.ok(expected, what);
  const n = t[`${prefix}num_detections`]!.data[0]!;
  assert.equal(n, expected.num_detections, `${what}: num_detections`);
  const M = t[`${prefix}detection_scores`]!.shape[1]!;
  assert.deepEqual(t[`${prefix}detection_boxes`]!.shape, [1, M, 4]);
  for (let k = 0; k < n; k++) {
    assert.ok(Math.abs(t[`${prefix}detection_scores`]!.data[k]! - expected.scores[k]!) < 1e-6, `${what}: score ${k}`);
    assert.equal(t[`${prefix}detection_classes`]!.data[k], expected.labels[k], `${what}: class ${k}`);
    const box = toOriginal(Array.from(t[`${prefix}detection_boxes`]!.data.subarray(k * 4, k * 4 + 4)));
    box.forEach((v, j) => assert.ok(Math.abs(v - expected.boxes[k]![j]!) <= 1e-4, `${what}: box ${k}[${j}] ${v} vs ${expected.boxes[k]![j]}`));
  }
  // Rows after num_detections are zero, as the graph pads them.
  assert.ok(t[`${prefix}detection_scores`]!.data.subarray(n).every((v) => v === 0), `${what}: zero padding`);
}

/** Model-input boxes -> original-image pixels, as the server maps native boxes (clipped). */
function unletterbox(model: ModelName): (b: number[]) => number[] {
  const g = letterboxGeometry(640, 480, infos.find((i) => i.name === model)!.inputSize);
  return ([x1, y1, x2, y2]) => [Math.min(640, x1! / g.scaleX), Math.min(480, y1! / g.scaleY), Math.min(640, x2! / g.scaleX), Math.min(480, y2! / g.scaleY)];
}

test('server, health, model metadata, config, readiness', async () => {
  const root = await getJson<{ name: string; version: string; extensions: string[] }>('/v2');
  assert.equal(root.name, 'multidet-bench');
  assert.ok(root.extensions.includes('binary_tensor_data') && root.extensions.includes('statistics') && root.extensions.includes('model_configuration'));
  assert.deepEqual(await getJson('/v2/health/live'), { live: true });
  assert.deepEqual(await getJson('/v2/health/ready'), { ready: true });

  for (const info of infos) {
    const S = info.inputSize;
    const meta = await getJson<{ name: string; versions: string[]; inputs: { name: string; datatype: string; shape: number[] }[]; outputs: { name: string; shape: number[] }[] }>(`/v2/models/efficientdet-${info.name}`);
    assert.equal(meta.name, `efficientdet-${info.name}`);
    assert.deepEqual(meta.versions, ['1', '2', '3', '4', '5', '6']);
    assert.deepEqual(meta.inputs, [{ name: 'images', datatype: 'FP32', shape: [-1, 3, S, S] }]);
    assert.deepEqual(meta.outputs.map((o) => [o.name, o.shape]), [['detection_boxes', [-1, 100, 4]], ['detection_scores', [-1, 100]], ['detection_classes', [-1, 100]], ['num_detections', [-1]]]);
    const config = await getJson<{ name: string; max_batch_size: number; input: { name: string; data_type: string; dims: number[] }[]; output: unknown[] }>(`/v2/models/efficientdet-${info.name}/config`);
    assert.equal(config.max_batch_size, 4);
    assert.deepEqual(config.input, [{ name: 'images', data_type: 'TYPE_FP32', dims: [3, S, S] }]);
    assert.equal(config.output.length, 4);
  }
  const pipeline = await getJson<{ inputs: unknown[]; outputs: { name: string }[] }>('/v2/models/pipeline/versions/concurrent');
  assert.deepEqual(pipeline.inputs, [{ name: 'image', datatype: 'BYTES', shape: [-1] }]);
  assert.equal(pipeline.outputs.length, 12);
  assert.ok(pipeline.outputs.some((o) => o.name === 'd2/detection_boxes'));
  assert.deepEqual(await getJson('/v2/models/efficientdet-d1/versions/4/ready'), { name: 'efficientdet-d1', version: '4', ready: true });
  assert.deepEqual(await getJson('/v2/models/pipeline/versions/int8/ready'), { name: 'pipeline', version: '6', ready: true });
  assert.equal((await getJson<{ version: string }>('/v2/models/efficientdet-d0/ready')).version, '1');
});

test('every implementation over v2: per-model tensors and the pipeline equal the native answer', async () => {
  for (const impl of IMPLS) {
    const ref = await native(impl);
    const img = ref.images[0]!.models;
    // Versions by name and by number reach the same implementation.
    const version = impl === 'stacked' ? '3' : impl;
    for (const model of MODEL_NAMES) {
      const r = await infer(`/v2/models/efficientdet-${model}/versions/${version}/infer`, tensorBody(model, tensors.get(model)!, [1, 3, infos.find((i) => i.name === model)!.inputSize, infos.find((i) => i.name === model)!.inputSize]));
      assert.equal(r.res.status, 200, `${impl} ${model}: ${r.res.status} ${r.res.status === 200 ? '' : r.text()}`);
      assert.equal(r.res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(r.parsed!.header.id, 'req-1');
      assert.equal(r.parsed!.header.model_version, String(IMPLS.indexOf(impl) + 1));
      assertSameDetections(r.parsed!.tensors, '', img[model], unletterbox(model), `${impl} efficientdet-${model}`);
    }
    const header = binaryRequestHeader([{ name: 'image', datatype: 'BYTES', shape: [1], bytes: jpeg.length + 4 }], MODEL_NAMES.flatMap((m) => [`${m}/detection_boxes`, `${m}/detection_scores`, `${m}/detection_classes`, `${m}/num_detections`]));
    const r = await infer(`/v2/models/pipeline/versions/${version}/infer`, { body: concat(header, bytesElements([jpeg])), headers: { 'Inference-Header-Content-Length': String(header.length) } });
    assert.equal(r.res.status, 200, `${impl} pipeline: ${r.text()}`);
    for (const model of MODEL_NAMES) assertSameDetections(r.parsed!.tensors, `${model}/`, img[model], (b) => b, `${impl} pipeline ${model}`);
    if (impl === 'baseline') assert.ok(img.d0!.num_detections > 0, 'the test image gives detections (else equality proves little)');
  }
});

test('JSON tensors in and out give the binary answer; no version = baseline; outputs select; raw heads when named', async () => {
  const d0 = tensors.get('d0')!;
  const binary = await infer('/v2/models/efficientdet-d0/versions/baseline/infer', tensorBody('d0', d0, [1, 3, 512, 512]));
  const body = JSON.stringify({ id: 'json-1', inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 3, 512, 512], data: Array.from(d0) }], outputs: [{ name: 'num_detections' }, { name: 'detection_boxes' }] });
  const json = await infer('/v2/models/efficientdet-d0/infer', { body, headers: { 'content-type': 'application/json' } });
  assert.equal(json.res.status, 200, json.text());
  assert.match(json.res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(json.parsed!.header.model_version, '1');
  assert.deepEqual(json.parsed!.header.outputs.map((o) => o.name), ['num_detections', 'detection_boxes']);
  assert.deepEqual(json.parsed!.tensors['detection_boxes']!.data, binary.parsed!.tensors['detection_boxes']!.data);
  assert.deepEqual(json.parsed!.tensors['num_detections']!.data, binary.parsed!.tensors['num_detections']!.data);

  const raw = await infer('/v2/models/efficientdet-d0/infer', tensorBody('d0', d0, [1, 3, 512, 512], ['class_logits', 'box_regression', 'num_detections']));
  assert.equal(raw.res.status, 200);
  assert.deepEqual(raw.parsed!.tensors['class_logits']!.shape, [1, 49104, 90]);
  assert.deepEqual(raw.parsed!.tensors['box_regression']!.shape, [1, 49104, 4]);
  assert.ok(raw.parsed!.tensors['class_logits']!.data.some((v) => v !== 0));

  // A batch of two: each row is its own image's answer.
  const two = new Float32Array(d0.length * 2);
  two.set(d0, 0);
  two.set(d0, d0.length);
  const batch = await infer('/v2/models/efficientdet-d0/versions/batched/infer', tensorBody('d0', two, [2, 3, 512, 512]));
  assert.equal(batch.res.status, 200, batch.text());
  const boxes = batch.parsed!.tensors['detection_boxes']!;
  assert.deepEqual(boxes.shape, [2, 100, 4]);
  assert.deepEqual(boxes.data.subarray(400), binary.parsed!.tensors['detection_boxes']!.data);
});

test('statistics extension and /metrics book v2 requests', async () => {
  type Stats = { model_stats: { name: string; version: string; inference_count: number; execution_count: number; inference_stats: Record<string, { count: number; ns: number }> }[] };
  const d2Stats = async () => (await getJson<Stats>('/v2/models/efficientdet-d2/versions/1/stats')).model_stats;
  const pipelineStats = async () => (await getJson<Stats>('/v2/models/stats')).model_stats.find((m) => m.name === 'pipeline' && m.version === '1')!;
  const int8D1 = async () => Number(/^nv_inference_count\{impl="int8",model="d1"\} (\S+)$/m.exec(await (await fetch(url('/metrics'))).text())?.[1] ?? 0);
  // Counters are relative to what this test finds: other tests in this file sent requests too.
  const [before] = await d2Stats();
  const pipeBefore = await pipelineStats();
  const int8Before = await int8D1();
  assert.equal(before!.name, 'efficientdet-d2');
  assert.equal(before!.version, '1');
  for (const k of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output']) assert.equal(typeof before!.inference_stats[k]!.ns, 'number', k);

  // Three baseline requests that run d2, one per protocol: native, per-model v2, v2 pipeline.
  await native('baseline');
  const perModel = await infer('/v2/models/efficientdet-d2/infer', tensorBody('d2', tensors.get('d2')!, [1, 3, 768, 768]));
  assert.equal(perModel.res.status, 200);
  const header = binaryRequestHeader([{ name: 'image', datatype: 'BYTES', shape: [1], bytes: jpeg.length + 4 }], []);
  const pipeline = await infer('/v2/models/pipeline/versions/1/infer', { body: concat(header, bytesElements([jpeg])), headers: { 'Inference-Header-Content-Length': String(header.length) } });
  assert.equal(pipeline.res.status, 200, pipeline.text());
  const stats = await d2Stats();
  assert.equal(stats.length, 1);
  const s = stats[0]!;
  // Every baseline request that ran d2, whatever its protocol, booked once.
  assert.equal(s.inference_count - before!.inference_count, 3, JSON.stringify(s));
  assert.equal(s.execution_count - before!.execution_count, 3, JSON.stringify(s));
  assert.ok(s.inference_stats['compute_infer']!.ns > before!.inference_stats['compute_infer']!.ns);
  // The implementation as a whole (the v2 `pipeline` model): all three requests, 3 + 1 + 3 executions.
  const pipe = await pipelineStats();
  assert.equal(pipe.inference_stats['success']!.count - pipeBefore.inference_stats['success']!.count, 3, JSON.stringify(pipe));
  assert.equal(pipe.execution_count - pipeBefore.execution_count, 7, JSON.stringify(pipe));
  const unversioned = await getJson<Stats>('/v2/models/efficientdet-d2/stats');
  assert.equal(unversioned.model_stats[0]!.inference_count, s.inference_count, 'no version = baseline');
  const all = await getJson<Stats>('/v2/models/stats');
  assert.equal(all.model_stats.length, 4 * IMPLS.length);

  // /metrics books v2 requests under the implementation the version names (6 = int8).
  const r = await infer('/v2/models/efficientdet-d1/versions/6/infer', tensorBody('d1', tensors.get('d1')!, [1, 3, 640, 640]));
  assert.equal(r.res.status, 200, r.text());
  assert.equal(await int8D1(), int8Before + 1);
  await waitFor(server, () => /POST \/v2\/models\/efficientdet-d1\/versions\/6\/infer 200 /.test(server.stdout()), 5000, 'the access-log line of the v2 request');
});

test('bad input: v2 error shape, the native statuses, and the server keeps serving', async () => {
  const d0 = tensors.get('d0')!;
  const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#123456' } }).png({ compressionLevel: 9 }).toBuffer();
  const pipelineOf = (blob: Uint8Array, shape = [1]) => {
    const header = binaryRequestHeader([{ name: 'image', datatype: 'BYTES', shape, bytes: blob.length + 4 }], []);
    return { body: concat(header, bytesElements([blob])), headers: { 'Inference-Header-Content-Length': String(header.length) } };
  };
  const withHeader = (head: unknown, tail: Uint8Array = new Uint8Array(0), length?: string) => {
    const h = Buffer.from(JSON.stringify(head));
    return { body: concat(h, tail), headers: { 'Inference-Header-Content-Length': length ?? String(h.length) } };
  };
  const d0Bytes = new Uint8Array(d0.buffer);
  const input = (extra: Record<string, unknown>) => ({ inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 3, 512, 512], parameters: { binary_data_size: d0Bytes.length }, ...extra }] });
  const P = '/v2/models/efficientdet-d0/infer';
  const cases: [string, string, { body: Buffer | string; headers: Record<string, string> }, number, string][] = [
    ['empty body', P, { body: '', headers: {} }, 400, 'empty_body'],
    ['not JSON', P, { body: 'nope', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
    ['no inputs', P, { body: '{"inputs":[]}', headers: {} }, 400, 'invalid_tensor'],
    ['header length past the body', P, withHeader(input({}), d0Bytes, '99999999'), 400, 'invalid_tensor'],
    ['wrong shape', P, tensorBody('d0', d0, [1, 3, 256, 1024]), 400, 'invalid_tensor'],
    ['wrong rank', P, tensorBody('d0', d0, [3, 512, 512]), 400, 'invalid_tensor'],
    ['wrong datatype', P, withHeader({ inputs: [{ name: 'images', datatype: 'FP16', shape: [1, 3, 512, 512], parameters: { binary_data_size: d0Bytes.length } }] }, d0Bytes), 400, 'invalid_tensor'],
    ['byte count short of the shape', P, withHeader({ inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 3, 512, 512], parameters: { binary_data_size: d0Bytes.length - 4 } }] }, d0Bytes.subarray(4)), 400, 'invalid_tensor'],
    ['bytes beyond the declared sizes', P, withHeader(input({}), concat(d0Bytes, new Uint8Array(8))), 400, 'invalid_tensor'],
    ['JSON data count wrong', P, { body: JSON.stringify({ inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 3, 512, 512], data: [1, 2, 3] }] }), headers: {} }, 400, 'invalid_tensor'],
    ['unknown input', P, withHeader({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1], data: [1] }] }), 400, 'unknown_input'],
    ['unknown output', P, tensorBody('d0', d0, [1, 3, 512, 512], ['d0/detection_boxes']), 400, 'unknown_output'],
    ['batch over REQUEST_MAX_BATCH', P, { body: JSON.stringify({ inputs: [{ name: 'images', datatype: 'FP32', shape: [5, 3, 512, 512], data: [] }] }), headers: {} }, 413, 'too_many_files'],
    ['unknown model', '/v2/models/efficientdet-d9/infer', tensorBody('d0', d0, [1, 3, 512, 512]), 404, 'unknown_model'],
    ['unknown implementation', '/v2/models/efficientdet-d0/versions/nope/infer', tensorBody('d0', d0, [1, 3, 512, 512]), 404, 'unknown_implementation'],
    ['unknown version number', '/v2/models/efficientdet-d0/versions/99/infer', tensorBody('d0', d0, [1, 3, 512, 512]), 404, 'unknown_implementation'],
    ['pipeline: empty image', '/v2/models/pipeline/infer', pipelineOf(new Uint8Array(0)), 400, 'empty_body'],
    ['pipeline: not an image', '/v2/models/pipeline/infer', pipelineOf(Buffer.from('definitely not a jpeg')), 400, 'invalid_image'],
    ['pipeline: truncated jpeg', '/v2/models/pipeline/infer', pipelineOf(jpeg.subarray(0, jpeg.length >> 1)), 400, 'invalid_image'],
    ['pipeline: unsupported format (GIF)', '/v2/models/pipeline/infer', pipelineOf(Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1')), 415, 'unsupported_image_format'],
    ['pipeline: pixel limit (bomb)', '/v2/models/pipeline/infer', pipelineOf(big), 413, 'image_too_large'],
    ['pipeline: element count off the shape', '/v2/models/pipeline/infer', pipelineOf(jpeg, [2]), 400, 'invalid_tensor'],
    ['pipeline: FP32 instead of BYTES', '/v2/models/pipeline/infer', withHeader({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1], data: [1] }] }), 400, 'invalid_tensor'],
    ['pipeline: truncated length prefix', '/v2/models/pipeline/infer', withHeader({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 2 } }] }, new Uint8Array(2)), 400, 'invalid_tensor'],
  ];
  for (const [name, path, req, status, code] of cases) {
    const r = await infer(path, req);
    assert.equal(r.res.status, status, `${name}: ${r.text().slice(0, 200)}`);
    const body = JSON.parse(r.text()) as { error: string; code: string };
    assert.equal(body.code, code, name);
    assert.match(body.error, new RegExp(`^${code}: `), name);
    assert.ok(!/\n\s+at /.test(body.error), `${name}: no stack trace`);
  }
  // Over MAX_BODY_MB: refused from Content-Length before the body is read (so the upload is cut short:
  // a plain request that keeps the socket open reads the answer).
  const tooLarge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url(P), { method: 'POST', headers: { 'content-length': String(MAX_BODY_MB * 1024 * 1024 + 10) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(Buffer.alloc(1024));
  });
  assert.equal(tooLarge.status, 413);
  assert.equal((JSON.parse(tooLarge.body) as { code: string }).code, 'body_too_large');
  for (const [path, status] of [['/v2/models/nope', 404], ['/v2/models/efficientdet-d0/versions/nope/config', 404], ['/v2/nope', 404]] as const) {
    const res = await fetch(url(path));
    assert.equal(res.status, status, path);
    assert.equal(typeof ((await res.json()) as { error: string }).error, 'string');
  }
  // Still serving; refused requests were booked as failures.
  const ok = await infer(P, tensorBody('d0', d0, [1, 3, 512, 512]));
  assert.equal(ok.res.status, 200);
  assert.match(await (await fetch(url('/metrics'))).text(), /nv_inference_request_failure\{impl="baseline",status="400",reason="invalid_tensor"\} [1-9]/);
});

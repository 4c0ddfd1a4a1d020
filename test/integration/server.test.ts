// The real server (node --import tsx server/main.ts) on a free port with the generated models and real
// onnxruntime sessions, started once for this file. EP=cuda,cpu on a host without CUDA also proves the
// fallback. Small limits (MAX_BODY_MB, MAX_PIXELS) make the refusal cases cheap to trigger.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { ErrorResponse, HealthResponse, ImplementationsResponse, InferResponse, MemoryResponse } from '../../lib/types.ts';
import { DETECTION_OUTPUTS, INPUT_NAME, OUTPUT, readModelInfos } from '../../server/runtime/model-info.ts';
import { decodeImage, letterboxBatch, unletterboxBox } from '../../server/runtime/preprocess.ts';
import { MODELS_DIR, spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';

const MAX_BODY_MB = 1;
const MAX_PIXELS = 1_000_000;
let server: Spawned;
let jpeg: Buffer;
/** The first answers while the models were still loading. */
let loadingHealth: Response | undefined;
let loadingInfer: Response | undefined;

async function json<T>(res: Response): Promise<T> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as T;
}

const post = (path: string, body: RequestInit['body'] | undefined, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', body: body ?? null, headers });

before(async () => {
  jpeg = await testJpeg(640, 480);
  server = await spawnServer({ EP: 'cuda,cpu', MAX_BODY_MB: String(MAX_BODY_MB), MAX_PIXELS: String(MAX_PIXELS), LOG_LEVEL: 'info' });
  await waitFor(server, () => /listening on/.test(server.stdout()), 30_000, 'listening');
  // Loading takes seconds (three sessions + warm-up): catch the server in that state.
  loadingHealth = await fetch(`${server.url}/health`);
  if (!((await loadingHealth.clone().json()) as HealthResponse).ready) {
    loadingInfer = await post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg' });
  }
  await waitFor(server, () => / ready http/.test(server.stdout()), 120_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

test('not ready yet: /health 503 loading, /infer 503 with Retry-After', async (t) => {
  if (!loadingInfer) return t.skip('server was ready before the first probe');
  assert.equal(loadingHealth!.status, 503);
  assert.equal(loadingInfer.status, 503);
  assert.ok(Number(loadingInfer.headers.get('retry-after')) > 0);
  assert.equal((await json<ErrorResponse>(loadingInfer)).error, 'not_ready');
});

test("one 'ready' line with URL, EP and models; /health ready with the fallback EP in use", async () => {
  const line = server.stdout().split('\n').find((l) => / ready http/.test(l))!;
  assert.match(line, new RegExp(`ready ${server.url} ep=cpu models=d0:512,d1:640,d2:768`));
  assert.match(server.stdout() + server.stderr(), /cuda execution provider failed to load.*falling back to cpu/);
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  const h = await json<HealthResponse>(res);
  assert.equal(h.status, 'ok');
  assert.equal(h.ready, true);
  assert.equal(h.ep, 'cpu');
  assert.equal(h.ep_requested, 'cuda,cpu');
  assert.deepEqual(h.models.map((m) => [m.name, m.input_size]), [['d0', 512], ['d1', 640], ['d2', 768]]);
  assert.deepEqual(h.implementations.slice(0, 2), ['baseline', 'invalid']);
  assert.ok(h.uptime_s > 0);
  assert.match(h.version, /^\d+\.\d+\.\d+/);
});

test('/implementations: name, description, lossless', async () => {
  const body = await json<ImplementationsResponse>(await fetch(`${server.url}/implementations`));
  const byName = Object.fromEntries(body.implementations.map((i) => [i.name, i]));
  assert.equal(byName.baseline!.lossless, true);
  assert.equal(byName.invalid!.lossless, false);
  assert.ok(byName.baseline!.description.length > 10);
});

test('/infer/baseline equals the three sessions run in-process on the same preprocessed tensor', async () => {
  const res = await post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg', 'x-image-id': 'gradient-640x480' });
  assert.equal(res.status, 200);
  const body = await json<InferResponse & { ep?: string }>(res);
  assert.equal(body.implementation, 'baseline');
  assert.equal(body.ep, 'cpu');
  assert.equal(body.images.length, 1);
  const img = body.images[0]!;
  assert.deepEqual([img.image_id, img.width, img.height], ['gradient-640x480', 640, 480]);
  for (const k of ['decode_ms', 'preprocess_ms', 'queue_ms', 'infer_ms', 'total_ms'] as const) assert.ok(body.timing[k] >= 0, k);
  assert.ok(body.timing.total_ms >= body.timing.infer_ms);
  await waitFor(server, () => /POST \/infer\/baseline 200 .* id=gradient-640x480/.test(server.stdout()), 5000, 'the request log line with the image id');

  // In-process: the same decode + letterbox functions, fresh sessions with the server's options.
  const decoded = await decodeImage(jpeg, { maxPixels: MAX_PIXELS });
  for (const info of await readModelInfos(MODELS_DIR)) {
    const session = await ort.InferenceSession.create(info.file, { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1 });
    const { data, boxes: [placement] } = await letterboxBatch([decoded], info.inputSize, info.norm);
    const s = info.inputSize;
    const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, [1, 3, s, s]) }, [...DETECTION_OUTPUTS]);
    await session.release();
    const n = Number(out[OUTPUT.count]!.data[0]);
    const got = img.models[info.name]!;
    assert.equal(got.num_detections, n, `${info.name}: num_detections`);
    assert.ok(n > 0, `${info.name}: the test image should yield detections`);
    assert.equal(got.boxes.length, n);
    const b = out[OUTPUT.boxes]!.data as Float32Array;
    for (let k = 0; k < n; k++) {
      const want = unletterboxBox(b[4 * k]!, b[4 * k + 1]!, b[4 * k + 2]!, b[4 * k + 3]!, placement!, 640, 480);
      want.forEach((v, c) => assert.ok(Math.abs(got.boxes[k]![c]! - v) <= 1e-4, `${info.name} box ${k}[${c}]: got ${got.boxes[k]![c]}, want ${v}`));
      assert.ok(Math.abs(got.scores[k]! - Number(out[OUTPUT.scores]!.data[k])) <= 1e-6, `${info.name} score ${k}`);
      assert.equal(got.labels[k], Number(out[OUTPUT.classes]!.data[k]), `${info.name} label ${k}`);
      assert.ok(got.boxes[k]!.every((v, c) => v >= 0 && v <= (c % 2 === 0 ? 640 : 480)), 'boxes clipped to the original image');
    }
  }
});

test('/health answers in under 50 ms while a baseline request is inferring', async () => {
  let inferDone = 0;
  const inflight = post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg' }).then(async (r) => {
    inferDone = performance.now();
    return r.json();
  });
  await new Promise((r) => setTimeout(r, 100)); // let it reach session.run in the worker
  const times: number[] = [];
  let lastProbe = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/health`);
    await res.json();
    lastProbe = performance.now();
    times.push(lastProbe - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  await inflight;
  assert.ok(inferDone > lastProbe, 'the baseline request was still running during every probe');
  times.sort((a, b) => a - b);
  assert.ok(times[2]! < 50, `median /health latency ${times[2]!.toFixed(1)} ms during inference (all: ${times.map((t) => t.toFixed(1)).join(', ')})`);
});

test('multipart: several `file` fields make one batched request; ?models selects; filenames are ids', async () => {
  const form = new FormData();
  form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), 'a.jpg');
  form.append('file', new Blob([await sharp(jpeg).resize(200, 300).png().toBuffer()], { type: 'image/png' }), 'b.png');
  const res = await post('/infer/baseline?models=d0', form);
  assert.equal(res.status, 200);
  const body = await json<InferResponse>(res);
  assert.deepEqual(body.images.map((i) => [i.image_id, i.width, i.height, Object.keys(i.models)]), [
    ['a.jpg', 640, 480, ['d0']],
    ['b.png', 200, 300, ['d0']],
  ]);
});

test('invalid: decodes, runs nothing, zero detections of the right shape', async () => {
  const res = await post('/infer/invalid?models=d0,d2', jpeg, { 'content-type': 'application/octet-stream' });
  assert.equal(res.status, 200);
  const body = await json<InferResponse>(res);
  assert.equal(body.implementation, 'invalid');
  assert.deepEqual(body.images[0]!.models, {
    d0: { boxes: [], scores: [], labels: [], num_detections: 0, inference_ms: 0 },
    d2: { boxes: [], scores: [], labels: [], num_detections: 0, inference_ms: 0 },
  });
  assert.equal(body.images[0]!.width, 640);
});

test('bad input gets {error, detail} with the right status, and the server keeps serving', async () => {
  const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#123456' } }).png({ compressionLevel: 9 }).toBuffer();
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['empty body', () => post('/infer/baseline', new Uint8Array(0), { 'content-type': 'image/jpeg' }), 400, 'empty_body'],
    ['not an image', () => post('/infer/baseline', 'definitely not a jpeg', { 'content-type': 'image/jpeg' }), 400, 'invalid_image'],
    ['truncated jpeg', () => post('/infer/baseline', jpeg.subarray(0, jpeg.length >> 1), { 'content-type': 'image/jpeg' }), 400, 'invalid_image'],
    ['unsupported media type', () => post('/infer/baseline', '{"a":1}', { 'content-type': 'application/json' }), 415, 'unsupported_media_type'],
    ['body over MAX_BODY_MB', () => post('/infer/baseline', new Uint8Array(MAX_BODY_MB * 1024 * 1024 + 10), { 'content-type': 'image/jpeg' }), 413, 'body_too_large'],
    ['pixel limit (bomb)', () => post('/infer/baseline', big, { 'content-type': 'image/png' }), 413, 'image_too_large'],
    ['unknown implementation', () => post('/infer/nope', jpeg, { 'content-type': 'image/jpeg' }), 404, 'unknown_implementation'],
    ['unknown model', () => post('/infer/baseline?models=d0,d9', jpeg, { 'content-type': 'image/jpeg' }), 400, 'unknown_model'],
    ['multipart without file', () => post('/infer/baseline', (() => { const f = new FormData(); f.append('x', '1'); return f; })()), 400, 'empty_body'],
    ['unknown route', () => fetch(`${server.url}/nope`), 404, 'not_found'],
  ];
  for (const [name, send, status, code] of cases) {
    const res = await send();
    assert.equal(res.status, status, name);
    const body = await json<ErrorResponse>(res);
    assert.equal(body.error, code, name);
    assert.equal(typeof body.detail, 'string', name);
    assert.ok(!/\n\s+at /.test(body.detail), `${name}: no stack trace`);
    if (code === 'unknown_implementation') assert.match(body.detail, /baseline, invalid/);
    if (code === 'unknown_model') assert.match(body.detail, /d0, d1, d2/);
  }
  const health = await json<HealthResponse>(await fetch(`${server.url}/health`));
  assert.equal(health.ready, true);
  assert.equal((await post('/infer/invalid', jpeg, { 'content-type': 'image/jpeg' })).status, 200);
});

test('the stub refuses every bad image the baseline refuses, with the same status and code (its decoder is the same fast path)', async () => {
  const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#123456' } }).png({ compressionLevel: 9 }).toBuffer();
  // A corrupt scan that still ends in EOI takes the fast path first (jpeg-header.ts), then sharp judges it.
  const corrupt = Buffer.from(jpeg);
  corrupt.fill(0xff, corrupt.length >> 1, (corrupt.length >> 1) + 64);
  const cases: [string, Uint8Array | string, string][] = [
    ['empty body', new Uint8Array(0), 'image/jpeg'],
    ['not an image', 'definitely not a jpeg', 'image/jpeg'],
    ['truncated jpeg', jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg'],
    ['jpeg without its first scan', Buffer.concat([jpeg.subarray(0, 200), Buffer.from([0xff, 0xd9])]), 'image/jpeg'],
    ['corrupt scan ending in EOI', corrupt, 'image/jpeg'],
    ['pixel limit (bomb)', big, 'image/png'],
    ['png cut short', big.subarray(0, 100), 'image/png'],
  ];
  let refused = 0;
  for (const [name, bytes, type] of cases) {
    const [base, stub] = await Promise.all(['baseline', 'invalid'].map((impl) => post(`/infer/${impl}`, bytes, { 'content-type': type })));
    const [b, st] = [await base!.text(), await stub!.text()];
    assert.equal(stub!.status, base!.status, `${name}: invalid answered ${stub!.status} ${st.slice(0, 200)}, baseline ${base!.status} ${b.slice(0, 200)}`);
    if (base!.status >= 400) {
      refused++;
      assert.equal((JSON.parse(st) as ErrorResponse).error, (JSON.parse(b) as ErrorResponse).error, name);
    }
  }
  assert.ok(refused >= 6, `only ${refused} of ${cases.length} bad images were refused`);
  assert.equal((await post('/infer/invalid', jpeg, { 'content-type': 'image/jpeg' })).status, 200);
});

test('/vram and /vram/reset: host memory on CPU, same shape', async () => {
  const m = await json<MemoryResponse>(await fetch(`${server.url}/vram`));
  assert.equal(m.device, 'host');
  assert.ok(m.used_mb > 50 && m.peak_mb >= m.used_mb * 0.5);
  const r = await json<MemoryResponse>(await post('/vram/reset', undefined));
  assert.deepEqual(Object.keys(r).sort(), ['device', 'peak_mb', 'used_mb']);
  assert.ok(r.peak_mb <= m.peak_mb + 1);
  // A named window (k6's setup opens `measure` after the warm-up) shows in every later /vram.
  assert.equal((await json<MemoryResponse>(await post('/vram/reset?window=measure', undefined))).window, 'measure');
  assert.equal((await json<MemoryResponse>(await fetch(`${server.url}/vram`))).window, 'measure');
  const bad = await post('/vram/reset?window=a%20b', undefined);
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: string }).error, 'invalid_window');
  assert.equal((await json<MemoryResponse>(await post('/vram/reset', undefined))).window, undefined);
});

test('/metrics: Prometheus text with the nv_inference_* family', async () => {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  assert.ok(value(/^nv_inference_request_success\{impl="baseline"\} (\d+)/m) >= 3);
  assert.ok(value(/^nv_inference_request_failure\{impl="baseline",status="400",reason="invalid_image"\} (\d+)/m) >= 2);
  assert.ok(value(/^nv_inference_compute_infer_duration_seconds_count\{impl="baseline",model="d2"\} (\d+)/m) >= 2);
  for (const name of [
    'nv_inference_count',
    'nv_inference_exec_count',
    'nv_inference_request_duration_us',
    'nv_inference_queue_duration_seconds_bucket',
    'nv_inference_compute_input_duration_seconds_sum',
    'nv_inference_decode_duration_seconds_count',
    'nv_inference_request_batch_size_bucket',
    'nv_inference_inflight_requests',
    'nv_cpu_memory_used_bytes',
    'nv_server_event_loop_delay_seconds{quantile="0.99"}',
    'nv_server_info{ep="cpu"',
  ]) {
    assert.ok(text.includes(name), name);
  }
  // Nothing is in flight now: every request above, fast 4xx answers included, was booked out again.
  for (const m of text.matchAll(/^nv_inference_inflight_requests\{impl="([^"]+)"\} (\S+)/gm)) assert.equal(Number(m[2]), 0, `in flight for ${m[1]}`);
  // invalid runs no session: it books images but no execution.
  assert.ok(value(/^nv_inference_count\{impl="invalid",model="d0"\} (\d+)/m) >= 1);
  assert.equal(text.match(/^nv_inference_exec_count\{impl="invalid"/m), null);
});

test('SIGTERM: in-flight request finishes, then the process exits 0', async () => {
  const inflight = post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg' });
  await new Promise((r) => setTimeout(r, 100));
  server.child.kill('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as InferResponse).images.length, 1);
  assert.equal(await server.exited, 0);
  assert.match(server.stdout(), /SIGTERM: closing/);
  assert.match(server.stdout(), /closed/);
});

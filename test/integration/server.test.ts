// The real server (node --import tsx server/main.ts) on a free port with the generated models and real
// onnxruntime sessions, started once for this file with EP=cuda,cpu: where the CUDA EP loads (probed in
// this process, test/helpers/cuda.ts) the server must use it; elsewhere it must fall back to cpu and say
// so. Small limits (MAX_BODY_MB, MAX_PIXELS) make the refusal cases cheap to trigger.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { ErrorResponse, HealthResponse, ImplementationsResponse, InferResponse, MemoryResponse } from '../../lib/types.ts';
import { DETECTION_OUTPUTS, INPUT_NAME, OUTPUT, readModelInfos } from '../../server/runtime/model-info.ts';
import { decodeImage } from '../../server/runtime/decode.ts';
import { letterboxBatch, unletterboxBox } from '../../server/runtime/letterbox.ts';
import { MODELS_DIR, spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';
import { probeCuda, type CudaProbe } from '../helpers/cuda.ts';

const MAX_BODY_MB = 1;
const MAX_PIXELS = 1_000_000;
let server: Spawned;
let jpeg: Buffer;
/** Whether the CUDA EP loads here, and so the EP EP=cuda,cpu must end up on. */
let cuda: CudaProbe;
let ep: 'cuda' | 'cpu';
/** The first answers while the models were still loading. */
let loadingHealth: Response | undefined;
let loadingInfer: Response | undefined;

async function json<T>(res: Response): Promise<T> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as T;
}

const post = (path: string, body: RequestInit['body'] | undefined, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', body: body ?? null, headers });

/** Waits until the server counts an inference request of `impl` in flight (booked on its first tick). */
async function inFlight(impl: string): Promise<void> {
  const re = new RegExp(`^nv_inference_inflight_requests\\{impl="${impl}"\\} ([1-9])`, 'm');
  const deadline = Date.now() + 10_000;
  while (!re.test(await (await fetch(`${server.url}/metrics`)).text())) {
    if (Date.now() > deadline) throw new Error(`no ${impl} request in flight after 10 s`);
  }
}

before(async () => {
  jpeg = await testJpeg(640, 480);
  cuda = await probeCuda(`${MODELS_DIR}/efficientdet-d0.onnx`);
  ep = cuda.loads ? 'cuda' : 'cpu';
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

test("one 'ready' line with URL, EP and models; /health ready with CUDA where it loads, else the fallback to cpu, said", async () => {
  const line = server.stdout().split('\n').find((l) => / ready http/.test(l))!;
  assert.match(line, new RegExp(`ready ${server.url} ep=${ep} models=d0:512,d1:640,d2:768`), `CUDA EP ${cuda.loads ? 'loads' : `does not load (${cuda.error})`} in this process`);
  if (cuda.loads) assert.doesNotMatch(server.stdout() + server.stderr(), /falling back/);
  else assert.match(server.stdout() + server.stderr(), /cuda execution provider failed to load.*falling back to cpu/);
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  const h = await json<HealthResponse>(res);
  assert.equal(h.status, 'ok');
  assert.equal(h.ready, true);
  assert.equal(h.ep, ep);
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
  assert.equal(body.ep, ep);
  assert.equal(body.images.length, 1);
  const img = body.images[0]!;
  assert.deepEqual([img.image_id, img.width, img.height], ['gradient-640x480', 640, 480]);
  for (const k of ['decode_ms', 'preprocess_ms', 'queue_ms', 'infer_ms', 'total_ms'] as const) assert.ok(body.timing[k] >= 0, k);
  assert.ok(body.timing.total_ms >= body.timing.infer_ms);
  await waitFor(server, () => /POST \/infer\/baseline 200 .* id=gradient-640x480/.test(server.stdout()), 5000, 'the request log line with the image id');

  // In-process: the same decode + letterbox functions, fresh sessions with the server's options and EP.
  const decoded = await decodeImage(jpeg, { maxPixels: MAX_PIXELS });
  for (const info of await readModelInfos(MODELS_DIR)) {
    const session = await ort.InferenceSession.create(info.file, { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1, executionProviders: [ep] });
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
  // Two clients send baseline requests back to back until the probes are done: baseline runs one at a
  // time, so one is always inferring or queued behind the other, however fast the EP (CUDA) is.
  let probing = true;
  let answered = 0;
  const client = async () => {
    while (probing) {
      const r = await post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg' });
      assert.equal(r.status, 200);
      await r.json();
      answered++;
    }
  };
  const clients = [client(), client()];
  await inFlight('baseline');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/health`);
    await res.json();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  probing = false;
  await Promise.all(clients);
  assert.ok(answered >= 2, `${answered} baseline requests answered around the probes`);
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

test('/vram and /vram/reset: host memory on CPU, device memory on CUDA, same shape', async () => {
  const m = await json<MemoryResponse>(await fetch(`${server.url}/vram`));
  assert.equal(m.device, ep === 'cuda' ? 'cuda' : 'host');
  // nvidia-smi may not see this process's pid (a container): on CUDA the figure may be 0.
  if (ep === 'cpu') assert.ok(m.used_mb > 50 && m.peak_mb >= m.used_mb * 0.5);
  else assert.ok(m.used_mb >= 0 && m.peak_mb >= m.used_mb);
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
  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    return res.text();
  };
  const valueIn = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const counters = {
    success: /^nv_inference_request_success\{impl="baseline"\} (\d+)/m,
    invalidImage: /^nv_inference_request_failure\{impl="baseline",status="400",reason="invalid_image"\} (\d+)/m,
    d2Runs: /^nv_inference_compute_infer_duration_seconds_count\{impl="baseline",model="d2"\} (\d+)/m,
    stubImages: /^nv_inference_count\{impl="invalid",model="d0"\} (\d+)/m,
  };
  // Relative to what this test finds: the other tests of this file sent requests too.
  const before = await scrape();
  assert.equal((await post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg' })).status, 200);
  assert.equal((await post('/infer/baseline', 'definitely not a jpeg', { 'content-type': 'image/jpeg' })).status, 400);
  assert.equal((await post('/infer/invalid?models=d0', jpeg, { 'content-type': 'image/jpeg' })).status, 200);
  // A request is booked when its response closes, which may follow the client's read by a tick: wait for it.
  let text = await scrape();
  const delta = (re: RegExp) => valueIn(text, re) - valueIn(before, re);
  for (const deadline = Date.now() + 5000; Object.values(counters).some((re) => delta(re) < 1) && Date.now() < deadline; ) text = await scrape();
  assert.equal(delta(counters.success), 1);
  assert.equal(delta(counters.invalidImage), 1);
  assert.equal(delta(counters.d2Runs), 1);
  assert.equal(delta(counters.stubImages), 1);
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
    `nv_server_info{ep="${ep}"`,
  ]) {
    assert.ok(text.includes(name), name);
  }
  // Nothing is in flight now: every request of this file, fast 4xx answers included, was booked out again.
  for (const m of text.matchAll(/^nv_inference_inflight_requests\{impl="([^"]+)"\} (\S+)/gm)) assert.equal(Number(m[2]), 0, `in flight for ${m[1]}`);
  // invalid runs no session: it books images (counted above) but no execution.
  assert.equal(text.match(/^nv_inference_exec_count\{impl="invalid"/m), null);
});

test('SIGTERM: in-flight request finishes, then the process exits 0', async () => {
  const inflight = post('/infer/baseline', jpeg, { 'content-type': 'image/jpeg' });
  await inFlight('baseline');
  server.child.kill('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as InferResponse).images.length, 1);
  assert.equal(await server.exited, 0);
  assert.match(server.stdout(), /SIGTERM: closing/);
  assert.match(server.stdout(), /closed/);
});

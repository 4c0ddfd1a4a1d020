// `isolated` on the real server with real ONNX sessions (one worker per model, the default INSTANCES):
// a model-subset answer holds the lossless bounds against baseline's; with QUEUE_MAX_SIZE=1 a burst of
// D2-only requests fills D2's queue and is refused there (503 queue_full naming d2, natively and over
// v2) while a D0-only request is answered during that time: D2's queue is still full and its queued
// request still unanswered when D0's answer arrives. A request asking D0 and D2 is refused as a whole.
// /metrics carries the per-model queue depth, queue time and compute. The steps wait for what the
// server reports (in flight, queued per model), not for fixed delays.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOutput } from '../../lib/accuracy/check.ts';
import { accuracyBoundsFor } from '../../lib/bounds.ts';
import type { ErrorResponse, HealthResponse, InferResponse } from '../../lib/types.ts';
import { spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';

let server: Spawned;
let jpeg: Buffer;

before(async () => {
  jpeg = await testJpeg(320, 240);
  server = await spawnServer({ IMPL: 'baseline,isolated', QUEUE_MAX_SIZE: '1', LOG_LEVEL: 'info' });
  await waitFor(server, () => / ready http/.test(server.stdout()), 180_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

/** `n` copies of the test image for `models` (one raw body when n = 1). */
const infer = (impl: string, models: string, n = 1) => {
  const url = `${server.url}/infer/${impl}?models=${models}`;
  if (n === 1) return fetch(url, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
  const form = new FormData();
  for (let i = 0; i < n; i++) form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), `${i}.jpg`);
  return fetch(url, { method: 'POST', body: form });
};
const metricsText = async () => (await fetch(`${server.url}/metrics`)).text();
const series = (text: string, name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const inFlight = async () => series(await metricsText(), 'nv_inference_inflight_requests', 'impl="isolated"') || 0;
/** Requests waiting in one model's own queue. */
const queued = async (model: string) => series(await metricsText(), 'nv_inference_model_pending_request_count', `impl="isolated",model="${model}"`);

async function until(cond: () => Promise<boolean>, what: string, gaveUp: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await cond())) {
    const why = gaveUp() ?? (Date.now() > deadline ? 'not within 30 s' : undefined);
    if (why) assert.fail(`${what}: ${why}`);
  }
}

test('isolated answers a model subset within the lossless bounds of baseline', async () => {
  const [a, b] = await Promise.all([infer('isolated', 'd0,d2'), infer('baseline', 'd0,d2')]);
  assert.equal(a.status, 200, await a.clone().text());
  assert.equal(b.status, 200, await b.clone().text());
  const got = ((await a.json()) as InferResponse).images[0]!.models;
  const want = ((await b.json()) as InferResponse).images[0]!.models;
  assert.deepEqual(Object.keys(got).sort(), ['d0', 'd2']);
  const check = checkOutput(got, want, accuracyBoundsFor('isolated', true));
  assert.ok(check.match, JSON.stringify(check.models));
});

test("a D2 flood fills D2's queue only: D2 is refused, D0 is served while D2's queue is full", async () => {
  // One D2 request runs on D2's worker, the other waits in D2's queue (bound 1); from then on D2 is
  // full. Four images each, so whichever runs first keeps the worker busy for four D2 runs.
  const first = infer('isolated', 'd2', 4);
  await until(async () => (await inFlight()) === 1, 'the first D2 request in flight');
  let secondAnswered = false;
  const second = infer('isolated', 'd2', 4).finally(() => (secondAnswered = true));
  await until(async () => (await queued('d2')) === 1, "one D2 request in D2's queue", () => (secondAnswered ? 'the second D2 request was answered before it was seen queued' : undefined));

  const refused = await infer('isolated', 'd2');
  assert.equal(refused.status, 503, await refused.clone().text());
  assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After is set');
  const body = (await refused.json()) as ErrorResponse;
  assert.equal(body.error, 'queue_full');
  assert.match(body.detail, /isolated \(d2\): 1 request\(s\) already queued/);
  // Over v2 the per-model check runs before the body is read: D2 is refused, D0 is not (its empty body is a 400).
  const v2 = (model: string) => fetch(`${server.url}/v2/models/efficientdet-${model}/versions/isolated/infer`, { method: 'POST', body: '' });
  assert.equal((await v2('d2')).status, 503);
  assert.equal((await v2('d0')).status, 400);
  // A request for D0 and D2 is refused as a whole: no half of it is queued.
  const both = await infer('isolated', 'd0,d2');
  assert.equal(both.status, 503, await both.clone().text());
  assert.equal(await queued('d0'), 0, 'nothing left in D0 queue by the refused D0+D2 request');

  const d0 = await infer('isolated', 'd0');
  assert.equal(d0.status, 200, await d0.clone().text());
  assert.deepEqual(Object.keys(((await d0.json()) as InferResponse).images[0]!.models), ['d0']);
  // D0 was answered while D2's queue stayed full: its queued request has not started yet.
  assert.equal(await queued('d2'), 1, "D2's queue is still full after D0's answer");
  assert.equal(secondAnswered, false, 'the second D2 request is not answered yet');

  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual([a.status, b.status], [200, 200]);
  await until(async () => (await inFlight()) === 0, 'every request booked');
});

test('/metrics and /health: queue depth, queue time and compute per model', async () => {
  const text = await metricsText();
  for (const model of ['d0', 'd1', 'd2']) assert.equal(series(text, 'nv_inference_model_pending_request_count', `impl="isolated",model="${model}"`), 0, model);
  for (const model of ['d0', 'd2']) {
    assert.ok(series(text, 'nv_inference_model_queue_duration_seconds_count', `impl="isolated",model="${model}"`) >= 2, `queue time of ${model}`);
    assert.ok(series(text, 'nv_inference_model_queue_duration_us', `impl="isolated",model="${model}"`) >= 0, `cumulative queue of ${model}`);
    assert.ok(series(text, 'nv_inference_compute_infer_duration_us', `impl="isolated",model="${model}"`) > 0, `compute of ${model}`);
  }
  // The second D2 request waited behind the first: D2's cumulative queue time is not zero.
  assert.ok(series(text, 'nv_inference_model_queue_duration_us', 'impl="isolated",model="d2"') > 0);
  assert.equal(series(text, 'nv_inference_request_failure', 'impl="isolated",status="503",reason="queue_full"'), 3, 'D2, v2 D2, D0+D2 refused');
  const health = (await (await fetch(`${server.url}/health`)).json()) as HealthResponse;
  assert.deepEqual(health.queues?.['isolated'], { max_queue_size: 3, timeout_us: 0, pending: 0 }, 'one slot per model');
});

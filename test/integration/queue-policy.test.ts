// The queue policy on the real server: QUEUE_MAX_SIZE=1 and a short QUEUE_TIMEOUT, three requests
// at once to an implementation whose one execution takes far longer than the timeout. The first
// runs, the second waits and times out, the third finds the queue full; both refusals are 503 JSON
// with Retry-After and are counted in /metrics by reason. Baseline (serial queue) and concurrent
// (the per-model scheduler, also the batcher's) each get the round. The steps wait for what the
// server reports (in flight, queued), not for fixed delays; docs/testing.md says what stays timed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorResponse, HealthResponse, InferResponse } from '../../lib/types.ts';
import { spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';

const TIMEOUT_US = 150_000;
let server: Spawned;
let jpeg: Buffer;

before(async () => {
  jpeg = await testJpeg(320, 240);
  server = await spawnServer({ IMPL: 'baseline,concurrent', QUEUE_MAX_SIZE: '1', QUEUE_TIMEOUT: `${TIMEOUT_US}us`, PARALLEL_WORKERS: '1', LOG_LEVEL: 'info' });
  await waitFor(server, () => / ready http/.test(server.stdout()), 180_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

const infer = (impl: string) => fetch(`${server.url}/infer/${impl}`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
/** A request of four images: its execution (D0+D1+D2 four times) outlasts the queue timeout many times over. */
const inferFour = (impl: string) => {
  const form = new FormData();
  for (let i = 0; i < 4; i++) form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), `${i}.jpg`);
  return fetch(`${server.url}/infer/${impl}`, { method: 'POST', body: form });
};
const metricsText = async () => (await fetch(`${server.url}/metrics`)).text();
const gauge = (text: string, name: string, impl: string) => Number(new RegExp(`^${name}\\{impl="${impl}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
/** Requests of `impl` arrived at the server and not yet answered. */
const inFlight = async (impl: string) => gauge(await metricsText(), 'nv_inference_inflight_requests', impl);
/** Requests of `impl` admitted to its queue and not yet executing. */
const queued = async (impl: string) => ((await (await fetch(`${server.url}/health`)).json()) as HealthResponse).queues![impl]!.pending;

/** Polls `cond` (each poll is a loopback request, a few ms) until it holds; fails with `what` if `gaveUp()` or after 30 s. */
async function until(cond: () => Promise<boolean>, what: string, gaveUp: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await cond())) {
    const why = gaveUp() ?? (Date.now() > deadline ? 'not within 30 s' : undefined);
    if (why) assert.fail(`${what}: ${why}`);
  }
}

test('/health shows each implementation its queue policy', async () => {
  const health = (await (await fetch(`${server.url}/health`)).json()) as HealthResponse;
  assert.equal(health.settings?.queue_max_size, 1);
  assert.equal(health.settings?.queue_timeout_us, TIMEOUT_US);
  assert.deepEqual(health.queues?.['baseline'], { max_queue_size: 1, timeout_us: TIMEOUT_US, pending: 0 });
  assert.deepEqual(health.queues?.['concurrent'], { max_queue_size: 1, timeout_us: TIMEOUT_US, pending: 0 });
});

for (const impl of ['baseline', 'concurrent']) {
  test(`${impl}: one runs, one times out in the queue, one finds it full; 503 + Retry-After, counted`, async () => {
    // The first request is in flight before the second is sent; once the server reports one request
    // queued, the other is executing (admission starts a request at once when none runs), and the
    // third finds the queue full. Which of the first two ran is read from the answers, not assumed.
    const first = inferFour(impl);
    await until(async () => (await inFlight(impl)) === 1, 'the first request in flight');
    let secondAnswered = false;
    const second = inferFour(impl).finally(() => (secondAnswered = true));
    await until(async () => (await queued(impl)) === 1, 'one request queued behind the running one', () => (secondAnswered ? 'the second request was answered before it was seen queued' : undefined));
    const third = infer(impl);
    const [x, y, c] = await Promise.all([first, second, third]);
    assert.deepEqual([x.status, y.status].sort(), [200, 503], `of the first two, one runs and one waits: ${x.status} ${await x.clone().text()} / ${y.status} ${await y.clone().text()}`);
    const [a, b] = x.status === 200 ? [x, y] : [y, x];

    assert.equal(((await a.json()) as InferResponse).images.length, 4);
    for (const [res, code] of [[b, 'queue_timeout'], [c, 'queue_full']] as const) {
      assert.equal(res.status, 503, `${code}: ${await res.clone().text()}`);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After is set');
      const body = (await res.json()) as ErrorResponse;
      assert.equal(body.error, code);
      assert.match(body.detail, code === 'queue_full' ? /QUEUE_MAX_SIZE=1/ : /QUEUE_TIMEOUT=150ms/);
    }

    // A request is booked in /metrics when its response closes: wait until all three are.
    await until(async () => (await inFlight(impl)) === 0, 'the three requests booked');
    const metrics = await metricsText();
    for (const reason of ['queue_full', 'queue_timeout']) {
      assert.match(metrics, new RegExp(`nv_inference_request_failure\\{impl="${impl}",status="503",reason="${reason}"\\} 1\\b`));
    }
    assert.match(metrics, new RegExp(`nv_inference_pending_request_count\\{impl="${impl}"\\} 0\\b`));
    // The queue is free again: a lone request is answered.
    assert.equal((await infer(impl)).status, 200);
  });
}

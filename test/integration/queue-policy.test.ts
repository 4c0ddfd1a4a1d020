// The queue policy on the real server: QUEUE_MAX_SIZE=1 and a short QUEUE_TIMEOUT_US, three requests
// at once to an implementation whose one execution takes far longer than the timeout. The first
// runs, the second waits and times out, the third finds the queue full; both refusals are 503 JSON
// with Retry-After and are counted in /metrics by reason. Baseline (serial queue) and concurrent
// (the per-model scheduler, also the batcher's) each get the round.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorResponse, HealthResponse, InferResponse } from '../../lib/types.ts';
import { spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';

const TIMEOUT_US = 150_000;
let server: Spawned;
let jpeg: Buffer;

before(async () => {
  jpeg = await testJpeg(320, 240);
  server = await spawnServer({ IMPL: 'baseline,concurrent', QUEUE_MAX_SIZE: '1', QUEUE_TIMEOUT_US: String(TIMEOUT_US), PARALLEL_WORKERS: '1', LOG_LEVEL: 'info' });
  await waitFor(server, () => / ready http/.test(server.stdout()), 180_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

const infer = (impl: string) => fetch(`${server.url}/infer/${impl}`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });

test('/health shows each implementation its queue policy', async () => {
  const health = (await (await fetch(`${server.url}/health`)).json()) as HealthResponse;
  assert.equal(health.settings?.queue_max_size, 1);
  assert.equal(health.settings?.queue_timeout_us, TIMEOUT_US);
  assert.deepEqual(health.queues?.['baseline'], { max_queue_size: 1, timeout_us: TIMEOUT_US, pending: 0 });
  assert.deepEqual(health.queues?.['concurrent'], { max_queue_size: 1, timeout_us: TIMEOUT_US, pending: 0 });
});

for (const impl of ['baseline', 'concurrent']) {
  test(`${impl}: one runs, one times out in the queue, one finds it full; 503 + Retry-After, counted`, async () => {
    // The first request is admitted alone so it surely executes; the next two arrive while it runs
    // (D0+D1+D2 take several hundred ms here, the timeout is 150 ms).
    const first = infer(impl);
    await new Promise((r) => setTimeout(r, 30));
    const second = infer(impl);
    await new Promise((r) => setTimeout(r, 30));
    const third = infer(impl);
    const [a, b, c] = await Promise.all([first, second, third]);

    assert.equal(a.status, 200, `first: ${await a.clone().text()}`);
    assert.equal(((await a.json()) as InferResponse).images.length, 1);
    for (const [res, code] of [[b, 'queue_timeout'], [c, 'queue_full']] as const) {
      assert.equal(res.status, 503, `${code}: ${await res.clone().text()}`);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After is set');
      const body = (await res.json()) as ErrorResponse;
      assert.equal(body.error, code);
      assert.match(body.detail, code === 'queue_full' ? /QUEUE_MAX_SIZE=1/ : /QUEUE_TIMEOUT_US=150000/);
    }

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const reason of ['queue_full', 'queue_timeout']) {
      assert.match(metrics, new RegExp(`nv_inference_request_failure\\{impl="${impl}",status="503",reason="${reason}"\\} 1\\b`));
    }
    assert.match(metrics, new RegExp(`nv_inference_pending_request_count\\{impl="${impl}"\\} 0\\b`));
    // The queue is free again: a lone request is answered.
    assert.equal((await infer(impl)).status, 200);
  });
}

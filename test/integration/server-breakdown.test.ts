// The server-side breakdown adds up (issue 28): on the real server with real sessions, per
// implementation, a few requests at concurrency 3 (so queues form and concurrent, batched and int8 run
// a request's models side by side), /metrics scraped before and after and split as `make report` does
// (tools/report/breakdown.ts). Every part is >= 0 and they sum to the request time; compute (the
// critical path of the request's jobs) is at most the sum of the per-model letterbox + session.run
// times each request saw (its answer's timing), and for the serial baseline and stacked about that sum.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferResponse } from '../../lib/types.ts';
import { breakdownOf, parsePrometheus } from '../../tools/report/breakdown.ts';
import { ensureInt8Models } from '../helpers/make-target.ts';
import { spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';

const IMPLS = ['baseline', 'stacked', 'concurrent', 'batched', 'int8', 'invalid'] as const;
/** One job per request, its models one after another: compute ~ the sum of their times. */
const SERIAL = new Set<string>(['baseline', 'stacked']);
const CLIENTS = 3;
const PER_CLIENT = 2;
/** Rounding of the µs counters' means, ms. */
const ROUNDING = 1e-3;
let server: Spawned;
let jpeg: Buffer;

before(async () => {
  // The int8 files, through make like the other files that serve int8 (`make models` has only the float ones).
  await ensureInt8Models();
  jpeg = await testJpeg(320, 240);
  // A batch window long enough that the three clients' requests share runs on batched.
  server = await spawnServer({ IMPL: IMPLS.join(','), EP: 'cpu', BATCHER_MAX_DELAY: '20ms', LOG_LEVEL: 'info' });
  await waitFor(server, () => / ready http/.test(server.stdout()), 180_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

const scrape = async () => (await fetch(`${server.url}/metrics`)).text();

/** Sum over the impl's series of `name` in `after` minus in `before`. */
function delta(before: string, after: string, name: string, impl: string): number {
  const sum = (text: string) => parsePrometheus(text).filter((s) => s.name === name && s.labels['impl'] === impl).reduce((a, s) => a + s.value, 0);
  return sum(after) - sum(before);
}

for (const impl of IMPLS) {
  test(`${impl}: queue + compute + overhead = request, every part >= 0, compute <= the sum of the model runs`, async (t) => {
    const before = await scrape();
    const answers: { client_ms: number; body: InferResponse }[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < PER_CLIENT; i++) {
          const t0 = performance.now();
          const res = await fetch(`${server.url}/infer/${impl}`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
          assert.equal(res.status, 200, await res.clone().text());
          answers.push({ body: (await res.json()) as InferResponse, client_ms: performance.now() - t0 });
        }
      }),
    );
    const after = await scrape();
    const n = CLIENTS * PER_CLIENT;
    const b = breakdownOf(before, after, impl);
    assert.ok(b, 'the run booked its requests');
    // The server's own per-request sums of the models' letterbox + session.run, as each request saw them
    // (a batched request's runs are the whole batch's, which /metrics books once per batch).
    const modelSum = answers.reduce((s, a) => s + a.body.timing.preprocess_ms + a.body.timing.infer_ms, 0) / n;
    const decode = (delta(before, after, 'nv_inference_decode_duration_seconds_sum', impl) * 1000) / n;
    const client = answers.reduce((s, a) => s + a.client_ms, 0) / n;
    const critical = delta(before, after, 'nv_inference_compute_critical_path_duration_us', impl) / n / 1000;
    t.diagnostic(
      `${impl}: request ${b.request_ms.toFixed(1)} ms = queue ${b.queue_ms.toFixed(1)} + compute ${b.compute_ms.toFixed(1)} + overhead ${b.overhead_ms.toFixed(1)}; ` +
        `models' letterbox + run ${modelSum.toFixed(1)}, decode ${decode.toFixed(1)}, client ${client.toFixed(1)} (means of ${n})`,
    );

    assert.equal(b.requests, n);
    assert.ok(Math.abs(b.request_ms - (b.queue_ms + b.compute_ms + b.overhead_ms)) < ROUNDING);
    for (const part of ['queue_ms', 'compute_ms', 'overhead_ms'] as const) assert.ok(b[part] >= -ROUNDING, `${part} ${b[part]} < 0`);
    // The report used the server's critical path, not the sum of the model runs.
    assert.ok(Math.abs(b.compute_ms - critical) < ROUNDING, `compute ${b.compute_ms} is the critical path ${critical}`);
    // Overhead holds what lies outside the implementation: at least the decode.
    assert.ok(b.overhead_ms >= decode - ROUNDING, `overhead ${b.overhead_ms} >= decode ${decode}`);
    assert.ok(b.request_ms <= client + ROUNDING, `the server's request ${b.request_ms} within the client's ${client}`);
    if (impl === 'invalid') {
      assert.equal(b.compute_ms, 0);
      assert.equal(b.queue_ms, 0);
      return;
    }
    // The critical path is at most the sum of the runs, plus the hops to and from the worker and the
    // detections' decoding in it (measured: a few ms per request); the serial ones are about that sum.
    assert.ok(b.compute_ms <= modelSum * 1.05 + 10, `compute ${b.compute_ms} <= sum of the model runs ${modelSum}`);
    if (SERIAL.has(impl)) assert.ok(b.compute_ms >= modelSum - ROUNDING, `serial: compute ${b.compute_ms} covers the model runs ${modelSum}`);
  });
}

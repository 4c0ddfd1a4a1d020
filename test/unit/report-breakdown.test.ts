import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakdownOf, parsePrometheus, pooledBreakdown } from '../../tools/report/breakdown.ts';

// Triton's shape: one series per model and version, no impl label; compute in three parts.
const triton = (n: number, requestUs: number, queueUs: number, inUs: number, inferUs: number, outUs: number, execs: number) =>
  ['efficientdet-d0', 'efficientdet-d1'].map((m) => `nv_inference_request_success{model="${m}",version="1"} ${n}
nv_inference_count{model="${m}",version="1"} ${n}
nv_inference_exec_count{model="${m}",version="1"} ${execs}
nv_inference_request_duration_us{model="${m}",version="1"} ${requestUs}
nv_inference_queue_duration_us{model="${m}",version="1"} ${queueUs}
nv_inference_compute_input_duration_us{model="${m}",version="1"} ${inUs}
nv_inference_compute_infer_duration_us{model="${m}",version="1"} ${inferUs}
nv_inference_compute_output_duration_us{model="${m}",version="1"} ${outUs}`).join('\n');

test('Triton metrics: per-request queue, compute (input+infer+output) and overhead from the counter deltas over all models', () => {
  // Before: 2 warm-up requests per model. After: 10 more per model.
  const b = breakdownOf(triton(2, 2000, 0, 0, 2000, 0, 2), triton(12, 2000 + 10 * 100_000, 10 * 20_000, 10 * 1000, 2000 + 10 * 70_000, 10 * 2000, 7), 'triton-instances')!;
  assert.equal(b.requests, 20);
  assert.equal(b.request_ms, 100);
  assert.equal(b.queue_ms, 20);
  assert.ok(Math.abs(b.compute_ms - 73) < 1e-9, String(b.compute_ms));
  assert.ok(Math.abs(b.overhead_ms - 7) < 1e-9);
  assert.equal(b.mean_batch, 2); // 20 images in 10 executions
});

test('our metrics: only the series of the run\'s impl count; no request booked gives null', () => {
  const ours = (baseline: number, concurrent: number) => `# HELP nv_inference_request_success x
nv_inference_request_success{impl="baseline"} ${baseline}
nv_inference_request_success{impl="concurrent"} ${concurrent}
nv_inference_request_duration_us{impl="baseline"} ${baseline * 500_000}
nv_inference_request_duration_us{impl="concurrent"} ${concurrent * 900_000}
nv_inference_queue_duration_us{impl="concurrent"} ${concurrent * 400_000}
nv_inference_compute_infer_duration_us{impl="concurrent",model="d0"} ${concurrent * 100_000}
nv_inference_compute_infer_duration_us{impl="concurrent",model="d1"} ${concurrent * 300_000}
nv_inference_request_duration_seconds_bucket{impl="concurrent",le="+Inf"} ${concurrent}`;
  const b = breakdownOf(ours(5, 0), ours(5, 4), 'concurrent')!;
  assert.deepEqual({ ...b, overhead_ms: Math.round(b.overhead_ms) }, { requests: 4, request_ms: 900, queue_ms: 400, compute_ms: 400, overhead_ms: 100, mean_batch: null });
  assert.equal(breakdownOf(ours(5, 4), ours(9, 4), 'concurrent'), null);
  assert.equal(parsePrometheus('# scrape failed: x\n').length, 0);
});

test('our metrics with the critical path: compute is it, not the sum of the model runs, so the parts add up', () => {
  // Two models side by side: 300 + 200 ms of runs in a 350 ms critical path, in a 500 ms request.
  const ours = (n: number) => `nv_inference_request_success{impl="concurrent"} ${n}
nv_inference_request_duration_us{impl="concurrent"} ${n * 500_000}
nv_inference_queue_duration_us{impl="concurrent"} ${n * 100_000}
nv_inference_compute_critical_path_duration_us{impl="concurrent"} ${n * 350_000}
nv_inference_compute_critical_path_duration_us{impl="baseline"} 1e12
nv_inference_compute_input_duration_us{impl="concurrent"} ${n * 20_000}
nv_inference_compute_infer_duration_us{impl="concurrent",model="d1"} ${n * 200_000}
nv_inference_compute_infer_duration_us{impl="concurrent",model="d2"} ${n * 280_000}`;
  const b = breakdownOf(ours(1), ours(5), 'concurrent')!;
  assert.equal(b.requests, 4);
  assert.equal(b.compute_ms, 350);
  assert.ok(Math.abs(b.overhead_ms - 50) < 1e-9, String(b.overhead_ms));
  assert.ok(Math.abs(b.request_ms - (b.queue_ms + b.compute_ms + b.overhead_ms)) < 1e-9);
});

test('over several runs the split is pooled per request, so its parts still add up to the request time', () => {
  const run = (requests: number, queue_ms: number, compute_ms: number, overhead_ms: number) => ({ requests, request_ms: queue_ms + compute_ms + overhead_ms, queue_ms, compute_ms, overhead_ms, mean_batch: null });
  // Medians of each part over these three runs would be 100 + 300 + 10 = 410 against a median request of 330.
  const p = pooledBreakdown([run(10, 100, 300, 10), run(30, 20, 300, 10), run(20, 100, 200, 30)]);
  assert.equal(p.requests, 60);
  assert.ok(Math.abs(p.queue_ms + p.compute_ms + p.overhead_ms - p.request_ms) < 1e-9, JSON.stringify(p));
  assert.ok(Math.abs(p.queue_ms - (10 * 100 + 30 * 20 + 20 * 100) / 60) < 1e-9);
  assert.deepEqual(pooledBreakdown([]), { requests: 0, request_ms: 0, queue_ms: 0, compute_ms: 0, overhead_ms: 0 });
});

test('TorchServe metrics: request from ts_inference_latency (queue included), queue, the handler\'s compute, and the batch that ran', () => {
  const ts = (n: number, latencyUs: number, queueUs: number, computeUs: number, execs: number, images: number) => `# TYPE ts_inference_requests_total counter
ts_inference_requests_total{model_name="efficientdet-d0",model_version="default",hostname="vm",} ${n}
ts_inference_latency_microseconds{model_name="efficientdet-d0",model_version="default",hostname="vm",} ${latencyUs}
ts_queue_latency_microseconds{model_name="efficientdet-d0",model_version="default",hostname="vm",} ${queueUs}
ts_handler_compute_microseconds{ModelName="efficientdet-d0",Level="Model",Hostname="vm",} ${computeUs}
ts_handler_execution_count{ModelName="efficientdet-d0",Level="Model",Hostname="vm",} ${execs}
ts_handler_image_count{ModelName="efficientdet-d0",Level="Model",Hostname="vm",} ${images}`;
  // 8 requests in 2 executions of 4: each 100 ms, of which 10 queued and 80 computing.
  const b = breakdownOf(ts(2, 200_000, 0, 160_000, 2, 2), ts(10, 200_000 + 8 * 100_000, 8 * 10_000, 160_000 + 8 * 80_000, 4, 10), 'torchserve')!;
  assert.equal(b.requests, 8);
  assert.equal(b.request_ms, 100);
  assert.equal(b.queue_ms, 10);
  assert.equal(b.compute_ms, 80);
  assert.equal(b.overhead_ms, 10);
  assert.equal(b.mean_batch, 4);
  assert.equal(breakdownOf(ts(2, 1, 1, 1, 1, 1), ts(2, 1, 1, 1, 1, 1), 'torchserve'), null, 'no request booked');
});

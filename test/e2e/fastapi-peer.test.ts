// The FastAPI + onnxruntime peer end to end: `make fastapi-env` installs it from PyPI (first time),
// `make fastapi` comes up ready, answers our native API so that `make bench` against it passes the
// in-run output checks (its declared bounds) with its metrics booked, the idle process tree takes no
// CPU, SIGTERM stops it cleanly; with FASTAPI_API=seed it answers the seed project's API, which
// PROTOCOL=seed drives through the same output checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Summary } from '../../lib/summary.ts';
import type { InferResponse } from '../../lib/types.ts';
import { treeCpuSeconds } from '../../lib/node/proc-cpu.ts';
import { startFastapi, stopFastapi, type StartedFastapi } from '../../peers/fastapi/driver.ts';
import { runMake } from './bench-helpers.ts';
import { makeTarget } from '../helpers/make-target.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'fastapi-e2e-'));

async function withFastapi(env: Record<string, string>, fn: (s: StartedFastapi) => Promise<void>): Promise<void> {
  const server = await startFastapi({ logFile: join(tmp(), 'fastapi.log'), readyTimeout_s: 120, env });
  let stopped;
  try {
    await fn(server);
  } finally {
    stopped = await stopFastapi(server);
  }
  assert.ok(stopped.clean, `uvicorn returned after SIGTERM (log ${server.logFile}): ${JSON.stringify(stopped)}`);
  assert.ok(!existsSync(`/proc/${server.pid}`), 'the uvicorn supervisor is gone after SIGTERM');
}

/** A 640 x 480 JPEG of the dataset's first image: not square, so the box spaces of the two APIs differ. */
const wideJpeg = () => sharp('build/data/synthetic/synthetic-0001.jpg').resize(640, 480, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();

async function post(url: string, jpeg: Buffer): Promise<unknown> {
  const form = new FormData();
  form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), 'wide.jpg');
  const res = await fetch(url, { method: 'POST', body: form });
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 300));
  return JSON.parse(text);
}

test('make fastapi (native API): a smoke bench passes the in-run output checks, its metrics are booked, the idle tree takes no CPU, SIGTERM stops it', { timeout: 900_000 }, async () => {
  const t0 = performance.now();
  await makeTarget('fastapi-env');
  console.log(`# make fastapi-env: ${((performance.now() - t0) / 1000).toFixed(1)} s (the install from PyPI when build/fastapi is clean, else make's check)`);
  // All three models: the accuracy replay after the load asks for each.
  await withFastapi({}, async (server) => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.workers, 2);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { ready: boolean; implementations: string[] };
    assert.equal(health.ready, true);
    assert.deepEqual(health.implementations, ['fastapi']);

    const root = tmp();
    // Five images: the in-run output checks on every answer, then the replay of the same five.
    const r = await runMake(['bench'], { SCENARIO: 'smoke', TARGET: server.url, IMPL: 'fastapi', MAX_IMAGES: '5', SMOKE_REQUESTS: '4', WARMUP: '1', HOST_BOUNDS: '0', RESULTS_ROOT: root }, 600_000);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const dir = join(root, readlinkSync(join(root, 'latest')));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    const outputChecks = summary.thresholds.filter((t) => t.metric.startsWith('output_'));
    assert.ok(outputChecks.length > 0 && outputChecks.every((t) => t.ok), `in-run output checks present and passed: ${JSON.stringify(summary.thresholds.map((t) => [t.metric, t.ok]))}`);
    // The peer's own counters (summed over its workers), scraped before and after k6.
    const count = (file: string) => Number(/^nv_inference_request_success\{impl="fastapi"\} (\S+)$/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? 0);
    assert.ok(count('server-metrics.prom') - count('server-metrics.before.prom') >= 4, "the run's requests booked in the peer's /metrics");
    assert.match(readFileSync(join(dir, 'server-metrics.prom'), 'utf8'), /^nv_inference_compute_infer_duration_us\{impl="fastapi",model="d0"\} \d/m);

    // Our native answer shape, boxes in original-image pixels.
    const answer = (await post(`${server.url}/infer/fastapi`, await wideJpeg())) as InferResponse;
    assert.equal(answer.implementation, 'fastapi');
    const image = answer.images[0]!;
    assert.deepEqual([image.image_id, image.width, image.height], ['wide.jpg', 640, 480]);
    const d0 = image.models.d0!;
    assert.ok(d0.num_detections > 0 && d0.boxes.length === d0.num_detections && d0.boxes.every((b) => b[2] <= 640 && b[3] <= 480), JSON.stringify(d0).slice(0, 300));

    // Idle: after a settle, the whole tree (supervisor + workers) burns almost nothing.
    await new Promise((res) => setTimeout(res, 1000));
    const before = treeCpuSeconds(server.pid);
    await new Promise((res) => setTimeout(res, 5000));
    const idle = treeCpuSeconds(server.pid) - before;
    console.log(`# idle fastapi tree: ${idle.toFixed(3)} CPU-s in 5 s`);
    assert.ok(idle < 0.25, `idle fastapi tree used ${idle.toFixed(2)} CPU-s in 5 s (spinning or polling?)`);
  });
});

test('make fastapi FASTAPI_API=seed answers the seed project\'s API: a PROTOCOL=seed smoke passes the output checks; 100 zero-padded rows, 1-based labels, our boxes in the 512 x 512 resized input', { timeout: 900_000 }, async () => {
  await makeTarget('fastapi-env');
  const jpeg = await wideJpeg();
  let native: InferResponse | undefined;
  await withFastapi({ MODELS: 'd0' }, async (server) => void (native = (await post(`${server.url}/infer/fastapi`, jpeg)) as InferResponse));
  // All three models: the replay after the load asks for each.
  await withFastapi({ FASTAPI_API: 'seed' }, async (server) => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; models_loaded: boolean };
    assert.deepEqual([health.status, health.models_loaded], ['healthy', true]);
    const root = tmp();
    const r = await runMake(['bench'], { SCENARIO: 'smoke', PROTOCOL: 'seed', TARGET: server.url, IMPL: 'fastapi', MAX_IMAGES: '3', SMOKE_REQUESTS: '3', WARMUP: '1', HOST_BOUNDS: '0', RESULTS_ROOT: root }, 600_000);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const summary = JSON.parse(readFileSync(join(root, readlinkSync(join(root, 'latest')), 'summary.json'), 'utf8')) as Summary;
    assert.ok(summary.thresholds.some((t) => t.metric.startsWith('output_match')) && summary.thresholds.every((t) => t.ok), JSON.stringify(summary.thresholds.map((t) => [t.metric, t.ok])));

    // The dataset's images are square; a 640 x 480 one shows the seed's box space apart from ours.
    const seed = (await post(`${server.url}/infer/baseline`, jpeg)) as { implementation: string; total_inference_time_ms: number; detections: { boxes: number[][]; scores: number[]; labels: number[]; model_name: string; inference_time_ms: number }[] };
    assert.equal(seed.implementation, 'baseline');
    assert.ok(seed.total_inference_time_ms > 0);
    assert.deepEqual(seed.detections.map((d) => d.model_name), ['efficientdet_d0', 'efficientdet_d1', 'efficientdet_d2']);
    const d = seed.detections[0]!;
    assert.deepEqual([d.boxes.length, d.scores.length, d.labels.length], [100, 100, 100]);
    const ours = native!.images[0]!.models.d0!;
    const n = ours.num_detections;
    assert.ok(n > 0 && n < 100, `a few detections and some padding (${n})`);
    // The rows are ours, boxes scaled into 512 x 512 (x * 512/640, y * 512/480); then zero padding.
    ours.boxes.forEach((b, i) => b.forEach((v, k) => assert.ok(Math.abs(d.boxes[i]![k]! - v * (k % 2 === 0 ? 512 / 640 : 512 / 480)) < 1e-6, `row ${i} box ${k}`)));
    assert.deepEqual(d.scores.slice(0, n), ours.scores);
    assert.deepEqual(d.labels.slice(0, n), ours.labels);
    assert.ok(d.labels.slice(0, n).every((l) => l >= 1), '1-based labels');
    assert.ok(d.boxes.slice(n).every((b) => b.every((v) => v === 0)) && d.scores.slice(n).every((s) => s === 0) && d.labels.slice(n).every((l) => l === 0), 'zero padding');
  });
});

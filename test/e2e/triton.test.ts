// The Triton peer end to end: `make triton` (installing its venv from PyPI on first use) comes up
// ready, answers a v2 inference of a tensor with the detection tensors (equal to our own
// onnxruntime run of the same tensor), the dynamic batcher merges requests, the idle server takes
// no CPU, and SIGTERM stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Summary } from '../../lib/summary.ts';
import type { Report } from '../../tools/report/model.ts';
import { runMake } from './bench-helpers.ts';
import { ensureInt8Models } from '../helpers/make-target.ts';
import { DETECTION_OUTPUTS, INPUT_NAME } from '../../server/runtime/model-info.ts';
import { startTriton, stopTriton, type StartedTriton, type TritonModelSet } from '../../peers/triton/driver.ts';
import { treeCpuSeconds } from '../../lib/node/proc-cpu.ts';

const MODEL_FILE = 'build/models/efficientdet-d0.onnx';
const SIZE = 512;
const tmp = () => mkdtempSync(join(tmpdir(), 'triton-e2e-'));

/** A deterministic input tensor in the normalised range; `phase` makes distinct ones. */
function tensor(phase: number): Float32Array {
  const t = new Float32Array(3 * SIZE * SIZE);
  for (let i = 0; i < t.length; i++) t[i] = 2 * Math.sin(i * 0.0007 + phase);
  return t;
}

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data: Float32Array;
}

/** POST /v2/models/{model}/infer with the binary tensor data extension both ways. */
async function inferBinary(url: string, model: string, input: Float32Array): Promise<Record<string, V2Output>> {
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [1, 3, SIZE, SIZE], parameters: { binary_data_size: input.byteLength } }],
    outputs: DETECTION_OUTPUTS.map((name) => ({ name, parameters: { binary_data: true } })),
  }));
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(input.buffer, input.byteOffset, input.byteLength)]),
  });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, body.toString().slice(0, 300));
  const jsonLength = Number(res.headers.get('inference-header-content-length'));
  const reply = JSON.parse(body.subarray(0, jsonLength).toString()) as { outputs: (Omit<V2Output, 'data'> & { parameters: { binary_data_size: number } })[] };
  const out: Record<string, V2Output> = {};
  let at = jsonLength;
  for (const o of reply.outputs) {
    const bytes = body.subarray(at, at + o.parameters.binary_data_size);
    at += bytes.length;
    out[o.name] = { name: o.name, datatype: o.datatype, shape: o.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
  }
  return out;
}

async function withTriton(modelSet: TritonModelSet, fn: (t: StartedTriton) => Promise<void>, models = 'd0'): Promise<void> {
  const triton = await startTriton({ modelSet, logFile: join(tmp(), 'triton.log'), readyTimeout_s: 240, env: { MODELS: models } });
  let stopped;
  try {
    await fn(triton);
  } finally {
    stopped = await stopTriton(triton);
  }
  assert.ok(stopped.clean, `serve.py stopped tritonserver with exit code 0 on SIGTERM (log ${triton.logFile}): ${JSON.stringify(stopped)}`);
  assert.ok(!existsSync(`/proc/${triton.pid}`), 'tritonserver is gone after SIGTERM');
}

test('make triton serves efficientdet-d0 over v2: metadata of the ONNX contract, detections equal to onnxruntime, idle server takes no CPU, SIGTERM stops it', { timeout: 900_000 }, async () => {
  await withTriton('instances', async (triton) => {
    assert.match(triton.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${triton.url}/v2/health/ready`)).status, 200);
    const meta = (await (await fetch(`${triton.url}/v2/models/efficientdet-d0`)).json()) as { inputs: { name: string; datatype: string; shape: number[] }[]; outputs: { name: string; shape: number[] }[] };
    assert.deepEqual(meta.inputs, [{ name: 'images', datatype: 'FP32', shape: [-1, 3, SIZE, SIZE] }]);
    assert.deepEqual(meta.outputs.map((o) => [o.name, o.shape]), [['detection_boxes', [-1, 100, 4]], ['detection_scores', [-1, 100]], ['detection_classes', [-1, 100]], ['num_detections', [-1]]]);

    const input = tensor(0);
    const got = await inferBinary(triton.url, 'efficientdet-d0', input);
    // Our side: the same file and tensor in onnxruntime-node, one intra-op thread as Triton's instance.
    const session = await ort.InferenceSession.create(MODEL_FILE, { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1, intraOpNumThreads: 1 });
    const want = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) }, [...DETECTION_OUTPUTS]);
    await session.release();
    for (const name of DETECTION_OUTPUTS) {
      const g = got[name]!;
      const w = want[name]!;
      assert.deepEqual(g.shape, [...w.dims], `${name}: shape`);
      assert.equal(g.datatype, 'FP32', `${name}: datatype`);
      const wd = w.data as Float32Array;
      wd.forEach((v, i) => assert.ok(Math.abs(g.data[i]! - v) <= 1e-4 + 1e-5 * Math.abs(v), `${name}[${i}]: got ${g.data[i]}, want ${v}`));
    }
    assert.ok(got['num_detections']!.data[0]! > 0, 'the tensor yields detections');

    // Idle: after a settle, the whole process tree (tritonserver + stubs) burns almost nothing.
    await new Promise((r) => setTimeout(r, 1000));
    const before = treeCpuSeconds(triton.pid);
    await new Promise((r) => setTimeout(r, 5000));
    const idle = treeCpuSeconds(triton.pid) - before;
    assert.ok(idle < 0.25, `idle tritonserver tree used ${idle.toFixed(2)} CPU-s in 5 s (spinning or polling?)`);
  });
});

test('the dynamic model set batches concurrent requests in Triton and gives each request its own rows', { timeout: 900_000 }, async () => {
  await withTriton('dynamic', async (triton) => {
    const meta = (await (await fetch(`${triton.url}/v2/models/efficientdet-d0/config`)).json()) as { max_batch_size: number; dynamic_batching?: { max_queue_delay_microseconds: string; preferred_batch_size: number[] } };
    assert.equal(meta.max_batch_size, 4);
    assert.deepEqual(meta.dynamic_batching?.preferred_batch_size, [4]);
    const counters = async () => {
      const metrics = await (await fetch(triton.metricsUrl)).text();
      const value = (name: string) => Number(new RegExp(`^${name}\\{model="efficientdet-d0",version="1"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      return { images: value('nv_inference_count'), executions: value('nv_inference_exec_count') };
    };
    // The warm-up runs (one per instance) are counted too: count from here.
    const before = await counters();
    const [a, b] = [tensor(0), tensor(1)];
    const replies = await Promise.all([a, b, a, b, a, b, a, b].map((t) => inferBinary(triton.url, 'efficientdet-d0', t)));
    const scores = replies.map((r) => Array.from(r['detection_scores']!.data));
    for (let i = 2; i < scores.length; i++) assert.deepEqual(scores[i], scores[i % 2], `reply ${i} holds the rows of its own tensor`);
    assert.notDeepEqual(scores[0], scores[1]);
    // Batching models declare the per-row scalar as dims [1]: clients see [N, 1].
    assert.deepEqual(replies[0]!['num_detections']!.shape, [1, 1]);
    const after = await counters();
    // 8 requests in fewer executions means the batcher merged them.
    assert.equal(after.images - before.images, 8);
    assert.ok(after.executions - before.executions < 8, `executions ${after.executions - before.executions} for 8 requests`);
  });
});

/** Triton's nv_inference_request_success of one model in a scraped metrics file. */
const successCount = (file: string, model: string): number => Number(new RegExp(`^nv_inference_request_success\\{model="efficientdet-${model}",version="1"\\} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'))?.[1]);

/** make bench against a running Triton over v2 with per-model tensors; returns its exit and run folder. */
async function benchTriton(triton: StartedTriton, env: Record<string, string>) {
  const root = tmp();
  const r = await runMake(['bench'], {
    SCENARIO: 'smoke', TARGET: triton.url, TARGET_METRICS: triton.metricsUrl, PROTOCOL: 'v2', V2_VERSION: '1',
    IMPL: 'triton-instances', SMOKE_REQUESTS: '2', WARMUP: '1', HOST_BOUNDS: '0', RESULTS_ROOT: root, ...env,
  }, 600_000);
  return { r, dir: join(root, readlinkSync(join(root, 'latest'))) };
}

test('make bench SCENARIO=smoke over v2 against Triton passes with the in-run output checks on, and Triton\'s metrics land in the results folder; a two-model mix over v2 passes its output checks with a row per model', { timeout: 900_000 }, async () => {
  await withTriton('instances', async (triton) => {
    const { r, dir } = await benchTriton(triton, { V2_MODELS: 'd0' });
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    const outputChecks = summary.thresholds.filter((t) => t.metric.startsWith('output_match'));
    assert.ok(outputChecks.length > 0 && outputChecks.every((t) => t.ok), `in-run output checks present and passed: ${JSON.stringify(summary.thresholds.map((t) => [t.metric, t.ok]))}`);
    assert.ok(summary.levels.some((l) => l.impl === 'triton-instances' && l.requests > 0), JSON.stringify(summary.levels));
    // Triton's own counters, scraped from TARGET_METRICS before and after k6: the measured requests are in the delta.
    assert.ok(successCount(join(dir, 'server-metrics.prom'), 'd0') - successCount(join(dir, 'server-metrics.before.prom'), 'd0') >= 2, 'the run\'s requests booked in Triton\'s metrics');
    assert.match(readFileSync(join(dir, 'server-metrics.prom'), 'utf8'), /^nv_inference_queue_duration_us\{model="efficientdet-d0",version="1"\} \d+/m);
    // SCENARIO=mix over v2: each stream sends its model's tensors to its own Triton model.
    const mix = await benchTriton(triton, { SCENARIO: 'mix', MIX: 'd0:2,d1:1', V2_MODELS: 'd0,d1', DURATION: '4s' });
    assert.equal(mix.r.code, 0, mix.r.stdout.slice(-3000) + mix.r.stderr.slice(-2000));
    const m = JSON.parse(readFileSync(join(mix.dir, 'summary.json'), 'utf8')) as Summary;
    assert.deepEqual(m.levels.map((l) => l.level), ['d0', 'd1']);
    assert.ok(m.levels.every((l) => l.requests > 0 && l.failed === 0), JSON.stringify(m.levels.map((l) => [l.level, l.requests, l.failed])));
    const mixChecks = m.thresholds.filter((t) => t.metric.startsWith('output_match'));
    assert.ok(mixChecks.length > 0 && mixChecks.every((t) => t.ok), JSON.stringify(mixChecks));
    const booked = (model: string) => successCount(join(mix.dir, 'server-metrics.prom'), model) - successCount(join(mix.dir, 'server-metrics.before.prom'), model);
    assert.ok(booked('d0') > booked('d1'), `Triton booked more d0 than d1 requests: ${booked('d0')} vs ${booked('d1')}`);
  }, 'd0,d1');
});

test('the in-run checks catch a Triton whose outputs differ from the reference (int8 weights behind the same model name)', { timeout: 900_000 }, async () => {
  // The same model name and tensors, another model file: Triton answers, but not with the baseline's detections.
  await ensureInt8Models();
  const modelsDir = tmp();
  symlinkSync(resolve('build/models/efficientdet-d0-int8.onnx'), join(modelsDir, 'efficientdet-d0.onnx'));
  const triton = await startTriton({ modelSet: 'instances', logFile: join(tmp(), 'triton.log'), readyTimeout_s: 240, env: { MODELS: 'd0', MODELS_DIR: modelsDir } });
  try {
    const { r, dir } = await benchTriton(triton, { V2_MODELS: 'd0', ACCURACY: '1' });
    // make exits 2 when its recipe fails; the bench's own exit is 99 (k6 thresholds).
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /exit 99 = k6 thresholds failed/, r.stdout.slice(-2000));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    assert.ok(summary.thresholds.some((t) => t.metric.startsWith('output_match') && !t.ok), JSON.stringify(summary.thresholds.map((t) => [t.metric, t.ok])));
  } finally {
    await stopTriton(triton);
  }
});

test('make report PEERS=triton: the Triton row beside ours in the same round, both servers\' split per request, the idle server\'s CPU time, every stack named', { timeout: 900_000 }, async () => {
  const root = tmp();
  const r = await runMake(['report'], {
    IMPL: 'baseline', PEERS: 'triton', TRITON_MODEL_SETS: 'instances', PROTOCOL: 'v2', V2_MODELS: 'd0', MODELS: 'd0',
    LEVELS: '1', DURATION: '3s', REPEATS: '1', ACCURACY: '0', HOST_BOUNDS: '0', RESULTS_ROOT: root,
  }, 800_000);
  assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
  const report = JSON.parse(readFileSync(join(root, 'report', 'latest', 'report.json'), 'utf8')) as Report;
  assert.deepEqual(report.impls, ['baseline', 'triton-instances']);
  assert.ok(report.speedups.some((s) => s.impl === 'triton-instances' && s.rounds.includes(1)), 'paired with the baseline of round 1');
  for (const impl of report.impls) {
    const side = report.server_side.find((x) => x.impl === impl);
    assert.ok(side && side.requests > 0 && side.compute_ms > 0 && side.compute_ms <= side.request_ms, `${impl}: ${JSON.stringify(side)}`);
  }
  // While one server is measured the other idles: it must take (almost) no CPU.
  const cpu = (measured: string) => report.servers_cpu.find((x) => x.measured === measured)!.cpu_s;
  assert.ok(cpu('baseline')['ours']! > 1 && cpu('baseline')['triton-instances']! < 0.5, JSON.stringify(report.servers_cpu));
  assert.ok(cpu('triton-instances')['triton-instances']! > 1 && cpu('triton-instances')['ours']! < 0.5, JSON.stringify(report.servers_cpu));
  assert.match(report.stacks!.find((s) => s.server === 'triton-instances')!.stack, /Triton Inference Server 2\.51\.0 .*onnxruntime 1\.30\.0/);
  assert.match(report.stacks!.find((s) => s.server === 'ours')!.stack, /onnxruntime-node 1\.30\.0/);
});

// make bench against a server that speaks ONLY the Open Inference Protocol (as Triton, KServe or
// MLServer do: no /health, no native API): a fake v2 server here, so the orchestrator's v2 readiness
// probe and k6's metadata gate are proven without models. A model whose input does not fit the
// prepared tensors is refused by setup() in one line naming the mismatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Summary } from '../../lib/summary.ts';
import { encodeInferResponse } from '../../server/http/v2-tensors.ts';
import { listen } from '../helpers/run.ts';
import { runBenchCli } from './bench-helpers.ts';

const DETECTIONS = ['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections'];

/** A v2-only server with efficientdet-d0 (input side `side`) version 1 answering zero detections. */
async function fakeV2(side: number) {
  const seen: string[] = [];
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    for await (const _ of req); // drain
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push(`${req.method} ${path} ${String(req.headers['inference-header-content-length'] ?? '')}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/v2/health/ready') return json(200, {});
    if (path === '/v2') return json(200, { name: 'fake-v2', version: '9.9', extensions: [] });
    if (path === '/v2/models/efficientdet-d0' || path === '/v2/models/efficientdet-d0/versions/1') {
      return json(200, {
        name: 'efficientdet-d0', versions: ['1'],
        inputs: [{ name: 'images', datatype: 'FP32', shape: [-1, 3, side, side] }],
        outputs: DETECTIONS.map((name) => ({ name, datatype: 'FP32', shape: name === 'detection_boxes' ? [-1, 100, 4] : name === 'num_detections' ? [-1] : [-1, 100] })),
      });
    }
    if (path === '/v2/models/efficientdet-d0/versions/1/infer' && req.method === 'POST') {
      const out = DETECTIONS.map((name) => ({ name, datatype: 'FP32' as const, shape: name === 'detection_boxes' ? [1, 100, 4] : name === 'num_detections' ? [1] : [1, 100], data: new Float32Array(name === 'detection_boxes' ? 400 : name === 'num_detections' ? 1 : 100) }));
      const { body, headerLength } = encodeInferResponse({ model_name: 'efficientdet-d0', model_version: '1' }, out, () => true);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(headerLength) });
      return res.end(body);
    }
    json(404, { error: `no ${path}` });
  };
  const { url, server } = await listen(handler);
  return { url: url.replace(/\/$/, ''), seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const common = { SCENARIO: 'smoke', PROTOCOL: 'v2', V2_MODELS: 'd0', IMPL: '1', SMOKE_REQUESTS: '2', WARMUP: '1', MAX_IMAGES: '2', TENSOR_IMAGES: '2' };

test('a v2-only target: ready over v2, metadata checked, binary tensors sent, no native API needed', async () => {
  const target = await fakeV2(512);
  try {
    const root = mkdtempSync(join(tmpdir(), 'v2-target-'));
    const r = await runBenchCli({ ...common, TARGET: target.url, RESULTS_ROOT: root, ACCURACY: '0' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = JSON.parse(readFileSync(join(root, readlinkSync(join(root, 'latest')), 'summary.json'), 'utf8')) as Summary;
    assert.equal(s.levels[0]!.requests, 2);
    const infers = target.seen.filter((l) => l.startsWith('POST /v2/models/efficientdet-d0/versions/1/infer '));
    assert.equal(infers.length, 3, target.seen.join('\n'));
    assert.ok(infers.every((l) => Number(l.split(' ')[2]) > 0), 'binary tensor data (Inference-Header-Content-Length) on every request');
    assert.ok(!target.seen.some((l) => l.includes('/infer/')), 'no native request');

    // With the output checks on, the replay (native API) is skipped and the in-run checks, run on the
    // returned tensors, fail the fake's empty answers.
    const checked = await runBenchCli({ ...common, TARGET: target.url, RESULTS_ROOT: root, ACCURACY: '1' });
    assert.equal(checked.code, 99, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /speaks only v2: the accuracy replay \(native API\) is skipped/);
    assert.match(checked.stdout, /threshold FAILED: output_match\{impl:1\}/);
  } finally {
    await target.close();
  }
});

test('a target whose model input does not fit the prepared tensors is refused in setup, naming the mismatch', async () => {
  const target = await fakeV2(640);
  try {
    const r = await runBenchCli({ ...common, TARGET: target.url, RESULTS_ROOT: mkdtempSync(join(tmpdir(), 'v2-target-')) });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /model efficientdet-d0 version 1: input images FP32 \[-1,3,640,640\] does not fit the prepared FP32 tensors \[N,3,512,512\]/);
    assert.ok(!target.seen.some((l) => l.startsWith('POST /v2/')), 'no load was sent');
  } finally {
    await target.close();
  }
});

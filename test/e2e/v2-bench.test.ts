// make bench over the Open Inference Protocol: the real k6 (PROTOCOL=v2) against the real server,
// in-run output checks on (reference of the first images). Pipeline for every implementation, and
// per-model prepared tensors for baseline; the invalid stub's answers fail the output checks over v2 too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { runMake } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'v2-bench-e2e-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const readSummary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
// Few images keep the reference and the replay short; the in-run checks compare every answer.
const common = { SCENARIO: 'smoke', PROTOCOL: 'v2', SMOKE_REQUESTS: '2', WARMUP: '1', MAX_IMAGES: '3', TENSOR_IMAGES: '3', HOST_BOUNDS: '0' };

test('V2_MODELS=d0,d1,d2 IMPL=baseline: per-model tensors pass with the output checks; invalid fails them', async () => {
  const root = tmp();
  const r = await runMake(['bench'], { ...common, V2_MODELS: 'd0,d1,d2', IMPL: 'baseline', RESULTS_ROOT: root }, 600_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = readSummary(latest(root));
  const matches = s.thresholds.filter((t) => t.metric.startsWith('output_match'));
  assert.ok(matches.length > 0 && matches.every((t) => t.ok), JSON.stringify(s.thresholds));
  // One request per model per iteration.
  assert.equal(s.levels[0]!.requests, 2 * 3);
  const server = readFileSync(join(latest(root), 'server-metrics.prom'), 'utf8');
  for (const m of ['d0', 'd1', 'd2']) assert.match(server, new RegExp(`nv_inference_count\\{impl="baseline",model="${m}"\\} [1-9]`));

  const bad = tmp();
  const r2 = await runMake(['bench'], { ...common, V2_MODELS: 'd0,d1,d2', IMPL: 'invalid', ACCURACY: '1', RESULTS_ROOT: bad }, 600_000);
  // make reports a failed recipe as 2; the bench says k6's 99.
  assert.notEqual(r2.code, 0, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /k6 exited 99 \(thresholds failed\)/);
  assert.match(r2.stdout, /threshold FAILED: output_match\{impl:invalid\}/);
  assert.ok(readSummary(latest(bad)).thresholds.filter((t) => !t.ok).every((t) => t.metric.startsWith('output_')), 'only the output checks fail');
});

test('V2_MODELS=pipeline IMPL=all: every implementation reachable over v2; the lossless ones pass the output checks, the invalid stub fails them', async () => {
  const root = tmp();
  const r = await runMake(['bench'], { ...common, V2_MODELS: 'pipeline', IMPL: 'all', RESULTS_ROOT: root }, 900_000);
  const s = readSummary(latest(root));
  const failed = s.thresholds.filter((t) => !t.ok);
  // The stub's empty answers fail its output checks (k6 exit 99). int8's output_match_min (0.75) is a
  // share over many images; on these first three its per-image bounds miss about a third of the answers
  // (over the native API alike: the v2 pipeline answers equal the native ones, test/integration/v2.test.ts),
  // so its match rate is not asserted here, only that its answers were checked. Nothing else may fail.
  assert.notEqual(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /k6 exited 99 \(thresholds failed\)/);
  assert.ok(failed.some((t) => t.metric === 'output_match{impl:invalid}'), JSON.stringify(failed));
  assert.ok(failed.every((t) => (t.metric.startsWith('output_') && t.metric.includes('impl:invalid')) || t.metric === 'output_match{impl:int8}'), JSON.stringify(failed));
  assert.ok(s.thresholds.some((t) => t.metric === 'output_boxes_mse{impl:int8,model:d2}' && t.ok), 'int8 answers were checked and within the per-response box bound');
  const impls = new Set(s.levels.map((l) => l.impl));
  for (const impl of ['baseline', 'invalid', 'stacked', 'concurrent', 'batched', 'int8']) assert.ok(impls.has(impl), `${impl} measured over v2`);
  for (const impl of ['baseline', 'stacked', 'concurrent', 'batched']) {
    assert.ok(s.thresholds.some((t) => t.metric === `output_match{impl:${impl}}` && t.ok), `${impl}: output checks ran and passed`);
  }
  assert.match(readFileSync(join(latest(root), 'server.log'), 'utf8'), /POST \/v2\/models\/pipeline\/versions\/int8\/infer 200/);
});

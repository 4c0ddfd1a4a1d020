// SCENARIO=overload end to end: the real k6 against the real server with a queue bound of 1, eight
// clients at once. The summary keeps refused requests out of the accepted figures: their own
// columns, their own (much shorter) latency, and the server's queue_full count agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { runBenchCli } from './bench-helpers.ts';

test('overload: accepted and refused requests reported apart; thresholds on accepted p99 and on time to refuse', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bench-overload-'));
  const r = await runBenchCli({ SCENARIO: 'overload', IMPL: 'baseline', VUS: '8', DURATION: '5s', WARMUP: '1', MODELS: 'd0', QUEUE_MAX_SIZE: '1', RESULTS_ROOT: root }, 300_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const dir = join(root, readlinkSync(join(root, 'latest')));
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  const row = s.levels[0]!;
  assert.equal(row.level, '8');
  assert.ok(row.requests > 0, `some accepted: ${JSON.stringify(row)}`);
  assert.ok(row.refused > 0, `some refused: ${JSON.stringify(row)}`);
  assert.equal(row.failed, 0);
  assert.equal(row.rps, Math.round((row.requests / row.duration_s) * 1000) / 1000, 'req/s counts accepted requests only');
  assert.ok(row.refused_ratio > 0 && row.refused_ratio < 1);
  // A refusal is answered at once, an accepted request runs D0 behind at most one other.
  assert.ok(row.refused_latency_ms!.p99 < row.latency_ms!.p50, `refusals faster than accepted answers: ${JSON.stringify(row)}`);
  for (const metric of ['http_req_duration{impl:baseline,level:8,phase:measure,status:503}', 'http_req_duration{expected_response:true,impl:baseline,level:8,phase:measure}', 'requests_failed{impl:baseline,phase:measure}']) {
    assert.ok(s.thresholds.some((t) => t.metric === metric && t.ok), `${metric} thresholded and passed: ${JSON.stringify(s.thresholds)}`);
  }
  // The server refused at least as many (the warm-up's refusals are not in the measured row).
  const prom = readFileSync(join(dir, 'server-metrics.prom'), 'utf8');
  const full = Number(/nv_inference_request_failure\{impl="baseline",status="503",reason="queue_full"\} (\d+)/.exec(prom)?.[1] ?? 0);
  assert.ok(full >= row.refused, `server queue_full ${full} >= measured refusals ${row.refused}`);
  assert.match(readFileSync(join(dir, 'summary.txt'), 'utf8'), /accepted .* refused  refused %  refuse p99 ms  failed/);
});

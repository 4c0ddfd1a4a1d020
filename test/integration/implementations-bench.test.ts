// batched under real concurrency, proven by the k6 in-run output checks: `make bench` with
// SCENARIO=concurrency4 IMPL=batched starts a server that loads only batched (IMPL), k6 compares every
// response with the baseline reference of the image it sent (output_match), and the server's /metrics
// show that batches of more than one request really ran (images inferred > session runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.ts';
import type { Summary } from '../../lib/summary.ts';
import type { AccuracyFile } from '../../tools/accuracy/replay.ts';

/** Sum of a Prometheus counter's samples for impl="batched", per model. */
function perModel(prom: string, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`^${metric}\\{impl="batched",model="(d\\d)"\\} (\\S+)$`, 'gm');
  for (const m of prom.matchAll(re)) out[m[1]!] = Number(m[2]);
  return out;
}

test('make bench SCENARIO=concurrency4 IMPL=batched: batches of > 1 form and every response matches its own reference', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batched-bench-'));
  const results = join(root, 'results');
  const r = await run('make', ['-s', 'bench'], {
    env: {
      SCENARIO: 'concurrency4', IMPL: 'batched', DURATION: '6s', WARMUP: '4', MAX_IMAGES: '4', CI: 'true', DASHBOARD: '0', HOST_BOUNDS: '0',
      // D0 only under load keeps the run short (a batch of 4 D2 images takes seconds on this CPU);
      // batches of D1 and D2 are checked in-process by implementations.test.ts.
      MODELS: 'd0',
      // Workers wait up to 100 ms for more requests, so the 4 VUs' requests share runs.
      BATCHER_MAX_BATCH: '4', BATCHER_MAX_DELAY: '100ms',
      RESULTS_ROOT: results, REFERENCE_DIR: join(root, 'reference'),
    },
    timeoutMs: 300_000,
  });
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  const runDir = join(results, readlinkSync(join(results, 'latest')));

  // In-run checks: the output_match threshold for batched exists, held, and rests on real samples.
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary;
  const match = summary.thresholds.find((t) => t.metric === 'output_match{impl:batched}');
  assert.ok(match, `an output_match threshold for batched: ${JSON.stringify(summary.thresholds)}`);
  assert.equal(match.ok, true);
  const rate = summary.metrics['output_match{impl:batched}'];
  assert.ok(rate && rate['rate'] === 1, `output_match rate 1: ${JSON.stringify(rate)}`);
  assert.ok((summary.levels[0]?.requests ?? 0) >= 8, `enough measured requests: ${JSON.stringify(summary.levels)}`);
  assert.ok((summary.metrics['output_match{impl:batched}']?.['passes'] ?? 0) >= 8, 'output_match rests on the measured responses');

  // Batches of more than one request ran: D0 images inferred exceed D0 session runs (the scrape comes
  // before the sequential replay, whose runs are single images anyway).
  const prom = readFileSync(join(runDir, 'server-metrics.prom'), 'utf8');
  const images = perModel(prom, 'nv_inference_count')['d0'] ?? 0;
  const execs = perModel(prom, 'nv_inference_exec_count')['d0'] ?? 0;
  assert.ok(execs > 0 && images / execs > 1.5, `d0: ${images} images in ${execs} runs`);
  const single = Number(/^nv_inference_exec_batch_size_bucket\{le="1",impl="batched",model="d0"\} (\S+)$/m.exec(prom)?.[1]);
  assert.ok(single < execs, `some D0 runs carried more than one image (${single} of ${execs} runs had 1)`);

  // The sequential accuracy replay after the run passed the lossless gates too.
  const accuracy = JSON.parse(readFileSync(join(runDir, 'accuracy.json'), 'utf8')) as AccuracyFile;
  assert.equal(accuracy.impls.batched!.passed, true);
  // The server loaded only what it served.
  assert.match(readFileSync(join(runDir, 'server.log'), 'utf8'), /IMPL=batched/);
});

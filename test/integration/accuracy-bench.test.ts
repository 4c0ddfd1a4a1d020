// The accuracy gate inside `make bench`: one smoke run of baseline and invalid against the real
// server (2 images). Baseline passes its gates, invalid breaks them, and make exits non-zero with a
// line naming the accuracy metric, its value and its bound. Results and reference go to a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.ts';
import type { AccuracyFile } from '../../tools/accuracy/replay.ts';

test('make bench IMPL=baseline,invalid: baseline passes, invalid fails the bench naming the accuracy metric', async () => {
  const root = mkdtempSync(join(tmpdir(), 'accuracy-bench-'));
  const r = await run('make', ['-s', 'bench'], {
    env: {
      SCENARIO: 'smoke', IMPL: 'baseline,invalid', MAX_IMAGES: '2', SMOKE_REQUESTS: '1', CI: 'true', DASHBOARD: '0',
      RESULTS_ROOT: join(root, 'results'), REFERENCE_DIR: join(root, 'reference'),
    },
    timeoutMs: 300_000,
  });
  const out = r.stdout + r.stderr;
  assert.notEqual(r.code, 0, out);
  assert.match(out, /accuracy d0 unmatched_ratio = 1, bound <= 0/);
  assert.match(out, /accuracy d2 labels_accuracy = 0, bound >= 1/);
  assert.match(out, /post-processing accuracy invalid FAILED/);
  assert.doesNotMatch(out, /post-processing accuracy baseline FAILED/);

  const runs = readdirSync(join(root, 'results')).filter((d) => d.includes('smoke'));
  assert.equal(runs.length, 1);
  const runDir = join(root, 'results', runs[0]!);
  const accuracy = JSON.parse(readFileSync(join(runDir, 'accuracy.json'), 'utf8')) as AccuracyFile;
  assert.equal(accuracy.impls.baseline!.passed, true);
  assert.equal(accuracy.impls.baseline!.overall.boxes_mse, 0);
  assert.ok(accuracy.impls.baseline!.overall.matched > 0);
  assert.equal(accuracy.impls.invalid!.passed, false);
  const summary = readFileSync(join(runDir, 'summary.txt'), 'utf8');
  assert.match(summary, /Accuracy of baseline .*PASSED/);
  assert.match(summary, /Accuracy of invalid .*FAILED/);
});

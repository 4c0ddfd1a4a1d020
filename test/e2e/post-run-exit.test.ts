// Exit codes when k6's thresholds hold but a post-processing gate fails, end to end through make on the
// real server: `make bench` exits 98, so does `make bench RUNNERS=2` (the gates run after the merge),
// and `make bench-merge` on that run folder exits 98 for the failed gate it keeps and 99 when a
// threshold breaks on the aggregate (99 first). The invalid implementation's empty answers are what the
// accuracy replay judges wrong; a BOUNDS_FILE turns off only the in-run output check (output_match_min
// 0), so k6's own thresholds hold. A few images and seconds of load: the point is the exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { runMake } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'post-run-exit-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const readSummary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
/** The baseline reference of the two images, built by the first bench that needs it (a cache, not an input). */
const REFERENCE_DIR = join(tmp(), 'reference');

/** invalid's in-run check accepts any answer; the replay keeps the exact aggregate bounds its empty answers break. */
function boundsFile(dir: string): string {
  const path = join(dir, 'bounds-over.json');
  writeFileSync(path, JSON.stringify({ accuracy: { impls: { invalid: { output_match_min: 0 } } } }));
  return path;
}

const common = (root: string) => ({ IMPL: 'invalid', ACCURACY: '1', MAX_IMAGES: '2', WARMUP: '2', HOST_BOUNDS: '0', RESULTS_ROOT: root, REFERENCE_DIR, BOUNDS_FILE: boundsFile(root) });

/** k6 passed, the accuracy gate failed: the folder says so, and junit has the gate's failure only. */
function assertGateFailedAlone(dir: string): Summary {
  const s = readSummary(dir);
  assert.equal(s.thresholds_ok, true, JSON.stringify(s.thresholds.filter((t) => !t.ok)));
  assert.deepEqual(s.postprocess.map((p) => [p.name, p.passed]), [['accuracy invalid', false]]);
  assert.ok(s.thresholds.some((t) => t.metric === 'output_match{impl:invalid}'), 'the in-run check ran (and could not fail)');
  const text = readFileSync(join(dir, 'summary.txt'), 'utf8');
  assert.match(text, /^thresholds: (\d+)\/\1 passed \(\d+ informational sub-metrics? not counted\)$/m);
  assert.match(text, /^post-processing accuracy invalid: FAILED$/m);
  const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
  assert.match(junit, /<testsuites name="bench" tests="\d+" failures="1">/);
  assert.match(junit, /<testcase classname="postprocess\.[^"]*" name="accuracy invalid"><failure /);
  return s;
}

test('make bench: k6 thresholds hold, the accuracy gate fails alone: exit 98', async () => {
  const root = tmp();
  const r = await runMake(['bench'], { ...common(root), SCENARIO: 'smoke', SMOKE_REQUESTS: '2' }, 600_000);
  const out = r.stdout + r.stderr;
  // make reports a failed recipe as 2; the bench names its own code.
  assert.equal(r.code, 2, out);
  assert.match(r.stderr, /Error 98/);
  assert.match(r.stdout, /k6 exited 0\n/);
  assert.match(r.stdout, /post-processing accuracy invalid FAILED: /);
  assert.match(r.stdout, /exit 98 = post-processing gate failed/);
  assert.doesNotMatch(r.stdout, /threshold FAILED/);
  assertGateFailedAlone(latest(root));
});

test('RUNNERS=2: the gate runs on the merged run and fails alone (exit 98); bench-merge keeps it (98) and puts a broken aggregate threshold first (99)', async () => {
  const root = tmp();
  const r = await runMake(['bench'], { ...common(root), SCENARIO: 'concurrency2', DURATION: '3s', RUNNERS: '2' }, 600_000);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /exit 98 = post-processing gate failed/);
  const dir = latest(root);
  assert.ok(existsSync(join(dir, 'runners.json')) && existsSync(join(dir, 'merge.json')), 'a merged run');
  const first = assertGateFailedAlone(dir);

  // Merged again from the same samples: the failed gate is kept from summary.json, k6's verdicts still hold.
  const again = await runMake(['bench-merge'], { SAMPLES_DIR: dir });
  assert.equal(again.code, 2, again.stdout + again.stderr);
  assert.match(again.stderr, /Error 98/);
  assert.match(again.stdout, /bench-merge: post-processing accuracy invalid FAILED \(kept from /);
  assert.doesNotMatch(again.stdout, /threshold FAILED/);
  assert.deepEqual(assertGateFailedAlone(dir).thresholds, first.thresholds);

  // A spec with a bound no run meets (a billion accepted requests): broken on the aggregate, exit 99.
  const spec = JSON.parse(readFileSync(join(dir, 'merge.json'), 'utf8')) as { thresholds: Record<string, (string | { threshold: string })[]> };
  const counted = Object.keys(spec.thresholds).find((k) => k.startsWith('http_reqs{') && k.includes('phase:measure'));
  assert.ok(counted, Object.keys(spec.thresholds).join(', '));
  spec.thresholds[counted].push('count>1000000000');
  const broken = join(root, 'merge-broken.json');
  writeFileSync(broken, JSON.stringify(spec));
  const r99 = await runMake(['bench-merge'], { SAMPLES_DIR: dir, MERGE_SPEC: broken });
  assert.equal(r99.code, 2, r99.stdout + r99.stderr);
  assert.match(r99.stderr, /Error 99/);
  assert.ok(r99.stdout.includes(`bench-merge: threshold FAILED on the aggregate: ${counted}: count>1000000000`), r99.stdout);
  const s = readSummary(dir);
  assert.equal(s.thresholds_ok, false);
  assert.deepEqual(s.thresholds.filter((t) => !t.ok).map((t) => t.expression), ['count>1000000000']);
  assert.match(readFileSync(join(dir, 'summary.txt'), 'utf8'), /^thresholds: (\d+)\/(\d+) passed \(\d+ informational sub-metrics? not counted\)$/m);
  assert.match(readFileSync(join(dir, 'junit.xml'), 'utf8'), /failures="2"/);
});

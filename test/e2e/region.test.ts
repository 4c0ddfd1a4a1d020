// make region and make interference end to end (real k6, real bench runs) against a fake one-worker
// target whose capacity is known: requests served one at a time, d0 in 20 ms, d2 in 100 ms. k6 spaces
// arrivals evenly, so below 10 req/s d2 alone never queues (8/s passes) and above it the queue grows by
// (rate - 10) a second: at 11.3/s a 2 s probe ends about 2.6 requests behind, a p99 over 250 ms. So the
// search must bracket d2's frontier in [8, 11.3]. Beside a growing d2 stream, d0's p99 must grow (it
// waits behind d2's 100 ms turns).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegionReport } from '../../tools/region/run.ts';
import type { InterferenceReport } from '../../tools/region/interference.ts';
import { fakeTarget, runMake } from './bench-helpers.ts';

const latest = (dir: string) => join(dir, readlinkSync(join(dir, 'latest')));

test('make region brackets a one-worker target\'s d2 frontier below its capacity, writes region.json/.txt/.svg and keeps every probe', { timeout: 300_000 }, async () => {
  const target = await fakeTarget({ serialMs: { d0: 20, d2: 100 } });
  try {
    const root = mkdtempSync(join(tmpdir(), 'region-e2e-'));
    // TARGET: the rows are that running server's implementations (here the fake's baseline).
    const r = await runMake(['region'], { TARGET: target.url, IMPL: 'baseline', REGION_DIRECTIONS: 'd2', REGION_SLO: 'd0:300,d2:250', REGION_START: '8', REGION_MAX: '32', REGION_PRECISION: '0.5', DURATION: '2s', WARMUP: '1', RESULTS_ROOT: root }, 300_000);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const dir = latest(join(root, 'region'));
    const report = JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8')) as RegionReport;
    const d = report.rows[0]!.directions[0]!;
    assert.equal(d.end, 'bracketed', JSON.stringify(d.steps));
    assert.ok(d.lo >= 8 && d.hi! <= 11.32 && d.hi! / d.lo <= 1.5 + 1e-9, `d2 alone: ${d.lo} .. ${d.hi}`);
    assert.ok(d.steps[0]!.pass && d.steps.some((s) => !s.pass && /d2 (p99 \d+ > 250 ms|missed)/.test(s.why)), JSON.stringify(d.steps));
    for (const p of d.probes) assert.ok(existsSync(join(p.runDir, 'summary.json')), p.runDir);
    assert.match(readFileSync(join(dir, 'region.txt'), 'utf8'), /^baseline \| d2:1 \| [\d.]+ \.\. [\d.]+ \|/m);
    assert.match(r.stdout, /region: probe 1 baseline d2:1 at 8 req\/s \(d2:8\): within/);
  } finally {
    await target.close();
  }
});

test('make interference: d0\'s p99 grows beside a growing d2 stream on a one-worker target; table and heat map written', { timeout: 300_000 }, async () => {
  const target = await fakeTarget({ serialMs: { d0: 20, d2: 100 } });
  try {
    const root = mkdtempSync(join(tmpdir(), 'interference-e2e-'));
    const r = await runMake(['interference'], { TARGET: target.url, IMPL: 'baseline', INTERFERENCE_MODELS: 'd0,d2', INTERFERENCE_LIGHT: '2', INTERFERENCE_RATES: '8', REGION_SLO: 'd0:1000,d2:1000', DURATION: '2s', WARMUP: '1', RESULTS_ROOT: root }, 300_000);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const dir = latest(join(root, 'interference'));
    const report = JSON.parse(readFileSync(join(dir, 'interference.json'), 'utf8')) as InterferenceReport;
    const d0 = report.rows[0]!.pairs.find((p) => p.victim === 'd0')!;
    // Alone d0 takes ~20 ms; beside d2 at 8/s (80 % of the worker) it waits behind d2's turns.
    assert.ok(d0.alone.p99_ms! < 60, `d0 alone p99 ${d0.alone.p99_ms}`);
    assert.ok(d0.steps[0]!.p99_ratio! > 2, `d0 beside d2: ${JSON.stringify(d0.steps[0]!.victim)}`);
    assert.match(readFileSync(join(dir, 'interference.svg'), 'utf8'), /<svg/);
    assert.match(readFileSync(join(dir, 'interference.txt'), 'utf8'), /^baseline \| d0 vs d2 \| \d+ \| \d+ \([\d.]+x; d2 [\d.]+\/s/m);
  } finally {
    await target.close();
  }
});

test('a row that cannot start is named in region.json and the table, the others are kept, and make region exits 1', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'region-fail-e2e-'));
  const r = await runMake(['region'], { IMPL: 'no-such-implementation', REGION_DIRECTIONS: 'd0', REGION_SLO: 'd0:300', DURATION: '1s', RESULTS_ROOT: root, READY_TIMEOUT: '30s' }, 120_000);
  assert.notEqual(r.code, 0, r.stdout.slice(-2000));
  const report = JSON.parse(readFileSync(join(latest(join(root, 'region')), 'region.json'), 'utf8')) as RegionReport;
  assert.deepEqual(report.failed.map((f) => f.row), ['no-such-implementation']);
  assert.match(report.failed[0]!.why, /server exited/);
  assert.match(readFileSync(join(latest(join(root, 'region')), 'region.txt'), 'utf8'), /^no-such-implementation: not measured: server exited/m);
});

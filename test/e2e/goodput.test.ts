// Goodput end to end (real k6, a fake target whose answers are late or wrong on cue): only answers
// accepted, on time (within goodput_latency_ms) and correct count, so goodput falls short of req/s by
// exactly the late and wrong answers; a goodput_min_rps the run cannot reach fails it with exit 99.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { fakeTarget, runBenchCli } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'goodput-e2e-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const read = (root: string, file: string) => readFileSync(join(latest(root), file), 'utf8');
const GOOD = 'requests_good{impl:baseline,level:2,phase:measure}';

test('late and wrong answers are accepted but not good: goodput = the 40 fast, right answers over the measured seconds', async () => {
  // 2 warm-up requests, then 10 late (250 ms > the 150 ms SLO), 40 fast and right, then every answer wrong.
  const target = await fakeTarget({ slowFirst: 12, slowMs: 250, fastMs: 5, wrong: 'no-models', wrongAfter: 52 });
  try {
    const root = tmp();
    const bounds = join(root, 'bounds-over.json');
    writeFileSync(bounds, JSON.stringify({ slo: { '*': { '*': { goodput_latency_ms: 150 } } } }));
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency2', IMPL: 'baseline', DURATION: '3s', WARMUP: '2', RESULTS_ROOT: root, BOUNDS_FILE: bounds });
    // The wrong answers fail `checks` (their own verdict); goodput itself is informational here.
    assert.equal(r.code, 99, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const s = JSON.parse(read(root, 'summary.json')) as Summary;
    const row = s.levels[0]!;
    assert.ok(row.requests > 60, `enough answers past the good ones: ${row.requests}`);
    assert.equal(row.good, 40, JSON.stringify({ warmup: s.warmup.requests, received: target.received.length, row }));
    assert.equal(row.goodput_rps, Math.round((40 / 3) * 1000) / 1000);
    assert.equal(row.good_ratio, Math.round((40 / row.requests) * 1000) / 1000);
    assert.ok(row.goodput_rps! < row.rps);
    assert.equal(row.outputs_judged, false);
    const t = s.thresholds.find((x) => x.metric === GOOD)!;
    assert.deepEqual([t.expression, t.ok, t.informational], ['count>=0', true, true]);
    const text = read(root, 'summary.txt');
    assert.match(text, new RegExp(`^baseline\\s+2\\s+${row.requests}\\s+${row.rps}\\s+${row.goodput_rps} \\(${Math.round(row.good_ratio! * 1000) / 10}\\)\\s`, 'm'));
    assert.match(text, /no REFERENCE: outputs not judged, correct = protocol checks$/m);
  } finally {
    await target.close();
  }
});

test('goodput_min_rps above what the run reaches fails the build with exit 99, naming requests_good', async () => {
  // Every measured answer late (60 ms > 40 ms SLO) but right: req/s and every other bound hold, goodput is 0.
  const target = await fakeTarget({ slowFirst: 1_000_000, slowMs: 60 });
  try {
    const root = tmp();
    const bounds = join(root, 'bounds-over.json');
    writeFileSync(bounds, JSON.stringify({ slo: { '*': { '*': { goodput_latency_ms: 40, goodput_min_rps: 5 } } } }));
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency2', IMPL: 'baseline', DURATION: '2s', WARMUP: '2', RESULTS_ROOT: root, BOUNDS_FILE: bounds });
    assert.equal(r.code, 99, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const s = JSON.parse(read(root, 'summary.json')) as Summary;
    assert.deepEqual(s.thresholds.filter((t) => !t.ok).map((t) => `${t.metric}: ${t.expression}`), [`${GOOD}: count>=10`]);
    assert.deepEqual([s.levels[0]!.good, s.levels[0]!.goodput_rps], [0, 0]);
    assert.ok(s.levels[0]!.rps > 0);
    assert.match(read(root, 'summary.txt'), /^ {2}FAIL requests_good\{impl:baseline,level:2,phase:measure\}: count>=10$/m);
  } finally {
    await target.close();
  }
});

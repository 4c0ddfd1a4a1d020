// SCENARIO=mix end to end: one stream per model, each its own k6 scenario and level (tagged with its
// model), its own rows and thresholds. A fake target slow for one model only breaks that model's
// bound alone: exit 99 naming it while the other model's bound holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { fakeTarget, runBenchCli } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'mix-e2e-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));

test('a mix whose d2 stream is slow: d2 breaks its own p99 bound (exit 99, named), d0 holds its own; each stream sends its model at its rate', async () => {
  const target = await fakeTarget({ fastMs: 5, modelMs: { d2: 300 } });
  try {
    const root = tmp();
    const bounds = join(root, 'bounds.json');
    writeFileSync(bounds, JSON.stringify({ slo: { mix: { '*': { models: { d0: { p99_ms: 150 }, d2: { p99_ms: 200 } } } } } }));
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'mix', MIX: 'd0:20,d2:5', IMPL: 'baseline', DURATION: '3s', WARMUP: '2', RESULTS_ROOT: root, BOUNDS_FILE: bounds, HOST_BOUNDS: '0' });
    assert.equal(r.code, 99, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    assert.match(r.stdout, /threshold FAILED: http_req_duration\{expected_response:true,impl:baseline,level:d2,phase:measure\}: p\(99\)<200/);
    assert.doesNotMatch(r.stdout, /threshold FAILED: [^\n]*level:d0/);
    const s = JSON.parse(readFileSync(join(latest(root), 'summary.json'), 'utf8')) as Summary;
    assert.deepEqual(s.levels.map((l) => l.level), ['d0', 'd2']);
    const [d0, d2] = s.levels;
    // Open loop: each stream at its own rate (20/s and 5/s for 3 s), none dropped on a fast target.
    assert.ok(Math.abs(d0!.requests - 60) <= 2, `d0: ${d0!.requests} of 60`);
    assert.ok(Math.abs(d2!.requests - 15) <= 2, `d2: ${d2!.requests} of 15`);
    assert.ok(d0!.latency_ms!.p50 < 100 && d2!.latency_ms!.p50 >= 300, `p50 d0 ${d0!.latency_ms!.p50}, d2 ${d2!.latency_ms!.p50}`);
    // Every measured request asked for its stream's model only.
    const measured = target.received.slice(2);
    assert.deepEqual([...new Set(measured.map((q) => q.models))].sort(), ['d0', 'd2']);
    const t = (level: string) => s.thresholds.find((x) => x.metric === `http_req_duration{expected_response:true,impl:baseline,level:${level},phase:measure}`)!;
    assert.deepEqual([t('d0').expression, t('d0').ok], ['p(99)<150', true]);
    assert.deepEqual([t('d2').expression, t('d2').ok], ['p(99)<200', false]);
    assert.match(readFileSync(join(latest(root), 'summary.txt'), 'utf8'), /^baseline\s+d2\s+\d+/m);
    // The dashboard's Streams tab: the configuration k6 ran with, a section per stream.
    const dash = JSON.parse(readFileSync(join(latest(root), 'dashboard-config.json'), 'utf8')) as { tabs: { title: string; sections: { title: string }[] }[] };
    assert.deepEqual(dash.tabs.find((t) => t.title === 'Streams')?.sections.map((x) => x.title), ['stream d0', 'stream d2']);
    assert.ok(existsSync(join(latest(root), 'dashboard.html')), 'the HTML export, written with that configuration');
  } finally {
    await target.close();
  }
});

test('MIX_LOOP=closed: each stream its own VUs, one model per request; bad MIX values stop with one line', async () => {
  const target = await fakeTarget({ fastMs: 20 });
  try {
    const root = tmp();
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'mix', MIX: 'd1:2,d0:1', MIX_LOOP: 'closed', IMPL: 'baseline', DURATION: '2s', WARMUP: '2', RESULTS_ROOT: root, HOST_BOUNDS: '0' });
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const s = JSON.parse(readFileSync(join(latest(root), 'summary.json'), 'utf8')) as Summary;
    const by = Object.fromEntries(s.levels.map((l) => [l.level, l.requests]));
    // 2 VUs against 1 at about 20 ms a request: d1 gets about twice d0's requests.
    assert.ok(by['d1']! > 1.5 * by['d0']!, JSON.stringify(by));
    const bad = await runBenchCli({ TARGET: target.url, SCENARIO: 'mix', MIX: 'd0:2,d0:1', RESULTS_ROOT: tmp() });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr + bad.stdout, /MIX=d0:2,d0:1 is not valid: expected a comma list of model:number, each model once/);
  } finally {
    await target.close();
  }
});

test('the real server: a two-model mix on concurrent gives a row per model at its rate, output checks and the replay passing', async () => {
  const root = tmp();
  const r = await runBenchCli({ SCENARIO: 'mix', MIX: 'd0:2,d1:1', IMPL: 'concurrent', DURATION: '6s', WARMUP: '2', MAX_IMAGES: '4', ACCURACY: '1', RESULTS_ROOT: root }, 300_000);
  assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
  const s = JSON.parse(readFileSync(join(latest(root), 'summary.json'), 'utf8')) as Summary;
  const by = Object.fromEntries(s.levels.map((l) => [l.level, l]));
  // Open loop: the rates are the mix's, within what a 6 s window of even arrivals allows.
  assert.ok(Math.abs(by['d0']!.requests - 12) <= 2 && Math.abs(by['d1']!.requests - 6) <= 1, `d0 ${by['d0']!.requests} of 12, d1 ${by['d1']!.requests} of 6`);
  const checks = s.thresholds.filter((t) => t.metric.startsWith('output_match'));
  assert.ok(checks.length > 0 && checks.every((t) => t.ok), JSON.stringify(checks));
  assert.ok(s.postprocess.some((p) => p.name.startsWith('accuracy') && p.passed), JSON.stringify(s.postprocess.map((p) => [p.name, p.passed])));
});

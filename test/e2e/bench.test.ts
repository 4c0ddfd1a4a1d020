// make bench end to end: the real k6 against the real server (smoke, impossible bound), and against
// a fake target where server behaviour must be controlled (warm-up exclusion, batch, dataset dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { fakeTarget, runBenchCli, runMake, type WrongAnswer } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bench-e2e-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const readSummary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
const boundsFile = (dir: string, over: unknown) => {
  const path = join(dir, 'bounds.json');
  writeFileSync(path, JSON.stringify(over));
  return path;
};

test('warm-up requests are excluded from the measured metrics and thresholds', async () => {
  // The first WARMUP requests take 400 ms, later ones ~2 ms; a p99 < 300 ms bound holds only
  // if the warm-up is kept out of the measured figures.
  const warmup = 10;
  const target = await fakeTarget({ slowFirst: warmup, slowMs: 400, fastMs: 2 });
  try {
    const root = tmp();
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency2', IMPL: 'baseline', DURATION: '2s', WARMUP: String(warmup), RESULTS_ROOT: root, BOUNDS_FILE: boundsFile(root, { slo: { '*': { '*': { p99_ms: 300 } } } }) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = readSummary(latest(root));
    assert.equal(s.warmup.requests, warmup);
    assert.ok(s.warmup.latency_ms!.min >= 400, `warm-up requests were the slow ones: ${JSON.stringify(s.warmup)}`);
    const row = s.levels[0]!;
    assert.ok(row.requests > 0);
    assert.ok(row.latency_ms!.max < 400, `no slow request among the measured ones: ${JSON.stringify(row)}`);
    // Every request the server saw is either warm-up or measured, never both.
    assert.equal(target.received.length, warmup + row.requests);
    assert.ok(s.thresholds.some((t) => t.metric === 'http_req_duration{expected_response:true,impl:baseline,level:2,phase:measure}' && t.expression === 'p(99)<300' && t.ok));
  } finally {
    await target.close();
  }
});

test('batch sends several images per multipart request and reports images/s; DATASET_DIR + MAX_IMAGES pick the images', async () => {
  const target = await fakeTarget({ fastMs: 2 });
  try {
    const root = tmp();
    const images = join(root, 'images');
    mkdirSync(images);
    const synthetic = join('build', 'data', 'synthetic');
    for (const f of readdirSync(synthetic).filter((f) => f.endsWith('.jpg')).slice(0, 5)) copyFileSync(join(synthetic, f), join(images, f));
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'batch', IMPL: 'baseline', BATCHES: '1,4', DURATION: '1s', LEVEL_GAP: '500ms', WARMUP: '2', RESULTS_ROOT: root, DATASET_DIR: images, MAX_IMAGES: '3' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = readSummary(latest(root));
    const four = s.levels.find((l) => l.level === '4')!;
    assert.equal(four.images_per_request, 4);
    assert.equal(four.images_per_s, Math.round(four.rps * 4 * 1000) / 1000);
    assert.ok(target.received.some((q) => q.ids.length === 4), 'a request carried 4 image ids');
    const ids = new Set(target.received.flatMap((q) => q.ids));
    assert.equal(ids.size, 3, `MAX_IMAGES=3 limits the images sent: ${[...ids].join(',')}`);
    assert.ok(s.postprocess.some((p) => p.name === 'batch images/s'));
  } finally {
    await target.close();
  }
});

test('make bench SCENARIO=smoke IMPL=baseline passes and writes every results file with valid content', async () => {
  const root = tmp();
  const r = await runMake(['bench'], { SCENARIO: 'smoke', IMPL: 'baseline', ACCURACY: '0', HOST_BOUNDS: '0', RESULTS_ROOT: root });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /bench: start server and wait until ready \(/, 'one progress line per step, with its duration');
  const dir = latest(root);
  const s = readSummary(dir);
  assert.equal(s.thresholds_ok, true);
  assert.equal(s.levels[0]!.requests, 3);
  assert.ok(s.levels[0]!.latency_ms!.p99 > 0);
  const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
  // One case per bound that can fail; the informational ones (count>=0, max>=0, ...) only expose sub-metrics.
  const verdicts = s.thresholds.filter((t) => !t.informational);
  const informational = s.thresholds.length - verdicts.length;
  assert.ok(informational > 0 && verdicts.length > 0, JSON.stringify(s.thresholds));
  assert.equal((junit.match(/<testcase /g) ?? []).length, verdicts.length + s.postprocess.length, 'one test case per threshold that can fail');
  assert.equal((junit.match(/<failure /g) ?? []).length, 0);
  assert.match(readFileSync(join(dir, 'summary.txt'), 'utf8'), new RegExp(`^thresholds: ${verdicts.length}/${verdicts.length} passed \\(${informational} informational sub-metrics not counted\\)$`, 'm'));
  const html = readFileSync(join(dir, 'dashboard.html'), 'utf8');
  assert.match(html.slice(0, 200).toLowerCase(), /<!doctype html>/);
  assert.ok(html.length > 1000, 'non-empty HTML page');
  assert.match(readFileSync(join(dir, 'server-metrics.prom'), 'utf8'), /^# (HELP|TYPE) /m);
  assert.match(readFileSync(join(dir, 'server-metrics.before.prom'), 'utf8'), /^# (HELP|TYPE) /m);
  const memory = JSON.parse(readFileSync(join(dir, 'memory.json'), 'utf8'));
  assert.ok(memory.after.used_mb > 0 && Array.isArray(memory.samples));
  const env = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8'));
  assert.ok(env.cpu.model && env.cpu.cores > 0);
  assert.match(env.k6, /v2\./);
  assert.match(env.node, /^v\d+/);
  assert.match(env.onnxruntime_node, /^\d+\.\d+/);
  assert.equal(env.ep, 'cpu');
  assert.match(env.git.sha, /^[0-9a-f]{40}$|unknown/);
  assert.match(env.command.make, /make bench .*SCENARIO=smoke/);
  assert.ok(existsSync(join(dir, 'server.log')));
});

test('wrong answers fail the checks threshold, each shape under its own check; k6 exits 99', async () => {
  // Each shape spoils one of the four checks of every measured answer (which one: test/unit/answer-check.test.ts).
  for (const wrong of ['other-implementation', 'swapped-ids', 'no-models', 'scores-missing'] as WrongAnswer[]) {
    const warmup = 4;
    const target = await fakeTarget({ fastMs: 2, wrong, wrongAfter: warmup });
    try {
      const root = tmp();
      const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency1', IMPL: 'baseline', DURATION: '1s', WARMUP: String(warmup), RESULTS_ROOT: root });
      assert.notEqual(r.code, 0, `${wrong}: ${r.stdout}`);
      assert.match(r.stdout, /k6 exited 99 \(thresholds failed\)/, wrong);
      assert.match(r.stdout, /threshold FAILED: checks\{impl:baseline,phase:measure\}/, wrong);
      const s = readSummary(latest(root));
      assert.equal(s.thresholds_ok, false, wrong);
      const checks = s.metrics['checks{impl:baseline,phase:measure}']!;
      assert.ok(checks['passes']! > 0, wrong);
      assert.equal(checks['rate'], 0.75, `${wrong}: one check of four fails on every measured answer: ${JSON.stringify(checks)}`);
    } finally {
      await target.close();
    }
  }
});

test('an impossible bound in BOUNDS_FILE makes make bench exit non-zero with k6 exit 99', async () => {
  const root = tmp();
  const r = await runMake(['bench'], { SCENARIO: 'smoke', IMPL: 'invalid', SMOKE_REQUESTS: '2', ACCURACY: '0', HOST_BOUNDS: '0', RESULTS_ROOT: root, BOUNDS_FILE: boundsFile(root, { slo: { smoke: { invalid: { p99_ms: 0.001 } } } }) });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /k6 exited 99 \(thresholds failed\)/);
  assert.match(r.stdout, /threshold FAILED: http_req_duration\{expected_response:true,impl:invalid,level:1,phase:measure\}: p\(99\)<0\.001/);
  const s = readSummary(latest(root));
  assert.equal(s.thresholds_ok, false);
  assert.match(readFileSync(join(latest(root), 'junit.xml'), 'utf8'), /<failure message="threshold p\(99\)&lt;0.001/);
});

test('CPU_PLACEMENT=split pins the server the bench starts and k6 to disjoint cores, and env.json says where', { skip: availableParallelism() < 2 ? 'needs 2 cores' : false }, async () => {
  const root = tmp();
  const r = await runBenchCli({ SCENARIO: 'smoke', IMPL: 'invalid', SMOKE_REQUESTS: '2', ACCURACY: '0', HOST_BOUNDS: '0', RESULTS_ROOT: root, CPU_PLACEMENT: 'split' });
  assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr.slice(-2000));
  assert.match(r.stdout, /CPU placement split: server on CPU 0(-\d+)?, load generator on CPU \d+/);
  const env = JSON.parse(readFileSync(join(latest(root), 'env.json'), 'utf8')) as { cpu_placement: { mode: string; server_cpus: string; loadgen_cpus: string; cores: number } };
  assert.equal(env.cpu_placement.mode, 'split');
  assert.ok(env.cpu_placement.server_cpus && env.cpu_placement.loadgen_cpus && env.cpu_placement.server_cpus !== env.cpu_placement.loadgen_cpus, JSON.stringify(env.cpu_placement));
});

test('bad knobs stop the bench with one line naming the variable and the fix', async () => {
  const r = await runBenchCli({ SCENARIO: 'concurrency3' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /SCENARIO=concurrency3 is not valid: expected one of concurrency1, concurrency2/);
  const target = await fakeTarget();
  try {
    const r2 = await runBenchCli({ TARGET: target.url, SCENARIO: 'smoke', IMPL: 'nope', RESULTS_ROOT: tmp() });
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /IMPL=nope is not served by .*: expected one of baseline, invalid/);
  } finally {
    await target.close();
  }
});

test('soak: memory growth counts from the end of the warm-up, not from before it', async () => {
  // The warm-up allocates 500 MB (arenas, caches), then memory stays flat: no growth under load. Counted
  // from the first sample (before the warm-up) it would be 500 MB, over the 256 MB bound.
  const target = await fakeTarget({ fastMs: 5, memoryMb: (n) => 100 + Math.min(n, 2) * 250 });
  try {
    const root = tmp();
    const r = await runBenchCli({ TARGET: target.url, IMPL: 'baseline', RESULTS_ROOT: root, SCENARIO: 'soak', VUS: '2', DURATION: '2s', WARMUP: '2', MEMORY_INTERVAL: '200ms' });
    assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr.slice(-2000));
    assert.deepEqual(target.resets.at(-1), { window: 'measure', afterRequests: 2 }, 'k6 marks the window after the 2 warm-up requests');
    const growth = readSummary(latest(root)).postprocess.find((p) => p.name === 'memory growth');
    assert.ok(growth?.passed, JSON.stringify(growth));
    assert.match(growth.lines[0]!, /600 MB -> 600 MB after the warm-up.*growth 0 MB, bound <= 256 MB/);
    const samples = (JSON.parse(readFileSync(join(latest(root), 'memory.json'), 'utf8')) as { samples: { used_mb: number }[] }).samples;
    assert.ok(samples.length >= 3 && samples[0]!.used_mb === 100, 'memory sampled over time, from before the warm-up');
  } finally {
    await target.close();
  }
});

test('sweep, rate, capacity and coldstart run end to end with their own figures', async () => {
  const target = await fakeTarget({ fastMs: 5 });
  try {
    const cases: { env: Record<string, string>; levels: string[]; check?: (s: Summary) => void }[] = [
      { env: { SCENARIO: 'sweep', LEVELS: '1,2', DURATION: '1s', LEVEL_GAP: '500ms', WARMUP: '2' }, levels: ['1', '2'] },
      { env: { SCENARIO: 'rate', RATE: '10', DURATION: '2s', WARMUP: '2' }, levels: ['10'], check: (s) => assert.ok(s.thresholds.some((t) => t.metric === 'dropped_iterations' && t.ok)) },
      { env: { SCENARIO: 'capacity', RATES: '4,8', STEP: '1s', WARMUP: '2' }, levels: ['4', '8'], check: (s) => assert.equal(s.capacity?.max_rps_under_slo, 8) },
      { env: { SCENARIO: 'coldstart', REQUESTS: '3' }, levels: ['first', 'warm'], check: (s) => assert.equal(s.levels[0]!.requests, 1) },
    ];
    for (const c of cases) {
      const root = tmp();
      const r = await runBenchCli({ TARGET: target.url, IMPL: 'baseline', RESULTS_ROOT: root, ...c.env });
      assert.equal(r.code, 0, `${c.env['SCENARIO']}: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
      const s = readSummary(latest(root));
      assert.deepEqual(s.levels.map((l) => l.level), c.levels, c.env['SCENARIO']);
      assert.ok(s.levels.every((l) => l.requests > 0), `${c.env['SCENARIO']}: every level measured`);
      c.check?.(s);
    }
  } finally {
    await target.close();
  }
});

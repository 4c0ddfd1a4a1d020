// make bench RUNNERS=N end to end: N real k6 processes with execution segments against a fake
// target, their samples merged into one summary and one verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poissonScheduled } from '../../lib/arrivals.ts';
import type { Summary } from '../../lib/summary.ts';
import type { RunnerRecord } from '../../tools/scale-out/runners.ts';
import { fakeTarget, runBenchCli, runMake, type FakeTarget } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'runners-e2e-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const readSummary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
const readRunners = (dir: string) => JSON.parse(readFileSync(join(dir, 'runners.json'), 'utf8')) as { count: number; runners: RunnerRecord[]; merge: { ms: number; input_bytes: number } | null };
const boundsFile = (dir: string, over: unknown) => {
  const path = join(dir, 'bounds-over.json');
  writeFileSync(path, JSON.stringify(over));
  return path;
};

interface Measured {
  summary: Summary;
  dir: string;
  target: FakeTarget;
}

async function bench(runners: number, env: Record<string, string>, targetOpts: Parameters<typeof fakeTarget>[0] = { fastMs: 20 }): Promise<Measured> {
  const target = await fakeTarget(targetOpts);
  try {
    const root = tmp();
    const r = await runBenchCli({ TARGET: target.url, IMPL: 'baseline', RESULTS_ROOT: root, RUNNERS: String(runners), ...env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return { summary: readSummary(latest(root)), dir: latest(root), target };
  } finally {
    await target.close();
  }
}

function assertRunnersAddUp(m: Measured, runners: number, warmup: number): void {
  const row = m.summary.levels[0]!;
  const rec = readRunners(m.dir);
  assert.equal(rec.runners.length, runners);
  for (const r of rec.runners) {
    assert.equal(r.status, 'passed', JSON.stringify(r));
    assert.ok(r.requests! > 0, `runner ${r.index} measured requests`);
    assert.ok(existsSync(join(m.dir, 'runners', String(r.index), 'summary.json')), 'each runner keeps its own summary');
  }
  assert.equal(rec.runners.reduce((a, r) => a + r.requests!, 0), row.requests, 'the runners request counts sum to the merged total');
  // Every request the target saw is a warm-up one or a measured one, once.
  assert.equal(m.target.received.length, warmup + row.requests);
  assert.deepEqual([...new Set(m.target.received.map((q) => q.runner))].sort(), Array.from({ length: runners }, (_, i) => String(i)), 'every runner sent requests, naming itself');
  // setup() runs in every runner; their warm-up shares add up to WARMUP.
  assert.equal(m.summary.warmup.requests, warmup);
}

test('closed loop: RUNNERS=1 and RUNNERS=4 agree (counts add up, same warm-up, p50/p99 within noise, same summary shape)', async () => {
  const env = { SCENARIO: 'concurrency4', DURATION: '3s', WARMUP: '8' };
  const one = await bench(1, env);
  const four = await bench(4, env);
  assertRunnersAddUp(four, 4, 8);
  assert.equal(one.summary.warmup.requests, 8);
  assert.ok(!existsSync(join(one.dir, 'runners.json')), 'RUNNERS=1 is the plain single run');
  const [a, b] = [one.summary.levels[0]!, four.summary.levels[0]!];
  // 4 VUs against a 20 ms target: about 4/20ms = 200 req/s either way.
  assert.ok(Math.abs(a.rps - b.rps) / a.rps < 0.3, `req/s ${a.rps} (1 runner) vs ${b.rps} (4 runners)`);
  assert.ok(Math.abs(a.latency_ms!.p50 - b.latency_ms!.p50) < 10, `p50 ${a.latency_ms!.p50} vs ${b.latency_ms!.p50}`);
  assert.ok(b.latency_ms!.p99 < 20 + 3 * a.latency_ms!.p99 && a.latency_ms!.p99 < 20 + 3 * b.latency_ms!.p99, `p99 ${a.latency_ms!.p99} vs ${b.latency_ms!.p99}`);
  assert.deepEqual(Object.keys(four.summary.metrics).sort(), Object.keys(one.summary.metrics).sort(), 'the merged summary has the single run shape');
  assert.deepEqual(four.summary.thresholds.map((t) => `${t.metric}: ${t.expression}`), one.summary.thresholds.map((t) => `${t.metric}: ${t.expression}`), 'every declared threshold is judged on the aggregate');
  assert.ok(four.summary.thresholds_ok);
  // The merged samples go through the same buildSummary: n, the 95 % intervals (from the grid the
  // spec's summaryTrendStats lists), the decisions and the validity, as a single run has them.
  assert.equal(b.latency_ms!.n, b.requests);
  assert.deepEqual(Object.keys(b.latency_ms!.intervals!), Object.keys(a.latency_ms!.intervals!));
  assert.ok(b.latency_ms!.intervals!.p50!.lower! <= b.latency_ms!.p50 && b.latency_ms!.p50 <= b.latency_ms!.intervals!.p50!.upper!, JSON.stringify(b.latency_ms));
  assert.deepEqual(four.summary.thresholds.filter((t) => t.decision).map((t) => t.expression), one.summary.thresholds.filter((t) => t.decision).map((t) => t.expression), 'the same latency bounds decided');
  assert.equal(b.validity!.verdict, a.validity!.verdict);
  assert.match(readFileSync(join(four.dir, 'summary.txt'), 'utf8'), /thresholds: \d+\/\d+ passed/);
  assert.match(readFileSync(join(four.dir, 'junit.xml'), 'utf8'), /<testsuites name="bench"/);
  assert.match(readFileSync(join(four.dir, 'dashboard.html'), 'utf8'), /runner 3/, 'the run dashboard names every runner dashboard');
  const rec = readRunners(four.dir);
  assert.ok(rec.runners.every((r) => typeof r.cpu_s === 'number' && r.cpu_s > 0), `k6 CPU per runner: ${rec.runners.map((r) => r.cpu_s).join(', ')}`);
  assert.ok(rec.merge!.input_bytes > 0 && rec.merge!.ms >= 0);

  // make bench-merge on the run folder merges the same files into the same figures.
  const again = await runMake(['bench-merge'], { SAMPLES_DIR: four.dir });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const remerged = readSummary(four.dir);
  assert.deepEqual(remerged.levels, four.summary.levels);
  assert.deepEqual(remerged.thresholds, four.summary.thresholds);
  assert.deepEqual(remerged.warmup, four.summary.warmup);
});

test('arrival rate: RUNNERS=4 sends the configured rate in total, as RUNNERS=1 does', async () => {
  const env = { SCENARIO: 'rate', RATE: '20', DURATION: '3s', WARMUP: '4' };
  const one = await bench(1, env, { fastMs: 10 });
  const four = await bench(4, env, { fastMs: 10 });
  assertRunnersAddUp(four, 4, 4);
  for (const m of [one, four]) {
    const row = m.summary.levels[0]!;
    assert.ok(Math.abs(row.requests - 60) <= 2, `20/s for 3 s = 60 requests, got ${row.requests}`);
    assert.equal(m.summary.dropped_iterations, 0);
  }
  // Each runner took a quarter of the rate.
  for (const r of readRunners(four.dir).runners) assert.ok(Math.abs(r.requests! - 15) <= 2, `runner ${r.index}: ${r.requests} requests`);
});

test('ARRIVALS=poisson: RUNNERS=2 splits the scheduler lanes and fires the same seeded arrivals as RUNNERS=1', async () => {
  // 120/s is 3 lanes of 40/s (LANE_RATE 50): runner 0 gets some lanes, runner 1 the others.
  const env = { SCENARIO: 'rate', ARRIVALS: 'poisson', RATE: '120', DURATION: '2s', WARMUP: '2' };
  const expected = poissonScheduled(120, 2, 3, 0);
  const one = await bench(1, env, { fastMs: 5 });
  const two = await bench(2, env, { fastMs: 5 });
  assertRunnersAddUp(two, 2, 2);
  for (const m of [one, two]) {
    const row = m.summary.levels[0]!;
    assert.equal(row.scheduled, expected, 'the arrivals the seeded lanes drew');
    assert.equal(row.requests, expected, `every drawn arrival sent and answered once (${m === one ? 1 : 2} runner(s))`);
  }
});

test('a target slow only for one runner: that runner alone fails, the other runners pass their own p99, the aggregate p99 fails and make bench exits 99 naming it', async () => {
  // Runner 3's requests take 400 ms, everyone else's 50 ms; p99 bound 200 ms. The three fast VUs
  // send about 180 requests in 3 s, the slow one about 7: 4% of the total, so the aggregate p99 is slow.
  const target = await fakeTarget({ fastMs: 50, runnerMs: { '3': 400 } });
  try {
    const root = tmp();
    const r = await runMake(['bench'], { TARGET: target.url, SCENARIO: 'concurrency4', IMPL: 'baseline', DURATION: '3s', WARMUP: '4', RUNNERS: '4', ACCURACY: '0', HOST_BOUNDS: '0', RESULTS_ROOT: root, BOUNDS_FILE: boundsFile(root, { slo: { '*': { '*': { p99_ms: 200 } } } }) });
    assert.equal(r.code, 2, `make reports the recipe's failure (bench exit 99): ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /exit 99 = k6 thresholds failed/);
    // k6 inspect gives the declared selectors with their tags sorted: match the tags, not their order.
    assert.match(r.stdout, /threshold FAILED: http_req_duration\{(?=[^}]*impl:baseline)(?=[^}]*level:4)(?=[^}]*phase:measure)(?=[^}]*expected_response:true)[^}]*\}: p\(99\)<200/);
    const dir = latest(root);
    const runners = readRunners(dir).runners;
    for (const i of [0, 1, 2]) assert.deepEqual(runners[i]!.own_thresholds, { ok: true, failed: [] }, `runner ${i} passes its own thresholds`);
    assert.ok(runners[3]!.own_thresholds!.failed.some((f) => f.includes('p(99)<200')), JSON.stringify(runners[3]));
    const s = readSummary(dir);
    assert.ok(s.levels[0]!.latency_ms!.p99 >= 200, `merged p99 ${s.levels[0]!.latency_ms!.p99}`);
    assert.equal(s.thresholds_ok, false);
  } finally {
    await target.close();
  }
});

test('a runner failing its own p99 does not fail an aggregate that holds: the bench exits 0', async () => {
  // Runner 3's requests take 1 s (3 of them in 3 s), the others' 2 ms (hundreds): runner 3's p99
  // breaks 200 ms, the aggregate p99 (3 slow of several hundred, under 1%) does not.
  const target = await fakeTarget({ fastMs: 2, runnerMs: { '3': 1000 } });
  try {
    const root = tmp();
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency4', IMPL: 'baseline', DURATION: '3s', WARMUP: '0', RUNNERS: '4', RESULTS_ROOT: root, BOUNDS_FILE: boundsFile(root, { slo: { '*': { '*': { p99_ms: 200 } } } }) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /runner 3 \(3\/4:1\) failed its own thresholds \(recorded, not deciding\): http_req_duration\{(?=[^}]*impl:baseline)(?=[^}]*level:4)(?=[^}]*phase:measure)(?=[^}]*expected_response:true)[^}]*\}: p\(99\)<200/);
    const s = readSummary(latest(root));
    assert.ok(s.thresholds_ok && s.levels[0]!.latency_ms!.p99 < 200, JSON.stringify(s.levels[0]));
  } finally {
    await target.close();
  }
});

test('every runner passes its own dropped-iterations bound while the aggregate breaks it: the bench exits 99', async () => {
  // An absolute bound (dropped_iterations count<=18 for the whole test) is what per-runner k6
  // verdicts get wrong: each runner compares only its own drops with it. 300 ms answers, 20/s
  // with one VU per runner: each runner drops about 8, together about 30.
  const target = await fakeTarget({ fastMs: 300 });
  try {
    const root = tmp();
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'rate', IMPL: 'baseline', RATE: '20', DURATION: '3s', WARMUP: '0', MAX_VUS: '4', RUNNERS: '4', RESULTS_ROOT: root, BOUNDS_FILE: boundsFile(root, { slo: { rate: { '*': { dropped_max_ratio: 0.31 } } } }) });
    assert.equal(r.code, 99, r.stdout + r.stderr);
    assert.match(r.stdout, /threshold FAILED: dropped_iterations: count<=18/);
    const dir = latest(root);
    for (const runner of readRunners(dir).runners) assert.equal(runner.status, 'passed', `runner ${runner.index} passed its own: ${JSON.stringify(runner.own_thresholds)}`);
    assert.ok(readSummary(dir).dropped_iterations > 18);
  } finally {
    await target.close();
  }
});

test('a runner that dies makes the bench exit non-zero naming it; the other runners results are kept', async () => {
  const target = await fakeTarget({ fastMs: 20 });
  try {
    const root = tmp();
    const pending = runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency4', IMPL: 'baseline', DURATION: '6s', WARMUP: '4', RUNNERS: '4', RESULTS_ROOT: root });
    // Kill runner 2 once it is measuring (its pid is in runners.json as soon as the runners start).
    const deadline = Date.now() + 60_000;
    let pid: number | null = null;
    while (pid === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const run = readdirSync(root).find((d) => existsSync(join(root, d, 'runners.json')));
      const measuring = target.received.filter((q) => q.runner === '2').length > 10;
      if (run && measuring) pid = readRunners(join(root, run)).runners[2]!.pid;
    }
    assert.ok(pid, 'runner 2 started and sent requests');
    process.kill(pid, 'SIGKILL');
    const r = await pending;
    assert.equal(r.code, 137, r.stdout + r.stderr);
    assert.match(r.stdout, /runner 2 \(segment 2\/4:3\/4, pid \d+\) DIED: killed by SIGKILL/);
    const dir = latest(root);
    const runners = readRunners(dir).runners;
    assert.equal(runners[2]!.status, 'died');
    for (const i of [0, 1, 3]) assert.equal(runners[i]!.status, 'passed');
    const s = readSummary(dir);
    assert.ok(s.levels[0]!.requests > 0, 'the partial merged summary is written');
  } finally {
    await target.close();
  }
});

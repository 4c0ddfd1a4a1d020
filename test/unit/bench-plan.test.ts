// Pure parts of the k6 suite: scenario plans and load shapes, staircase steps, multipart bodies,
// the summary builder and its JUnit rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFor, SCENARIOS, scenarioSpec } from '../../lib/scenarios.ts';
import { stepAt } from '../../lib/load-shapes.ts';
import { multipartBody } from '../../lib/multipart.ts';
import { manifestFilePath } from '../../lib/dataset.ts';
import { buildSummary, capacityUnderSlo, junitXml, parseSelector, summaryText, type K6SummaryData } from '../../lib/summary.ts';

test('every named scenario has a plan; concurrencyN is one parameterised kind', () => {
  for (const name of ['concurrency1', 'concurrency2', 'concurrency4', 'concurrency8', 'concurrency16', 'concurrency32', 'sweep', 'rate', 'capacity', 'coldstart', 'batch', 'soak', 'smoke', 'overload']) {
    const plan = planFor(name, { DURATION: '3s' });
    assert.ok(plan.levels.length > 0, name);
    assert.ok(Object.keys(plan.k6Scenarios).length > 0, name);
    for (const s of Object.values(plan.k6Scenarios)) assert.equal(s.exec, 'measure');
  }
  assert.equal(Object.keys(SCENARIOS).length, 15);
  const c16 = planFor('concurrency16', {});
  assert.equal(c16.k6Scenarios['level_16']!.vus, 16);
  assert.equal(c16.k6Scenarios['level_16']!.duration, '30000ms', 'DURATION defaults to 30s');
  assert.deepEqual(c16.warmup, { requests: 20, concurrency: 16 }, 'WARMUP defaults to 20, sent at the level');
  assert.throws(() => scenarioSpec('concurrency3'), /SCENARIO=concurrency3 is not valid: expected one of concurrency1, /);
});

test('sweep runs levels one after another with a gap; batch varies images per request', () => {
  const sweep = planFor('sweep', { DURATION: '10s', LEVEL_GAP: '2s' });
  assert.deepEqual(sweep.levels.map((l) => [l.tag, l.start_s]), [['1', 0], ['2', 12], ['4', 24], ['8', 36]]);
  assert.equal(sweep.k6Scenarios['level_4']!.startTime, '24000ms');
  assert.equal(sweep.k6Scenarios['level_4']!.gracefulStop, '2000ms');
  const batch = planFor('batch', { DURATION: '2s' });
  assert.deepEqual(batch.levels.map((l) => batch.imagesPerRequest(l)), [1, 4, 8, 16, 32]);
  assert.throws(() => planFor('sweep', { LEVELS: '1,x' }), /LEVELS=1,x is not valid/);
});

test('rate is an open model; capacity a staircase whose step follows elapsed time', () => {
  const rate = planFor('rate', { RATE: '7', DURATION: '4s' });
  assert.equal(rate.k6Scenarios['level_7']!.executor, 'constant-arrival-rate');
  assert.equal(rate.k6Scenarios['level_7']!.rate, 7);
  const cap = planFor('capacity', { RATES: '2,4,8', STEP: '5s' });
  const s = cap.k6Scenarios['capacity']!;
  assert.equal(s.executor, 'ramping-arrival-rate');
  assert.equal(s.stages!.length, 6);
  assert.equal(stepAt(cap.levels, 0).tag, '2');
  assert.equal(stepAt(cap.levels, 7).tag, '4');
  assert.equal(stepAt(cap.levels, 99).tag, '8');
});

test('coldstart: first request gets its own level, no warm-up', () => {
  const plan = planFor('coldstart', { REQUESTS: '3' });
  assert.deepEqual(plan.levels.map((l) => l.tag), ['first', 'warm']);
  assert.equal(plan.warmup.requests, 0);
  assert.equal(plan.k6Scenarios['counted']!.iterations, 3);
});

test('multipart body repeats the field and keeps bytes intact', () => {
  const a = new Uint8Array([0, 255, 1]);
  const b = new Uint8Array([9]);
  const { body, contentType } = multipartBody([
    { field: 'file', filename: 'a', contentType: 'image/jpeg', bytes: a },
    { field: 'file', filename: 'b', contentType: 'image/png', bytes: b },
  ]);
  const text = Buffer.from(body).toString('latin1');
  const boundary = contentType.split('boundary=')[1]!;
  assert.equal(text.split(`--${boundary}\r\n`).length - 1, 2);
  assert.ok(text.endsWith(`--${boundary}--\r\n`));
  assert.ok(text.includes('name="file"; filename="a"\r\nContent-Type: image/jpeg\r\n\r\n\x00\xff\x01\r\n'));
});

function fakeData(): K6SummaryData {
  const lat = (p99: number) => ({ avg: 10, min: 1, med: 9, max: p99 + 1, 'p(90)': 12, 'p(95)': 13, 'p(99)': p99 });
  return {
    state: { testRunDurationMs: 12_000 },
    metrics: {
      'http_reqs{expected_response:true,impl:baseline,level:2,phase:measure}': { type: 'counter', values: { count: 50, rate: 4 }, thresholds: { 'count>0': { ok: true } } },
      'http_req_duration{expected_response:true,impl:baseline,level:2,phase:measure}': { type: 'trend', values: lat(40), thresholds: { 'p(99)<30': { ok: false } } },
      'http_reqs{expected_response:true,impl:baseline,level:4,phase:measure}': { type: 'counter', values: { count: 80, rate: 6 }, thresholds: { 'count>0': { ok: true } } },
      'http_req_duration{expected_response:true,impl:baseline,level:4,phase:measure}': { type: 'trend', values: lat(20), thresholds: {} },
      // Level 4 also had 20 refusals (2 ms each) and 5 failures: in their own columns, not in rps or latency.
      'requests_refused{impl:baseline,level:4,phase:measure}': { type: 'rate', values: { rate: 0.2, passes: 20, fails: 85 } },
      'requests_failed{impl:baseline,level:4,phase:measure}': { type: 'rate', values: { rate: 0.05, passes: 5, fails: 100 } },
      'http_req_duration{impl:baseline,level:4,phase:measure,status:503}': { type: 'trend', values: lat(2) },
      'http_reqs{phase:warmup}': { type: 'counter', values: { count: 20, rate: 1 } },
      'http_req_duration{phase:warmup}': { type: 'trend', values: lat(900) },
    },
  };
}

test('summary: per-level figures use the measured seconds; verdicts and junit cases per threshold', () => {
  const plan = planFor('sweep', { LEVELS: '2,4', DURATION: '5s' });
  const s = buildSummary(fakeData(), plan, ['baseline']);
  assert.equal(s.levels.length, 2);
  assert.equal(s.levels[0]!.rps, 10, '50 requests over 5 measured seconds');
  assert.equal(s.levels[0]!.latency_ms!.p99, 40);
  assert.equal(s.levels[0]!.refused, 0);
  assert.equal(s.levels[0]!.refused_latency_ms, null);
  assert.deepEqual([s.levels[1]!.requests, s.levels[1]!.rps, s.levels[1]!.latency_ms!.p99], [80, 16, 20], 'accepted only');
  assert.deepEqual([s.levels[1]!.refused, s.levels[1]!.failed, s.levels[1]!.refused_ratio, s.levels[1]!.refused_latency_ms!.p99], [20, 5, 0.19, 2]);
  // p50 and p99 with their 95 % intervals (80 samples bound no p99 from above: '>= ...'); the refusals' columns where there were refusals.
  assert.match(summaryText(s), /accepted .* refused  refused %  refuse p99 ms  failed  validity\n.*\nbaseline  4 +80 +16 +9 \[1, 12\] +>= 13\.0 +21 +20 +19 +>= \S+ +5 +INVALID\n/);
  assert.equal(s.warmup.requests, 20);
  assert.equal(s.thresholds.length, 3);
  assert.equal(s.thresholds_ok, false);
  s.postprocess.push({ name: 'accuracy baseline', passed: true, lines: ['ok'] });
  const xml = junitXml(s);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
  assert.equal((xml.match(/<failure /g) ?? []).length, 1);
  assert.match(xml, /p\(99\)&lt;30/);
  assert.match(summaryText(s), /thresholds: 2\/3 passed/);
  assert.deepEqual(parseSelector('http_reqs{impl:a,level:2}'), { metric: 'http_reqs', tags: { impl: 'a', level: '2' } });
});

test('capacity: highest offered rate whose p99 stayed under the SLO', () => {
  const row = (level: string, p99: number) => ({ impl: 'b', level, duration_s: 5, requests: 10, rps: 1, refused: 0, failed: 0, refused_ratio: 0, refused_latency_ms: null, images_per_request: 1, images_per_s: 1, latency_ms: { min: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99, max: 0 } });
  assert.equal(capacityUnderSlo([row('2', 100), row('4', 300), row('8', 5000)], 1000), 4);
  assert.equal(capacityUnderSlo([row('2', 5000)], 1000), null);
});

test("a dataset manifest's files: absolute as given, else beside the manifest (k6 reads them by path)", () => {
  assert.equal(manifestFilePath('/data/set/manifest.json', 'a.jpg'), '/data/set/a.jpg');
  assert.equal(manifestFilePath('/data/set/manifest.json', '/elsewhere/b.png'), '/elsewhere/b.png');
  assert.equal(manifestFilePath('manifest.json', 'c.jpg'), './c.jpg');
});

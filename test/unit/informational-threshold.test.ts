// Thresholds declared only to expose a sub-metric (a lower bound of 0 on a non-negative aggregate)
// are informational: shown in the summary, not counted as verdicts, no junit case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInformationalThreshold, tallyThresholds } from '../../lib/informational-threshold.ts';
import { DEFAULT_BOUNDS, resolveBounds, thresholdsFor } from '../../lib/bounds.ts';
import { planFor } from '../../lib/scenarios.ts';
import { buildSummary, junitXml, summaryText, type K6SummaryData } from '../../lib/summary.ts';

test('a lower bound of 0 on count, rate, min, max, avg, med or a percentile cannot fail: informational', () => {
  for (const e of ['count>=0', 'rate>=0', 'min>=0', 'max>=0', 'avg>=0', 'med>=0', 'p(99)>=0', 'p(99.9)>=0', 'p( 95 ) >= 0', ' max >= 0.0 ', 'count>=00']) {
    assert.equal(isInformationalThreshold(e), true, e);
  }
});

test('every bound that can fail is a verdict', () => {
  for (const e of ['count>0', 'rate>0', 'count>=1', 'count>=18', 'rate<0.01', 'rate>0.99', 'rate>=1', 'p(99)<300', 'p(50)>=12.5', 'max<=0.000001', 'max<=1e-8', 'count<=0', 'max<0', 'value>=0', 'rate>=0.5', 'count>=0.1', 'count>=', 'count==0', 'count>=-1']) {
    assert.equal(isInformationalThreshold(e), false, e);
  }
});

test('tally: verdicts and informational apart; an informational-form bound that failed is a verdict', () => {
  const t = [
    { metric: 'a', expression: 'count>0', ok: true },
    { metric: 'b', expression: 'max>=0', ok: true },
    { metric: 'c', expression: 'p(99)<10', ok: false },
    // A trend with negative samples broke it: it could fail, so it counts.
    { metric: 'd', expression: 'min>=0', ok: false },
  ];
  const r = tallyThresholds(t);
  assert.deepEqual(r.informational.map((x) => x.metric), ['b']);
  assert.deepEqual(r.verdicts.map((x) => x.metric), ['a', 'c', 'd']);
  assert.deepEqual(r.passed.map((x) => x.metric), ['a']);
  assert.deepEqual(r.failed.map((x) => x.metric), ['c', 'd']);
});

test("the default bench's bounds: the per-level refused, failed, 503 and goodput sub-metrics are informational, the rest verdicts", () => {
  const plan = planFor('concurrency8', {});
  const declared = Object.entries(thresholdsFor(plan, [resolveBounds(DEFAULT_BOUNDS, plan, 'baseline')])).flatMap(([metric, exprs]) => exprs.map((expression) => ({ metric, expression, ok: true })));
  const r = tallyThresholds(declared);
  assert.deepEqual(r.informational.map((t) => `${t.metric}: ${t.expression}`), [
    'requests_refused{impl:baseline,level:8,phase:measure}: rate>=0',
    'requests_failed{impl:baseline,level:8,phase:measure}: rate>=0',
    'http_req_duration{impl:baseline,level:8,phase:measure,status:503}: max>=0',
    'requests_good{impl:baseline,level:8,phase:measure}: count>=0',
  ]);
  assert.deepEqual(r.verdicts.map((t) => t.expression), ['rate<0.01', 'rate>0.99', 'p(99)<60000', 'count>0']);
});

test('summary: informational bounds flagged, listed apart as info, not in the count, no junit case', () => {
  const trend = { avg: 10, min: 1, med: 9, max: 20, 'p(90)': 12, 'p(95)': 13, 'p(99)': 19 };
  const data: K6SummaryData = {
    state: { testRunDurationMs: 7000 },
    metrics: {
      'http_reqs{expected_response:true,impl:baseline,level:8,phase:measure}': { type: 'counter', values: { count: 50, rate: 7 }, thresholds: { 'count>0': { ok: true } } },
      'http_req_duration{expected_response:true,impl:baseline,level:8,phase:measure}': { type: 'trend', values: trend, thresholds: { 'p(99)<10': { ok: false } } },
      'requests_refused{impl:baseline,level:8,phase:measure}': { type: 'rate', values: { rate: 0, passes: 0, fails: 50 }, thresholds: { 'rate>=0': { ok: true } } },
      'http_reqs{phase:warmup}': { type: 'counter', values: { count: 8, rate: 1 }, thresholds: { 'count>=0': { ok: true } } },
      'http_req_duration{phase:warmup}': { type: 'trend', values: trend, thresholds: { 'max>=0': { ok: true } } },
    },
  };
  const s = buildSummary(data, planFor('concurrency8', { DURATION: '5s' }), ['baseline']);
  assert.equal(s.thresholds.length, 5, 'every declared bound stays in summary.json');
  assert.deepEqual(s.thresholds.filter((t) => t.informational).map((t) => t.expression).sort(), ['count>=0', 'max>=0', 'rate>=0']);
  assert.equal(s.thresholds_ok, false);
  const text = summaryText(s);
  assert.match(text, /^thresholds: 1\/2 passed \(3 informational sub-metrics not counted\)$/m);
  assert.match(text, /^ {2}FAIL http_req_duration\{expected_response:true,impl:baseline,level:8,phase:measure\}: p\(99\)<10$/m);
  assert.match(text, /^ {2}info http_reqs\{phase:warmup\}: count>=0 \(cannot fail/m);
  assert.doesNotMatch(text, /(ok {3}|FAIL) [^\n]*(>=0)$/m, 'no informational bound is listed as a verdict');
  const xml = junitXml(s);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 2);
  assert.match(xml, /tests="2" failures="1"/);
  assert.doesNotMatch(xml, /&gt;=0/);

  // Only verdicts: the line says nothing of informational ones.
  for (const key of Object.keys(data.metrics)) if (/>=0/.test(Object.keys(data.metrics[key]!.thresholds ?? {})[0] ?? '')) delete data.metrics[key]!.thresholds;
  assert.match(summaryText(buildSummary(data, planFor('concurrency8', { DURATION: '5s' }), ['baseline'])), /^thresholds: 1\/2 passed$/m);
});

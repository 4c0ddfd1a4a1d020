// Goodput: answers accepted, on time and correct per second. The summary's figures from k6's
// requests_good sub-metric (pure, from a K6SummaryData fixture), the per-answer rule, the SLO that
// "on time" uses, and the goodput_min_rps bound as a k6 threshold per level.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSummary, summaryText, type K6SummaryData } from '../../lib/summary.ts';
import { planFor } from '../../lib/scenarios.ts';
import { DEFAULT_BOUNDS, mergeBounds, resolveBounds, thresholdsFor, validateBoundsFile, type BoundsFile } from '../../lib/bounds.ts';
import { isGood } from '../../lib/answer.ts';

const SEL = 'impl:baseline,level:8,phase:measure';

/** 30 s at concurrency 8: `accepted` answers, `good` of them good, and output_match when `reference`. */
function data(accepted: number, good: number | undefined, reference: boolean): K6SummaryData {
  const metrics: K6SummaryData['metrics'] = {
    [`http_reqs{expected_response:true,${SEL}}`]: { type: 'counter', values: { count: accepted, rate: accepted / 31 } },
    [`requests_refused{${SEL}}`]: { type: 'rate', values: { rate: 0, passes: 0, fails: accepted } },
    [`requests_failed{${SEL}}`]: { type: 'rate', values: { rate: 0, passes: 0, fails: accepted } },
  };
  if (good !== undefined) metrics[`requests_good{${SEL}}`] = { type: 'counter', values: { count: good, rate: good / 31 }, thresholds: { 'count>=0': { ok: true } } };
  if (reference) metrics['output_match{impl:baseline}'] = { type: 'rate', values: { rate: 0.8, passes: 8, fails: 2 } };
  return { metrics, state: { testRunDurationMs: 31_000 } };
}

const plan = planFor('concurrency8', { DURATION: '30s' });

test('goodput per level: good / measured seconds, and its share of the accepted answers', () => {
  const row = buildSummary(data(300, 240, true), plan, ['baseline']).levels[0]!;
  assert.deepEqual([row.rps, row.good, row.goodput_rps, row.good_ratio, row.outputs_judged], [10, 240, 8, 0.8, true]);
  const text = summaryText(buildSummary(data(300, 240, true), plan, ['baseline']));
  assert.match(text, /good\/s \(%\)/);
  assert.match(text, /^baseline\s+8\s+300\s+10\s+8 \(80\)\s/m);
  assert.match(text, /^good\/s: accepted, on time \(within the level's SLO\) and correct; \(%\) of accepted$/m);
  assert.doesNotMatch(text, /no REFERENCE/);
});

test('without a reference the summary says correctness is the protocol checks only', () => {
  const s = buildSummary(data(300, 300, false), plan, ['baseline']);
  assert.equal(s.levels[0]!.outputs_judged, false);
  assert.match(summaryText(s), /no REFERENCE: outputs not judged, correct = protocol checks$/m);
});

test('no accepted answers: goodput 0 and a share of 0, not NaN', () => {
  const row = buildSummary(data(0, 0, true), plan, ['baseline']).levels[0]!;
  assert.deepEqual([row.goodput_rps, row.good_ratio], [0, 0]);
});

test('a summary without requests_good (runs before goodput) has no goodput fields and no column', () => {
  const s = buildSummary(data(300, undefined, true), plan, ['baseline']);
  assert.equal(s.levels[0]!.goodput_rps, undefined);
  assert.doesNotMatch(summaryText(s), /good\/s/);
});

test('one answer is good when accepted, correct and within the SLO (no SLO: any duration)', () => {
  assert.equal(isGood(200, 100, true, 100), true);
  assert.equal(isGood(200, 100.5, true, 100), false, 'late');
  assert.equal(isGood(200, 10, false, 100), false, 'wrong');
  assert.equal(isGood(503, 10, true, 100), false, 'refused');
  assert.equal(isGood(500, 10, true, undefined), false, 'failed');
  assert.equal(isGood(200, 1e9, true, undefined), true, 'no SLO: on time');
});

test('"on time" is goodput_latency_ms, else the level p99 bound (host bounds included), else capacity_slo_p99_ms', () => {
  assert.equal(resolveBounds(DEFAULT_BOUNDS, plan, 'baseline').levels['8']!.goodput_slo_ms, 60000);
  const own = mergeBounds(DEFAULT_BOUNDS, { slo: { '*': { '*': { goodput_latency_ms: 250 } } } }) as BoundsFile;
  assert.equal(resolveBounds(own, plan, 'baseline').levels['8']!.goodput_slo_ms, 250);
  const host = { version: 1 as const, created: 'x', host: { cpu: 'c', cores: 2, ep: 'cpu' }, duration_s: 10, levels: { '8': { baseline: { p50_ms: 50, p99_ms: 100, rps: 10, requests: 100 } } } };
  assert.equal(resolveBounds(DEFAULT_BOUNDS, plan, 'batched', host).levels['8']!.goodput_slo_ms, 115);
  const capacity = planFor('capacity', {});
  assert.equal(Object.values(resolveBounds(DEFAULT_BOUNDS, capacity, 'baseline').levels)[0]!.goodput_slo_ms, 2000);
});

test('goodput_min_rps: unset, an informational count>=0 per level; set, a count floor over the measured seconds', () => {
  const key = `requests_good{${SEL}}`;
  assert.deepEqual(thresholdsFor(plan, [resolveBounds(DEFAULT_BOUNDS, plan, 'baseline')])[key], ['count>=0']);
  const file = validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { slo: { '*': { '*': { goodput_min_rps: 2.5 } } } }), 'test');
  assert.deepEqual(thresholdsFor(plan, [resolveBounds(file, plan, 'baseline')])[key], ['count>=75']);
  assert.throws(() => validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { slo: { '*': { '*': { goodput_min: 1 } } } }), 'x'), /goodput_min is not a known bound/);
});

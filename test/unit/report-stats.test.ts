// The report's maths on hand-computed cases: quantiles, spread, paired ratios, the interleaved
// schedule, the ETA, and the config's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRatio, pairedRatios, spread } from '../../tools/report/stats.ts';
import { median, quantileSorted } from '../../lib/stats.ts';
import { eta, formatSeconds, plannedRunSeconds, schedule } from '../../tools/report/plan.ts';
import { reportConfig } from '../../tools/report/config.ts';

test('quantiles interpolate linearly between ranks (numpy default)', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.75), 3.25);
  assert.equal(quantileSorted([7], 0.25), 7);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([10, 0]), 5);
  assert.throws(() => quantileSorted([], 0.5), /no values/);
});

test('spread: median, min, max and quartiles of three rounds', () => {
  assert.deepEqual(spread([1.5, 1.2, 1.2]), { n: 3, median: 1.2, min: 1.2, max: 1.5, q1: 1.2, q3: 1.35, values: [1.5, 1.2, 1.2] });
  assert.deepEqual(spread([4, 1, 3, 2]), { n: 4, median: 2.5, min: 1, max: 4, q1: 1.75, q3: 3.25, values: [4, 1, 3, 2] });
  // Non-finite values are measurements that did not happen, not zeros.
  assert.equal(spread([NaN, Infinity])?.n ?? 0, 0);
  assert.equal(spread([]), null);
  assert.equal(spread([2, NaN])!.n, 1);
});

test('paired ratios: same round only, missing or zero denominators left out', () => {
  const impl = new Map([[1, 3], [2, 3], [3, 2.4], [4, 9]]);
  const base = new Map([[1, 2], [2, 2.5], [3, 2], [5, 1]]);
  const r = pairedRatios(impl, base);
  assert.deepEqual(r.map((x) => x.round), [1, 2, 3]);
  assert.deepEqual(r.map((x) => Math.round(x.ratio * 1000) / 1000), [1.5, 1.2, 1.2]);
  const s = spread(r.map((x) => x.ratio))!;
  assert.equal(s.median, 1.2);
  assert.equal(formatRatio(s), '1.20x (1.20-1.50, IQR 1.20-1.35, n=3)');
  assert.deepEqual(pairedRatios(new Map([[1, 5]]), new Map([[1, 0]])), []);
  assert.equal(formatRatio(null), 'n/a');
  assert.equal(formatRatio(spread([2])), '2.00x (n=1)');
});

test('schedule: round-robin, each round starting one implementation later', () => {
  const s = schedule(['baseline', 'invalid', 'batched'], 3);
  assert.equal(s.length, 9);
  assert.deepEqual(s.map((r) => r.impl), ['baseline', 'invalid', 'batched', 'invalid', 'batched', 'baseline', 'batched', 'baseline', 'invalid']);
  assert.deepEqual(s.map((r) => r.round), [1, 1, 1, 2, 2, 2, 3, 3, 3]);
  assert.deepEqual(s.map((r) => r.index), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Every implementation runs once per round.
  for (let round = 1; round <= 3; round++) assert.deepEqual(s.filter((r) => r.round === round).map((r) => r.impl).sort(), ['baseline', 'batched', 'invalid']);
});

test('ETA: the plan before the first run, then the mean measured run', () => {
  assert.equal(plannedRunSeconds({ levels: [1, 4, 8], duration_s: 30, gap_s: 5 }, 15), 3 * 30 + 2 * 5 + 15);
  assert.equal(eta([], 4, 100), 400);
  assert.equal(eta([10, 20], 3, 100), 45);
  assert.equal(formatSeconds(45), '45s');
  assert.equal(formatSeconds(125), '2m05s');
  assert.equal(formatSeconds(3725), '1h02m');
});

test('config: defaults, and errors that name the variable', () => {
  const c = reportConfig({});
  assert.deepEqual(c.levels, [1, 4, 8]);
  assert.equal(c.duration_s, 30);
  assert.equal(c.repeats, 3);
  assert.deepEqual(c.impls, []);
  assert.equal(c.server, 'shared');
  assert.deepEqual(reportConfig({ IMPL: 'baseline, invalid', REUSE: 'a,b c' }).reuse, ['a', 'b', 'c']);
  assert.deepEqual(reportConfig({ IMPL: 'baseline, invalid' }).impls, ['baseline', 'invalid']);
  assert.throws(() => reportConfig({ LEVELS: '1,x' }), /LEVELS=1,x is not valid/);
  assert.throws(() => reportConfig({ REPEATS: '0' }), /REPEATS=0 is not valid/);
  assert.throws(() => reportConfig({ DURATION: 'soon' }), /DURATION=soon is not valid/);
  assert.throws(() => reportConfig({ SERVER: 'many' }), /SERVER=many is not valid: expected one of shared, fresh/);
  assert.throws(() => reportConfig({ SERVER: 'fresh', TARGET: 'http://x:1' }), /TARGET=http:\/\/x:1 with SERVER=fresh/);
});

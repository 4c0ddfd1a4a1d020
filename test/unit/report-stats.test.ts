// The report's maths on hand-computed cases: quantiles, spread, paired ratios and their intervals
// (the method per number of rounds, the verdict in words, and how often an A/A comparison is called
// distinguishable on seeded synthetic rounds), the interleaved schedule, the ETA, the config's
// errors and the rows' labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRatio, ORDER_MIN_ROUNDS, pairedRatios, ratioMethodsUsed, ratioOverRounds, spread, T_MIN_ROUNDS } from '../../tools/report/stats.ts';
import { geometricMeanInterval, quantileInterval } from '../../lib/confidence.ts';
import { mulberry32 } from '../../lib/rng.ts';
import { checkRows, distinctImpls, rowImpl } from '../../tools/report/rows.ts';
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
  assert.deepEqual(pairedRatios(new Map([[1, 5]]), new Map([[1, 0]])), []);
});

test('ratio intervals: the method follows the rounds (none below 3, t on logs 3-5, order statistics from 6)', () => {
  assert.equal(T_MIN_ROUNDS, 3);
  assert.equal(ORDER_MIN_ROUNDS, 6);
  // 1 and 2 rounds: the median, no interval, and the REPEATS that gives one.
  const one = ratioOverRounds([1.3], 'higher')!;
  assert.deepEqual([one.method, one.estimate, one.lower, one.upper, one.verdict, one.note], ['none', 1.3, null, null, 'no interval', '1 round: no interval; REPEATS=3 for one']);
  assert.equal(formatRatio(one), '1.30x (1 round: no interval; REPEATS=3 for one)');
  const two = ratioOverRounds([1.2, 1.3], 'higher')!;
  assert.deepEqual([two.method, two.estimate, two.verdict], ['none', 1.25, 'no interval']);
  assert.equal(formatRatio(two), '1.25x (2 rounds: no interval; REPEATS=3 for one)');
  // 3 rounds: exp(mean(log r) +- t(0.975, 2) sd / sqrt(3)), by hand: t = 4.302653.
  const three = [1.5, 1.2, 1.2];
  const logs = three.map(Math.log);
  const mean = logs.reduce((a, b) => a + b) / 3;
  const sd = Math.sqrt(logs.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
  const t = ratioOverRounds(three, 'higher')!;
  assert.equal(t.method, 't-log');
  assert.ok(Math.abs(t.estimate - Math.cbrt(1.5 * 1.2 * 1.2)) < 1e-5, String(t.estimate));
  assert.ok(Math.abs(t.lower! - Math.exp(mean - (4.302653 * sd) / Math.sqrt(3))) < 1e-5, String(t.lower));
  assert.ok(Math.abs(t.upper! - Math.exp(mean + (4.302653 * sd) / Math.sqrt(3))) < 1e-5, String(t.upper));
  assert.equal(t.verdict, 'not distinguishable'); // [0.939, 1.78]: one round at 1.5 and two at 1.2 do not make 3 rounds sure
  assert.deepEqual([t.n, t.median, t.min, t.max], [3, 1.2, 1.2, 1.5]); // the spread stays beside it
  // 6 rounds: the median and the 1st and 6th order statistics (coverage 1 - 2/64).
  const six = [1.1, 1.3, 1.25, 1.2, 1.15, 1.4];
  const o = ratioOverRounds(six, 'higher')!;
  const ci = quantileInterval([...six].sort((a, b) => a - b), 0.5);
  assert.deepEqual([o.method, o.estimate, o.lower, o.upper, o.verdict], ['order-statistics', 1.225, 1.1, 1.4, 'faster']);
  assert.deepEqual([ci.lowerRank, ci.upperRank], [1, 6]);
  assert.equal(formatRatio(o), '1.23x [1.10, 1.40] faster');
  assert.equal(ratioOverRounds([], 'higher'), null);
  assert.equal(formatRatio(null), 'n/a');
  // Non-positive or non-finite ratios are rounds that did not measure, not zeros.
  assert.equal(ratioOverRounds([1.2, 0, NaN, 1.3], 'higher')!.n, 2);
});

test('ratio intervals: the words follow the direction that is better', () => {
  const up = [1.21, 1.2, 1.22];
  const down = up.map((x) => 1 / x);
  // requests/s: above 1 is faster; latency: below 1 is faster.
  assert.equal(ratioOverRounds(up, 'higher')!.verdict, 'faster');
  assert.equal(ratioOverRounds(down, 'higher')!.verdict, 'slower');
  assert.equal(ratioOverRounds(down, 'lower')!.verdict, 'faster');
  assert.equal(ratioOverRounds(up, 'lower')!.verdict, 'slower');
  assert.equal(ratioOverRounds([0.98, 1.03, 1.0], 'higher')!.verdict, 'not distinguishable');
  // The digits follow the interval's width (two significant digits of it: 0.051 -> steps of 0.001).
  assert.equal(formatRatio(ratioOverRounds(up, 'higher')), '1.210x [1.185, 1.236] faster');
  // t on logs: a ratio and its inverse get the same interval, inverted.
  const a = geometricMeanInterval(up);
  const b = geometricMeanInterval(down);
  assert.ok(Math.abs(a.lower * b.upper - 1) < 1e-12 && Math.abs(a.upper * b.lower - 1) < 1e-12);
  assert.equal(ratioMethodsUsed([ratioOverRounds(up, 'higher'), null]), `ratios over 3 paired rounds, 95 % intervals: the geometric mean's Student t interval on the log ratios; "not distinguishable": the interval includes 1`);
  assert.equal(ratioMethodsUsed([ratioOverRounds([1.1], 'higher')]), 'ratios over 1 paired round: no interval (fewer than 3 rounds; REPEATS=3 for Student t intervals, 6 for distribution-free ones)');
  assert.match(ratioMethodsUsed([ratioOverRounds([1.1, 1.2], 'higher'), ratioOverRounds(six(), 'higher')]), /^ratios over 2 or 6 paired rounds, 95 % intervals: no interval \(fewer than 3 rounds\); the median ratio's distribution-free interval/);
});

const six = (): number[] => [1.1, 1.3, 1.25, 1.2, 1.15, 1.4];

/** A seeded standard normal (Box-Muller). */
function normals(seed: number): () => number {
  const rand = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

test('ratio intervals: an A/A comparison is called distinguishable in about 5 % of 1000 seeded trials or less', () => {
  // Both sides of each round scatter alike (10 % lognormal noise), so the true ratio is 1.
  for (const rounds of [3, 4, 5, 6, 8, 12]) {
    const z = normals(1000 + rounds);
    let called = 0;
    for (let trial = 0; trial < 1000; trial++) {
      const ratios = Array.from({ length: rounds }, () => Math.exp(0.1 * z()) / Math.exp(0.1 * z()));
      if (ratioOverRounds(ratios, 'higher')!.verdict !== 'not distinguishable') called++;
    }
    // Nominal 5 %; 1000 trials put a binomial sd of 0.7 % around it.
    assert.ok(called <= 70, `${rounds} rounds: ${called} of 1000 A/A comparisons called distinguishable`);
  }
});

test('ratio intervals: a real 1.3x over 3 rounds of 5 % noise is called faster most of the time', () => {
  const z = normals(7);
  let faster = 0;
  let slower = 0;
  for (let trial = 0; trial < 1000; trial++) {
    const ratios = Array.from({ length: 3 }, () => (1.3 * Math.exp(0.05 * z())) / Math.exp(0.05 * z()));
    const v = ratioOverRounds(ratios, 'higher')!.verdict;
    if (v === 'faster') faster++;
    if (v === 'slower') slower++;
  }
  assert.ok(faster >= 800, `${faster} of 1000 called faster`);
  assert.equal(slower, 0);
});

test('rows: implementation@label measures the implementation as a row of its own', () => {
  assert.equal(rowImpl('invalid@a'), 'invalid');
  assert.equal(rowImpl('baseline'), 'baseline');
  assert.deepEqual(distinctImpls(['invalid@a', 'invalid@b', 'baseline', 'invalid']), ['invalid', 'baseline']);
  assert.doesNotThrow(() => checkRows(['invalid@a', 'invalid@b', 'invalid']));
  assert.throws(() => checkRows(['invalid', 'invalid']), /^ConfigError: IMPL=invalid,invalid names invalid twice: give each row a label of its own, e\.g\. invalid@a,invalid@b$/);
  for (const bad of ['@a', 'invalid@', 'invalid@a/b', 'invalid@a@b']) assert.throws(() => checkRows([bad]), /is not implementation@label/, bad);
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
  // One implementation twice pools its runs into one row: refused; labelled, it is two rows.
  assert.throws(() => reportConfig({ IMPL: 'invalid,invalid' }), /IMPL=invalid,invalid names invalid twice/);
  assert.deepEqual(reportConfig({ IMPL: 'invalid@a, invalid@b' }).impls, ['invalid@a', 'invalid@b']);
});

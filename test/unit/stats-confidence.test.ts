// lib/confidence.ts: quantile intervals against a naive binomial and hand-checked tables, their
// coverage on seeded synthetic latencies, thresholds decided with confidence, bootstrap ratios,
// formatting that follows the interval, and the stability of windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideCounts,
  decideThreshold,
  formatQuantileInterval,
  geometricMeanInterval,
  formatWithInterval,
  minSamplesFor,
  pairedRatioInterval,
  quantileInterval,
  quantileRanks,
  quantileUpperBound,
  ratioInterval,
  stability,
  studentTQuantile,
  type Sides,
} from '../../lib/confidence.ts';
import { mulberry32 } from '../../lib/rng.ts';

/** Binomial(n, p) probabilities summed the slow, obvious way (small n only). */
function naivePmf(n: number, p: number): number[] {
  const out: number[] = [];
  let c = 1; // C(n, k)
  for (let k = 0; k <= n; k++) {
    out.push(c * p ** k * (1 - p) ** (n - k));
    c = (c * (n - k)) / (k + 1);
  }
  return out;
}
const naiveCdf = (pmf: number[], k: number): number => pmf.slice(0, Math.max(0, k + 1)).reduce((s, x) => s + x, 0);

test('n=10, p=0.5: ranks 2 and 9, coverage 1 - 2 * 11/1024 (binomial table)', () => {
  const r = quantileRanks(10, 0.5);
  assert.equal(r.lowerRank, 2);
  assert.equal(r.upperRank, 9);
  assert.ok(Math.abs(r.coverage - (1 - 22 / 1024)) < 1e-12, String(r.coverage));
  assert.equal(r.unbounded, null);
  const ci = quantileInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5);
  assert.deepEqual([ci.estimate, ci.lower, ci.upper], [5.5, 2, 9]);
});

test('n=20, p=0.5: ranks 6 and 15, P(B <= 5) = 21700 / 2^20', () => {
  const r = quantileRanks(20, 0.5);
  assert.deepEqual([r.lowerRank, r.upperRank], [6, 15]);
  assert.ok(Math.abs(r.coverage - (1 - 43400 / 2 ** 20)) < 1e-12, String(r.coverage));
});

test('ranks match their definition against a naive binomial (n = 1..60, five p, three sides)', () => {
  for (const p of [0.1, 0.5, 0.9, 0.95, 0.99]) {
    for (let n = 1; n <= 60; n++) {
      const pmf = naivePmf(n, p);
      for (const sides of ['two-sided', 'upper', 'lower'] as Sides[]) {
        const tail = (sides === 'two-sided' ? 0.025 : 0.05) * (1 + 1e-12); // ties on paper count as met
        const r = quantileRanks(n, p, 0.95, sides);
        let l: number | null = null; // largest l >= 1 with P(B <= l - 1) <= tail
        for (let k = 1; k <= n; k++) if (naiveCdf(pmf, k - 1) <= tail) l = k;
        let u: number | null = null; // smallest u <= n with P(B >= u) <= tail
        for (let k = n; k >= 1; k--) if (1 - naiveCdf(pmf, k - 1) <= tail) u = k;
        const what = `n=${n} p=${p} ${sides}`;
        assert.equal(r.lowerRank, sides === 'upper' ? null : l, what);
        assert.equal(r.upperRank, sides === 'lower' ? null : u, what);
        const cov = 1 - (r.lowerRank === null ? 0 : naiveCdf(pmf, r.lowerRank - 1)) - (r.upperRank === null ? 0 : 1 - naiveCdf(pmf, r.upperRank - 1));
        assert.ok(Math.abs(r.coverage - cov) < 1e-9, `${what}: coverage ${r.coverage} vs ${cov}`);
        if (r.unbounded === null) assert.ok(r.coverage >= 0.95, what);
        assert.equal(r.unbounded === null, n >= r.minSamples, `${what}: minSamples ${r.minSamples}`);
      }
    }
  }
});

test('too few samples: p99 at n=78 has a lower bound only, and says how many would do', () => {
  const r = quantileRanks(78, 0.99);
  assert.equal(r.unbounded, 'upper');
  assert.equal(r.upperRank, null);
  assert.ok(r.lowerRank !== null && r.lowerRank < 78);
  assert.equal(r.minSamples, 368);
  assert.equal(minSamplesFor(0.99, 0.95, 'upper'), 299);
  assert.equal(minSamplesFor(0.99), 368);
  assert.equal(minSamplesFor(0.5), 6);
  assert.equal(minSamplesFor(0.999, 0.95, 'upper'), 2995);
  // The one-sided bound appears at exactly 299: 0.99^299 = 0.0495 <= 0.05 < 0.99^298.
  assert.equal(quantileRanks(298, 0.99, 0.95, 'upper').unbounded, 'upper');
  const at299 = quantileRanks(299, 0.99, 0.95, 'upper');
  assert.equal(at299.upperRank, 299);
  assert.ok(Math.abs(at299.coverage - (1 - 0.99 ** 299)) < 1e-12);
  assert.equal(quantileRanks(5, 0.5).unbounded, 'both');
});

test('large n stays exact and cheap: n = 10^6 at p = 0.999 and 0.5', () => {
  const t0 = Date.now();
  for (const p of [0.999, 0.5, 0.99]) {
    const r = quantileRanks(1_000_000, p);
    assert.equal(r.unbounded, null);
    assert.ok(r.coverage >= 0.95 && r.coverage < 0.951, `p=${p}: ${r.coverage}`);
    // The normal approximation puts the ranks at n p +- 1.96 sqrt(n p (1 - p)); exact is within a few ranks of it.
    const half = 1.96 * Math.sqrt(1e6 * p * (1 - p));
    assert.ok(Math.abs(r.lowerRank! - (1e6 * p - half)) < 3 && Math.abs(r.upperRank! - (1e6 * p + half)) < 3, JSON.stringify(r));
  }
  assert.ok(Date.now() - t0 < 1000);
});

// ---- coverage on synthetic latencies ------------------------------------------------------------

const Z = { 0.5: 0, 0.9: 1.2815515655446004, 0.99: 2.3263478740408408 } as const;
type P = keyof typeof Z;
const dists: Record<string, { draw: (r: () => number) => number; q: (p: P) => number }> = {
  exponential: { draw: (r) => -Math.log(1 - r()), q: (p) => -Math.log(1 - p) },
  lognormal: {
    draw: (r) => Math.exp(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
    q: (p) => Math.exp(Z[p]),
  },
  uniform: { draw: (r) => r(), q: (p) => p },
};
const TRIALS = 1000;

test('nominal 95 % intervals cover the true percentile in >= 93 % of 1000 seeded trials', () => {
  const cases: [number, P[]][] = [
    [100, [0.5, 0.9, 0.99]],
    [500, [0.5, 0.9, 0.99]],
    [2000, [0.5, 0.9, 0.99]],
  ];
  const lines: string[] = [];
  let seed = 1;
  for (const [name, d] of Object.entries(dists)) {
    for (const [n, ps] of cases) {
      const rand = mulberry32(seed++);
      const hits = new Map<string, { covered: number; unbounded: number }>();
      const sample = new Float64Array(n);
      for (let t = 0; t < TRIALS; t++) {
        for (let i = 0; i < n; i++) sample[i] = d.draw(rand);
        sample.sort();
        for (const p of ps) {
          for (const sides of ['two-sided', 'upper'] as Sides[]) {
            const key = `p${p * 100} ${sides}`;
            const h = hits.get(key) ?? { covered: 0, unbounded: 0 };
            hits.set(key, h);
            const ci = quantileInterval(sample, p, 0.95, sides);
            if (ci.unbounded !== null) {
              h.unbounded++; // reported, not a miss
              continue;
            }
            const q = d.q(p);
            if ((ci.lower === null || ci.lower <= q) && (ci.upper === null || q <= ci.upper)) h.covered++;
          }
        }
      }
      for (const [key, h] of hits) {
        const bounded = TRIALS - h.unbounded;
        if (bounded === 0) {
          lines.push(`${name} n=${n} ${key}: unbounded in all trials (reported)`);
          continue;
        }
        const rate = h.covered / bounded;
        lines.push(`${name} n=${n} ${key}: ${(rate * 100).toFixed(1)} %`);
        assert.ok(rate >= 0.93, `${name} n=${n} ${key}: ${rate}`);
      }
      // p99 cannot be bounded above from 100 samples at 95 %: every trial says so.
      if (n === 100) {
        assert.equal(hits.get('p99 two-sided')!.unbounded, TRIALS);
        assert.equal(hits.get('p99 upper')!.unbounded, TRIALS);
      }
    }
  }
  console.log(lines.join('\n'));
});

// ---- thresholds ---------------------------------------------------------------------------------

test('thresholds: clearly met, clearly broken, undecided (with the samples that would decide it)', () => {
  const rand = mulberry32(42);
  const exp = Array.from({ length: 5000 }, () => -Math.log(1 - rand())); // true p99 = 4.605
  const met = decideThreshold(exp, 0.99, 6);
  assert.equal(met.verdict, 'met');
  assert.equal(met.n, 5000);
  assert.ok(met.exceeding <= met.maxExceedingToMeet!);
  const broken = decideThreshold(exp, 0.99, 3.5);
  assert.equal(broken.verdict, 'broken');
  assert.ok(broken.exceeding >= broken.minExceedingToBreak!);

  // 100 samples, none above X: the p99 cannot be shown under X yet; 299 samples could.
  const few = decideThreshold(exp.slice(0, 100), 0.99, 100);
  assert.deepEqual([few.verdict, few.exceeding, few.maxExceedingToMeet, few.neededSamples, few.neededFor], ['undecided', 0, null, 299, 'met']);
  // 1000 samples, 12 beyond (1.2 % against 1 % allowed): undecided now, broken at ~8000 if that held
  // (7500 to 8200 decide or not as 1.2 % of them rounds down: a projection, not an exact count).
  const c = decideCounts(1000, 12, 0.99);
  assert.deepEqual([c.verdict, c.maxExceedingToMeet, c.minExceedingToBreak, c.neededFor], ['undecided', 4, 16, 'broken']);
  const at = (m: number) => decideCounts(m, Math.floor(0.012 * m), 0.99).verdict;
  assert.ok(c.neededSamples! >= 7500 && c.neededSamples! < 8500, String(c.neededSamples));
  assert.equal(at(c.neededSamples!), 'broken');
  assert.equal(at(7000), 'undecided');
  // 100000 samples, 990 beyond (0.99 % against 1 %): met at ~2.7 million if that held.
  const close = decideCounts(100000, 990, 0.99);
  assert.equal(close.neededFor, 'met');
  assert.ok(close.neededSamples! > 2.5e6 && close.neededSamples! < 2.9e6, String(close.neededSamples));
  // 0.998 % needs ~67 million: beyond what is worth projecting.
  assert.deepEqual([decideCounts(100000, 998, 0.99).neededSamples, decideCounts(100000, 998, 0.99).neededFor], [null, null]);
  // Exactly the allowed fraction never decides.
  assert.deepEqual([decideCounts(100000, 1000, 0.99).verdict, decideCounts(100000, 1000, 0.99).neededSamples], ['undecided', null]);
  assert.equal(decideCounts(0, 0, 0.99).neededSamples, 299);
});

test("thresholds: '<' counts a sample at X as exceeding, '<=' does not; NaN always exceeds", () => {
  const flat = new Array(1000).fill(100);
  assert.equal(decideThreshold(flat, 0.99, 100, '<').verdict, 'broken');
  assert.equal(decideThreshold(flat, 0.99, 100, '<=').verdict, 'met');
  assert.equal(decideThreshold([NaN, 1], 0.5, 10, '<=').exceeding, 1);
});

test('thresholds: a quantile exactly at X is called met, or broken, in about 5 % of trials at most', () => {
  const rand = mulberry32(9);
  let met = 0;
  let broken = 0;
  for (let t = 0; t < TRIALS; t++) {
    const s = Array.from({ length: 1000 }, () => rand());
    const d = decideThreshold(s, 0.9, 0.9);
    if (d.verdict === 'met') met++;
    if (d.verdict === 'broken') broken++;
  }
  console.log(`quantile at X: met ${(met / 10).toFixed(1)} %, broken ${(broken / 10).toFixed(1)} % of ${TRIALS}`);
  assert.ok(met <= 0.065 * TRIALS && broken <= 0.065 * TRIALS, `${met} ${broken}`);
});

// ---- ratios -------------------------------------------------------------------------------------

test('ratios: a sample against itself is not distinguishable; a clearly different pair is', () => {
  const rand = mulberry32(3);
  const noise = () => Math.exp(0.1 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
  const a = Array.from({ length: 10 }, () => 100 * noise());
  for (const statistic of ['median', 'mean'] as const) {
    const same = ratioInterval(a, [...a], { statistic, resamples: 2000, seed: 1 });
    assert.equal(same.estimate, 1);
    assert.ok(same.lower < 1 && same.upper > 1 && !same.distinguishable, JSON.stringify(same));
    const pairedSame = pairedRatioInterval(a, [...a], { statistic });
    assert.deepEqual([pairedSame.lower, pairedSame.upper, pairedSame.distinguishable], [1, 1, false]);
  }
  const b = Array.from({ length: 10 }, () => 150 * noise());
  const faster = ratioInterval(b, a);
  assert.ok(faster.distinguishable && faster.lower > 1.2 && faster.upper < 1.9, JSON.stringify(faster));
  const paired = pairedRatioInterval(b, a);
  assert.ok(paired.distinguishable && paired.lower > 1, JSON.stringify(paired));
  // Seeded: the same seed, the same interval.
  assert.deepEqual(ratioInterval(b, a, { seed: 5 }), ratioInterval(b, a, { seed: 5 }));
  assert.throws(() => pairedRatioInterval([1, 2], [1]), /per round/);
  assert.throws(() => ratioInterval([1, 0], [1]), /positive/);
});

// ---- formatting ---------------------------------------------------------------------------------

test('formatting: the digits follow the interval', () => {
  assert.equal(formatWithInterval(3605.8, 2900, 4100, 'ms'), '3600 ms [2900, 4100]');
  assert.equal(formatWithInterval(3605.8, 2934, 4121, 'ms'), '3600 ms [2900, 4200]'); // bounds rounded outward
  assert.equal(formatWithInterval(12.3456, 12.3, 12.39, 'ms'), '12.346 ms [12.300, 12.390]');
  assert.equal(formatWithInterval(1.4234, 1.38, 1.47, 'x'), '1.423x [1.380, 1.470]');
  assert.equal(formatWithInterval(3.2, 0.5, 120, 'ms'), '3 ms [0, 120]'); // never loses the estimate's first digit
  assert.equal(formatWithInterval(5, 5, 5, 'ms'), '5.00 ms [5.00, 5.00]');
  assert.equal(formatWithInterval(0.5, 0.4, 0.6), '0.50 [0.40, 0.60]');
});

test('formatting: unbounded and one-sided quantile intervals say why', () => {
  const s = Array.from({ length: 78 }, (_, i) => 2000 + i * 30);
  assert.equal(formatQuantileInterval(quantileInterval(s, 0.99), 'ms'), '>= 4220 ms (too few samples for an upper bound: n=78, needs 368 for a 95% interval on p99)');
  assert.equal(formatQuantileInterval(quantileUpperBound(s, 0.99), 'ms'), 'unbounded (too few samples: n=78, needs 299 for a 95% upper bound on p99)');
  assert.equal(formatQuantileInterval(quantileUpperBound(s, 0.5), 'ms'), '<= 3380 ms (95% upper bound on p50, n=78)');
  assert.equal(formatQuantileInterval(quantileInterval([1, 2, 3], 0.5), 'ms'), 'unbounded (too few samples: n=3, needs 6 for a 95% interval on p50)');
  assert.match(formatQuantileInterval(quantileInterval(s, 0.5), 'ms'), /^\d+ ms \[\d+, \d+\]$/);
});

// ---- stability ----------------------------------------------------------------------------------

test('stability: the last 3 windows within 10 % (max / min), requests/s and p50 both', () => {
  const w = (rps: number, p50: number) => ({ rps, p50 });
  const ok = stability([w(50, 30), w(100, 10), w(105, 10.2), w(101, 10.5)]);
  assert.deepEqual([ok.stable, ok.from, ok.to, ok.reason], [true, 1, 3, null]);
  assert.ok(Math.abs(ok.spread.rps - 0.05) < 1e-12 && Math.abs(ok.spread.p50 - 0.05) < 1e-12);
  const slow = stability([w(100, 10), w(100, 10), w(100, 12)]);
  assert.equal(slow.stable, false);
  assert.match(slow.reason!, /p50 differs by 20%/);
  assert.match(stability([w(100, 10), w(120, 10), w(100, 10)]).reason!, /requests\/s differ by 20%/);
  assert.equal(stability([w(100, 10), w(100, 10)]).reason, 'only 2 of 3 windows');
  assert.equal(stability([w(100, 10), w(130, 10), w(100, 10), w(104, 10)], 2).stable, true);
  assert.equal(stability([w(100, 10), w(108, 10), w(100, 10)], 3, 0.05).stable, false);
  assert.equal(stability([w(0, 10), w(1, 10), w(1, 10)]).spread.rps, Infinity);
});

test("Student's t quantiles match the printed table (two-sided 95 % and 90 %, df 1-30, 100)", () => {
  const table: [number, number, number][] = [
    [1, 12.706, 6.314],
    [2, 4.303, 2.92],
    [3, 3.182, 2.353],
    [4, 2.776, 2.132],
    [5, 2.571, 2.015],
    [9, 2.262, 1.833],
    [10, 2.228, 1.812],
    [30, 2.042, 1.697],
    [100, 1.984, 1.66],
  ];
  for (const [df, t975, t95] of table) {
    assert.ok(Math.abs(studentTQuantile(0.975, df) - t975) < 5e-4, `df ${df}: ${studentTQuantile(0.975, df)} vs ${t975}`);
    assert.ok(Math.abs(studentTQuantile(0.95, df) - t95) < 5e-4, `df ${df}: ${studentTQuantile(0.95, df)} vs ${t95}`);
  }
  // df = 1 is the Cauchy distribution: its quantile is tan(pi (p - 1/2)).
  assert.ok(Math.abs(studentTQuantile(0.975, 1) - Math.tan(Math.PI * 0.475)) < 1e-9);
  assert.throws(() => studentTQuantile(0.4, 3), /p must be in \(0\.5, 1\)/);
  assert.throws(() => studentTQuantile(0.975, 0), /df must be a whole number >= 1/);
});

test('geometric-mean interval: t on the logs, by hand; identical values give a point; fewer than 2 throw', () => {
  const ci = geometricMeanInterval([2, 8]); // logs ln2, 3 ln2: mean 2 ln2, sd sqrt(2) ln2, se ln2
  assert.ok(Math.abs(ci.estimate - 4) < 1e-12);
  assert.ok(Math.abs(ci.t - 12.7062) < 1e-4);
  assert.ok(Math.abs(Math.log(ci.upper) - (2 + ci.t) * Math.LN2) < 1e-9 && Math.abs(Math.log(ci.lower) - (2 - ci.t) * Math.LN2) < 1e-9);
  assert.equal(ci.distinguishable, false);
  const same = geometricMeanInterval([1.2, 1.2, 1.2]);
  assert.ok(Math.abs(same.lower - 1.2) < 1e-12 && Math.abs(same.upper - 1.2) < 1e-12 && same.distinguishable);
  assert.throws(() => geometricMeanInterval([1.2]), /needs 2 values or more/);
  assert.throws(() => geometricMeanInterval([1.2, 0]), /positive and finite/);
});

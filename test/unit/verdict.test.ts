// How sure a verdict is, from k6's aggregates: the percentile intervals read off the quantile grid
// (lib/quantile-grid.ts) hold the exact order-statistic intervals and cover the true percentile;
// latency thresholds decided on the grid agree with the samples' own decision; each level's validity
// (lib/verdict.ts) with its reasons and advice; the summary's text, JUnit and the bench's exit code
// for an undecided threshold under UNDECIDED=pass and UNDECIDED=fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideThreshold, minSamplesFor, quantileInterval, quantileRanks } from '../../lib/confidence.ts';
import { mulberry32 } from '../../lib/rng.ts';
import { gridInterval, gridPoints, QUANTILE_GRID, statOf, SUMMARY_TREND_STATS } from '../../lib/quantile-grid.ts';
import { quantileSorted } from '../../lib/stats.ts';
import { decideOnGrid, niceDuration, sampleAdvice, validityOf, type GateDecision } from '../../lib/verdict.ts';
import { buildSummary, junitXml, summaryText, undecidedFailures, type K6SummaryData } from '../../lib/summary.ts';
import { planFor } from '../../lib/scenarios.ts';
import { sinkValues } from '../../tools/scale-out/merge.ts';
import { benchExitCode } from '../../tools/bench/run.ts';
import { EXIT_POSTPROCESS_FAILED, EXIT_THRESHOLDS_FAILED } from '../../lib/exit-codes.ts';

/** n seeded lognormal latencies (median ~100 ms), sorted. */
function latencies(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i += 2) {
    // Box-Muller: two normals per pair of uniforms.
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(100 * Math.exp(0.5 * r * Math.cos(2 * Math.PI * v)), 100 * Math.exp(0.5 * r * Math.sin(2 * Math.PI * v)));
  }
  return out.slice(0, n).sort((a, b) => a - b);
}

/** What k6's handleSummary gives for a trend of these samples under the suite's summaryTrendStats. */
const k6Values = (sorted: number[]): Record<string, number> => sinkValues('trend', sorted, 1, [...SUMMARY_TREND_STATS]);

const SIZES = [1, 3, 5, 6, 10, 20, 50, 78, 100, 299, 368, 500, 1000, 3000, 10_000, 50_000];

test('the grid: about 150 statistics, the reported percentiles on it, k6 names with decimals', () => {
  assert.ok(SUMMARY_TREND_STATS.length >= 100 && SUMMARY_TREND_STATS.length <= 160, String(SUMMARY_TREND_STATS.length));
  for (const p of [0.5, 0.9, 0.95, 0.99, 0.999, 0.9995, 0.9999]) assert.ok(QUANTILE_GRID.includes(p), String(p));
  assert.equal(statOf(0.9995), 'p(99.95)');
  assert.equal(statOf(0.4796), 'p(47.96)');
  assert.ok(SUMMARY_TREND_STATS.includes('count') && SUMMARY_TREND_STATS.includes('p(99)'));
  assert.equal(new Set(SUMMARY_TREND_STATS).size, SUMMARY_TREND_STATS.length, 'no statistic twice');
  const points = gridPoints({ min: 1, max: 9, med: 5, 'p(99.95)': 8, count: 3, avg: 4 });
  assert.deepEqual(points, [{ level: 0, value: 1 }, { level: 0.5, value: 5 }, { level: 0.9995, value: 8 }, { level: 1, value: 9 }]);
});

test('the interval read off the grid holds the exact order-statistic interval, and is unbounded exactly where the ranks are', () => {
  let seed = 1;
  for (const n of SIZES) {
    const sorted = latencies(n, seed++);
    const points = gridPoints(k6Values(sorted));
    for (const p of [0.5, 0.9, 0.95, 0.99]) {
      for (const sides of ['two-sided', 'upper', 'lower'] as const) {
        const exact = quantileInterval(sorted, p, 0.95, sides);
        const grid = gridInterval(points, n, p, 0.95, sides);
        const at = `n=${n} p=${p} ${sides}`;
        assert.equal(grid.unbounded, exact.unbounded, at);
        if (exact.lower !== null) assert.ok(grid.lower !== null && grid.lower <= exact.lower, `${at}: grid lower ${grid.lower} > exact ${exact.lower}`);
        if (exact.upper !== null) assert.ok(grid.upper !== null && grid.upper >= exact.upper, `${at}: grid upper ${grid.upper} < exact ${exact.upper}`);
        assert.ok(Math.abs(grid.estimate - quantileSorted(sorted, p)) < 1e-9, `${at}: the estimate is k6's percentile`);
      }
    }
  }
  // Small samples: p99 has no upper bound below 368 samples (two-sided), 299 (one-sided); p50 none below 6.
  const points = gridPoints(k6Values(latencies(78, 7)));
  assert.equal(gridInterval(points, 78, 0.99).unbounded, 'upper');
  assert.equal(gridInterval(points, 78, 0.99, 0.95, 'upper').unbounded, 'upper');
  assert.equal(gridInterval(gridPoints(k6Values(latencies(5, 7))), 5, 0.5).unbounded, 'both');
  assert.equal(gridInterval(gridPoints(k6Values(latencies(367, 7))), 367, 0.99).unbounded, 'upper');
  assert.equal(gridInterval(gridPoints(k6Values(latencies(368, 7))), 368, 0.99).unbounded, null);
});

test('the grid costs little width: at most 1.3 times the exact interval (in quantile levels) from 50 to 30,000 samples', () => {
  const levels = [0, ...QUANTILE_GRID, 1];
  for (const p of [0.5, 0.9, 0.95, 0.99]) {
    for (let n = 50; n <= 30_000; n = Math.ceil(n * 1.17)) {
      const r = quantileRanks(n, p);
      if (r.lowerRank === null || r.upperRank === null) continue;
      const lo = Math.max(...levels.filter((g) => g * (n - 1) <= r.lowerRank! - 1 + 1e-9));
      const hi = Math.min(...levels.filter((g) => g * (n - 1) >= r.upperRank! - 1 - 1e-9));
      const exact = (r.upperRank - r.lowerRank) / (n - 1);
      assert.ok((hi - lo) / exact <= 1.31, `p=${p} n=${n}: grid ${lo}..${hi} against exact ${(r.lowerRank - 1) / (n - 1)}..${(r.upperRank - 1) / (n - 1)}`);
    }
  }
});

test('coverage: nominal 95 % grid intervals hold the true percentile in >= 93 % of 1,000 seeded trials (p50, p90, p99)', () => {
  // Exponential samples (mean 1): the true p-quantile is -ln(1 - p).
  for (const n of [100, 400, 2000]) {
    const rand = mulberry32(1000 + n);
    const hits = { 0.5: 0, 0.9: 0, 0.99: 0 } as Record<number, number>;
    const trials = 1000;
    for (let t = 0; t < trials; t++) {
      const sorted = Array.from({ length: n }, () => -Math.log(1 - rand())).sort((a, b) => a - b);
      const points = gridPoints(k6Values(sorted));
      for (const p of [0.5, 0.9, 0.99]) {
        const ci = gridInterval(points, n, p);
        const truth = -Math.log(1 - p);
        if ((ci.lower ?? -Infinity) <= truth && truth <= (ci.upper ?? Infinity)) hits[p]!++;
      }
    }
    for (const p of [0.5, 0.9, 0.99]) assert.ok(hits[p]! / trials >= 0.93, `n=${n} p=${p}: ${hits[p]} of ${trials}`);
  }
});

test('a threshold decided on the grid: met / broken only where the samples themselves decide the same way', () => {
  const sorted = latencies(3000, 42);
  const values = k6Values(sorted);
  const p99 = quantileSorted(sorted, 0.99);
  assert.equal(decideOnGrid(values, 3000, `p(99)<${Math.ceil(p99 * 2)}`)!.verdict, 'met');
  assert.equal(decideOnGrid(values, 3000, `p(99)<${Math.floor(p99 / 2)}`)!.verdict, 'broken');
  const near = decideOnGrid(values, 3000, `p(99)<${p99}`)!;
  assert.equal(near.verdict, 'undecided');
  assert.ok(near.lower! < p99 && near.upper! > p99 && near.n === 3000 && near.side === 'upper');
  for (const [expr, op] of [['p(99)<', '<'], ['p(90)<=', '<='], ['p(50)<', '<']] as const) {
    const p = Number(/p\((\d+)\)/.exec(expr)![1]) / 100;
    for (let i = 0; i <= 100; i++) {
      const x = sorted[0]! + ((sorted[sorted.length - 1]! - sorted[0]!) * i) / 100;
      const grid = decideOnGrid(values, 3000, `${expr}${x}`)!;
      const exact = decideThreshold(sorted, p, x, op);
      if (grid.verdict !== 'undecided') assert.equal(grid.verdict, exact.verdict, `${expr}${x}: grid ${grid.verdict}, samples ${exact.verdict}`);
    }
  }
  // A floor p(50)>=X: met when the lower bound of p50 reaches X, broken when its upper bound is below.
  const p50 = quantileSorted(sorted, 0.5);
  assert.equal(decideOnGrid(values, 3000, `p(50)>=${p50 / 2}`)!.verdict, 'met');
  assert.equal(decideOnGrid(values, 3000, `p(50)>=${p50 * 2}`)!.verdict, 'broken');
  assert.equal(decideOnGrid(values, 3000, `p(50)>=${p50 / 2}`)!.side, 'lower');
  // Not a percentile bound, or nothing to decide: no decision.
  assert.equal(decideOnGrid(values, 3000, 'max<100'), null);
  assert.equal(decideOnGrid(values, 0, 'p(99)<100'), null);
});

test('78 samples cannot meet p(99)<X at 95 %: undecided, needs 299, and the projection says about as many', () => {
  const sorted = latencies(78, 3);
  const d = decideOnGrid(k6Values(sorted), 78, 'p(99)<60000')!;
  assert.equal(d.verdict, 'undecided');
  assert.equal(d.upper, null);
  assert.equal(d.min_samples, 299);
  assert.equal(minSamplesFor(0.99, 0.95, 'upper'), 299);
  assert.deepEqual([d.needed_samples, d.needed_for], [299, 'met']);
  // Far beyond the samples, a bound still breaks it from below.
  assert.equal(decideOnGrid(k6Values(sorted), 78, 'p(99)<1')!.verdict, 'broken');
});

const gate = (expression: string, over: Partial<GateDecision>): { expression: string; decision: GateDecision } => ({
  expression,
  decision: { verdict: 'undecided', n: 78, confidence: 0.95, p: 0.99, side: 'upper', lower: 3000, upper: null, min_samples: 299, needed_samples: 299, needed_for: 'met', ...over },
});

test('validity: INVALID with every reason and the setting that fixes it; VALID otherwise', () => {
  // The default make bench on this machine: 78 accepted in 30 s.
  const few = validityOf({ level: '8', duration_s: 30, requests: 78 }, { kind: 'concurrency', planned_s: 30, gates: [gate('p(99)<60000', {})] });
  assert.equal(few.verdict, 'INVALID');
  assert.deepEqual(few.reasons.map((r) => r.code), ['too_few_samples']);
  assert.match(few.reasons[0]!.detail, /p\(99\)<60000 needs >= 299 samples for its 95% upper bound, has 78/);
  // 299 samples at 2.6/s is 115 s; with a tenth more, rounded up: 130 s.
  assert.equal(few.reasons[0]!.advice, 'DURATION=130s at the observed 2.6/s');
  const valid = validityOf({ level: '8', duration_s: 30, requests: 9000 }, { kind: 'concurrency', planned_s: 30, gates: [gate('p(99)<10000', { verdict: 'met', n: 9000, upper: 60 })] });
  assert.deepEqual(valid, { verdict: 'VALID', reasons: [] });
  // Too short (MIN_DURATION), and no samples at all.
  const short = validityOf({ level: '1', duration_s: 5, requests: 0 }, { kind: 'sweep', planned_s: 5, gates: [] }, { min_duration_s: 10 });
  assert.deepEqual(short.reasons.map((r) => [r.code, r.advice]), [['no_samples', 'see the refused and failed columns and server.log'], ['too_short', 'DURATION=10s']]);
  assert.equal(validityOf({ level: '1', duration_s: 5, requests: 900 }, { kind: 'sweep', planned_s: 5, gates: [] }, { min_duration_s: 5 }).verdict, 'VALID');
  // Open loop: dropped arrivals; capacity's steps are set by STEP.
  const dropped = validityOf({ level: '20', duration_s: 30, requests: 500, dropped: 12 }, { kind: 'rate', planned_s: 30, gates: [] });
  assert.deepEqual(dropped.reasons.map((r) => r.code), ['dropped_arrivals']);
  assert.match(dropped.reasons[0]!.advice, /MAX_VUS/);
  assert.equal(validityOf({ level: '4', duration_s: 6, requests: 24, dropped: 0 }, { kind: 'capacity', planned_s: 6, gates: [] }).reasons[0]!.advice, 'STEP=10s');
  // Counted scenarios: no minimum duration; the count is the setting.
  const smoke = validityOf({ level: '1', duration_s: 0, requests: 3 }, { kind: 'smoke', planned_s: 0, gates: [gate('p(99)<30000', { n: 3 })] });
  assert.deepEqual(smoke.reasons.map((r) => [r.code, r.advice]), [['too_few_samples', 'SMOKE_REQUESTS=299']]);
  // A run cut short by a lost server.
  const cut = validityOf({ level: '8', duration_s: 12, requests: 5000 }, { kind: 'concurrency', planned_s: 30, gates: [], incomplete: true });
  assert.deepEqual(cut.reasons.map((r) => r.code), ['incomplete']);
  assert.equal(niceDuration(3), '5s');
  assert.equal(niceDuration(601), '11m');
  assert.equal(sampleAdvice('concurrency', '8', 299, 0), null, 'nothing observed, nothing to extrapolate');
});

/** k6's summary data of one closed-loop level: `sorted` accepted latencies, a p99 bound. */
function k6Data(sorted: number[], p99Bound: number, duration_s: number): K6SummaryData {
  const sel = 'http_req_duration{expected_response:true,impl:baseline,level:8,phase:measure}';
  const values = k6Values(sorted);
  return {
    state: { testRunDurationMs: duration_s * 1000 },
    metrics: {
      'http_reqs{expected_response:true,impl:baseline,level:8,phase:measure}': { type: 'counter', values: { count: sorted.length, rate: sorted.length / duration_s }, thresholds: { 'count>0': { ok: true } } },
      [sel]: { type: 'trend', values, thresholds: { [`p(99)<${p99Bound}`]: { ok: values['p(99)']! < p99Bound } } },
    },
  };
}

test('the summary: intervals and n per level, an undecided threshold skipped with UNDECIDED=pass and failed with UNDECIDED=fail', () => {
  const plan = planFor('concurrency8', { DURATION: '30s' });
  const sorted = latencies(78, 11);
  const pass = buildSummary(k6Data(sorted, 60000, 30), plan, ['baseline']);
  const row = pass.levels[0]!;
  assert.equal(row.latency_ms!.n, 78);
  assert.equal(row.latency_ms!.intervals!.p99!.unbounded, 'upper');
  assert.equal(row.latency_ms!.intervals!.p99!.upper, null);
  assert.ok(row.latency_ms!.intervals!.p50!.lower! <= row.latency_ms!.p50 && row.latency_ms!.p50 <= row.latency_ms!.intervals!.p50!.upper!);
  assert.equal(row.validity!.verdict, 'INVALID');
  assert.deepEqual(Object.keys(pass.metrics['http_req_duration{expected_response:true,impl:baseline,level:8,phase:measure}']!).sort(), ['avg', 'count', 'max', 'med', 'min', 'p(90)', 'p(95)', 'p(99)'], 'the grid feeds the intervals, not the metrics shown');
  const text = summaryText(pass);
  // Only one bound: no figure to 0.001 ms, the words instead.
  assert.match(text, /baseline 8 p99: >= \S+ ms \(too few samples for an upper bound: n=78, needs 368 for a 95% interval on p99\)/);
  assert.match(text, /^validity baseline 8: INVALID: p\(99\)<60000 needs >= 299 samples .* -> DURATION=\d+s at the observed 2\.6\/s$/m);
  assert.match(text, /^ {7}undecided at 95%: n=78, a 95% upper bound on p99 needs >= 299 samples/m);
  assert.match(text, /^latency thresholds at 95% confidence: 0 met, 0 broken, 1 undecided \(UNDECIDED=pass: k6's own verdict stands\)$/m);
  assert.match(text, /^thresholds: 2\/2 passed$/m, "k6's own verdicts as they were");
  assert.deepEqual(undecidedFailures(pass), []);
  const xmlPass = junitXml(pass);
  assert.match(xmlPass, /<skipped message="undecided at 95%: n=78/);
  assert.match(xmlPass, /failures="0" skipped="1"/);

  const fail = buildSummary(k6Data(sorted, 60000, 30), plan, ['baseline'], undefined, { undecided: 'fail' });
  assert.equal(undecidedFailures(fail).length, 1);
  assert.match(junitXml(fail), /<failure message="undecided at 95%: n=78[^"]*\(UNDECIDED=fail\)"/);
  assert.match(summaryText(fail), /1 undecided \(UNDECIDED=fail: an undecided threshold fails the run \(exit 99\)\)/);

  // Thousands of samples: the interval prints with the digits it supports, the threshold is met, the level VALID.
  const many = buildSummary(k6Data(latencies(9000, 12), 10000, 30), plan, ['baseline'], undefined, { undecided: 'fail' });
  assert.equal(many.levels[0]!.validity!.verdict, 'VALID');
  assert.equal(many.thresholds.find((t) => t.decision)!.decision!.verdict, 'met');
  assert.deepEqual(undecidedFailures(many), []);
  assert.match(summaryText(many), /^baseline +8 +9000 +300 +\d+(\.\d+)? \[\d+(\.\d+)?, \d+(\.\d+)?\] +\d+(\.\d+)? \[\d+(\.\d+)?, \d+(\.\d+)?\] /m);
});

test("exit code: an undecided threshold under UNDECIDED=fail exits 99 like a broken one, after a lost server and k6's own code", () => {
  assert.equal(benchExitCode(undefined, 0, 0, 1), EXIT_THRESHOLDS_FAILED);
  assert.equal(benchExitCode(undefined, 0, 1, 1), EXIT_THRESHOLDS_FAILED, 'before a failed post-processing gate, as a broken threshold is');
  assert.equal(benchExitCode(undefined, 0, 1, 0), EXIT_POSTPROCESS_FAILED);
  // VALIDITY=fail: an INVALID level is the last reason to fail, after every other.
  assert.equal(benchExitCode(undefined, 0, 0, 0, 1), 96);
  assert.equal(benchExitCode(undefined, 0, 1, 0, 1), EXIT_POSTPROCESS_FAILED);
  assert.equal(benchExitCode(undefined, 99, 0, 0, 1), 99);
  assert.equal(benchExitCode('server lost', 0, 0, 0, 1), 97);
  assert.equal(benchExitCode(undefined, 107, 0, 1), 107);
  assert.equal(benchExitCode(undefined, 0, 0, 0), 0);
});

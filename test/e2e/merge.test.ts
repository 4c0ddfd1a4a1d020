// The merge against k6 itself: one real k6 run writes its own summary (handleSummary) and its raw
// samples (--out json); merging that one file must give k6's figures, thresholds and shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { bundleScenarios } from '../../tools/build.ts';
import { k6Binary } from '../../tools/common/k6.ts';
import { inspectOptions } from '../../tools/scale-out/runners.ts';
import { evaluateThreshold, mergeRunners, parseThreshold, planEnvOf, readRunnerSamples } from '../../tools/scale-out/merge.ts';
import { quantileSorted } from '../../lib/stats.ts';
import { quantileInterval } from '../../lib/confidence.ts';
import { run } from '../helpers/run.ts';
import { fakeTarget } from './bench-helpers.ts';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: merged ${a}, k6 ${b}`);

test('percentile and threshold expressions follow k6 (linear interpolation; missing aggregation passes)', () => {
  const s = Float64Array.from([1, 2, 3, 4]);
  assert.equal(quantileSorted(s, 0.5), 2.5);
  assert.ok(Math.abs(quantileSorted(s, 0.99) - 3.97) < 1e-12);
  assert.equal(quantileSorted(Float64Array.from([7]), 0.99), 7);
  assert.deepEqual(parseThreshold('p(99.9)<=1e-6'), { key: 'p(99.9)', percentile: 99.9, op: '<=', value: 1e-6 });
  assert.equal(evaluateThreshold({ count: 0 }, 'count>0'), false);
  assert.equal(evaluateThreshold({}, 'rate<0.01'), true);
  assert.throws(() => parseThreshold('p99 < x'), /not one the merge understands/);
});

test('merging one runner reproduces k6 own end-of-test summary', async () => {
  const target = await fakeTarget({ fastMs: 3 });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'merge-e2e-'));
    const [script] = await bundleScenarios([join('scenarios', 'rate.ts')], join(dir, 'k6'));
    const env = { ...process.env, TARGET: target.url, SCENARIO: 'rate', RATE: '30', DURATION: '2s', WARMUP: '4', DATASET_MANIFEST: resolve('build/data/synthetic/manifest.json'), RESULTS_DIR: dir, K6_WEB_DASHBOARD: 'false' };
    const k6 = k6Binary();
    const r = await run(k6, ['run', '--no-usage-report', '-q', '--out', `json=${join(dir, 'samples.json.gz')}`, script!], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const own = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    const declared = await inspectOptions(k6, script!, env);
    const merged = (await mergeRunners([join(dir, 'samples.json.gz')], { version: 1, scenario: 'rate', impls: ['baseline'], planEnv: planEnvOf(env), thresholds: declared.thresholds, summaryTrendStats: declared.summaryTrendStats }, own.test_duration_s)).summary;

    assert.deepEqual(Object.keys(merged.metrics).sort(), Object.keys(own.metrics).sort(), 'same metrics and sub-metrics');
    for (const [key, values] of Object.entries(own.metrics)) {
      for (const [stat, v] of Object.entries(values)) {
        // Counter rates divide by k6's exact run time; the summary keeps it to the millisecond.
        if (stat === 'rate' && 'count' in values) assert.ok(Math.abs(merged.metrics[key]![stat]! - v) <= 0.01 * Math.max(v, 1), `${key} ${stat}: merged ${merged.metrics[key]![stat]}, k6 ${v}`);
        else close(merged.metrics[key]![stat]!, v, `${key} ${stat}`);
      }
    }
    assert.deepEqual(merged.thresholds, own.thresholds, 'same thresholds, same verdicts');
    assert.deepEqual(merged.levels, own.levels);
    // Goodput (requests_good, a counter sub-metric per level) is rebuilt from the samples too.
    assert.ok(own.levels[0]!.good! > 0 && own.levels[0]!.goodput_rps! > 0, JSON.stringify(own.levels[0]));
    // Stability windows (lib/stability.ts): the window tag survives the samples, so the merge rebuilds each window's sub-metric.
    assert.ok(Object.keys(own.metrics).some((k) => k.includes(',window:4}')), 'k6 reported the last window');
    assert.equal(own.levels[0]!.stability!.windows.length, 5);
    assert.deepEqual(merged.levels[0]!.stability, own.levels[0]!.stability);
    assert.deepEqual(merged.warmup, own.warmup);
    assert.equal(merged.dropped_iterations, own.dropped_iterations);

    // The intervals and decisions come out of the same buildSummary on both (deepEqual above); here,
    // against the raw samples: each interval read off k6's grid holds the exact order-statistic one.
    const row = own.levels[0]!;
    const samples = await readRunnerSamples(join(dir, 'samples.json.gz'));
    const sorted = [...samples.series.get('http_req_duration')!.values()]
      .filter((x) => x.tags['phase'] === 'measure' && x.tags['expected_response'] === 'true')
      .flatMap((x) => x.values)
      .sort((a, b) => a - b);
    assert.equal(row.latency_ms!.n, sorted.length, 'n is the number of accepted samples');
    assert.equal(sorted.length, row.requests);
    for (const [key, p] of [['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99]] as const) {
      const exact = quantileInterval(sorted, p);
      const grid = row.latency_ms!.intervals![key]!;
      assert.equal(grid.unbounded ?? null, exact.unbounded, `${key}: unbounded as the ranks say (n=${sorted.length})`);
      if (exact.lower !== null) assert.ok(grid.lower! <= exact.lower + 1e-3, `${key}: grid lower ${grid.lower} <= exact ${exact.lower}`);
      if (exact.upper !== null) assert.ok(grid.upper! >= exact.upper - 1e-3, `${key}: grid upper ${grid.upper} >= exact ${exact.upper}`);
    }
    assert.ok(own.thresholds.some((t) => t.decision && t.expression.startsWith('p(99)<')), 'the p99 bound carries a decision');
  } finally {
    await target.close();
  }
});

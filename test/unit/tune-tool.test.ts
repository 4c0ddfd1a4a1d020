// make tune's pure parts around the search: a bench summary judged into an objective with its interval
// and the constraints broken (p99 SLO plain and clear, per model under a mix, accuracy, memory), the
// replicas for a target rate, the recommended command's quoting, the knobs' cross-checks and the
// spaces (an axis only where its IMPL reads the knob; server knobs from the environment fixed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/env.ts';
import type { LevelRow, Summary } from '../../lib/summary.ts';
import { tuneConfig } from '../../tools/tune/config.ts';
import { countRateInterval, judge, windowRateInterval } from '../../tools/tune/measure.ts';
import { commandOf, replicasFor } from '../../tools/tune/output.ts';
import { ourSpace, tritonSpace } from '../../tools/tune/space.ts';
import { configsOf } from '../../tools/tune/search.ts';

function row(level: string, o: { requests: number; good?: number; p99: number; p99lo: number; windows?: number[] }): LevelRow {
  const duration_s = 10;
  return {
    impl: 'x', level, duration_s, requests: o.requests, rps: o.requests / duration_s, refused: 0, failed: 0, refused_ratio: 0, refused_latency_ms: null, images_per_request: 1, images_per_s: o.requests / duration_s,
    latency_ms: { min: 1, avg: 1, p50: 1, p90: 1, p95: 1, p99: o.p99, max: o.p99, n: o.requests, intervals: { p99: { lower: o.p99lo, upper: null, confidence: 0.95 } } },
    good: o.good ?? o.requests, goodput_rps: (o.good ?? o.requests) / duration_s,
    ...(o.windows ? { stability: { windows: o.windows.map((rps) => ({ rps, p50_ms: 1, n: rps * 2 })), stable: false, spread: { rps: null, p50: null }, tolerance: 0.1, from: 2, to: 4 } } : {}),
  } as LevelRow;
}

const summary = (kind: string, levels: LevelRow[], postprocess: Summary['postprocess'] = []): Summary => ({ scenario: kind, kind, unit: 'x', impls: ['x'], test_duration_s: 10, levels, warmup: { requests: 0, latency_ms: null }, dropped_iterations: 0, thresholds: [], thresholds_ok: true, postprocess, metrics: {} }) as unknown as Summary;

const base = { objective: 'goodput' as const, memoryCap_mb: 0, memory_mb: 300, accuracyRun: false };

describe('make tune: judging a run', () => {
  it('goodput with an interval that holds it; p99 over the SLO is a violation, clear only when its interval is over', () => {
    const s = summary('concurrency', [row('8', { requests: 100, good: 90, p99: 500, p99lo: 450 })]);
    const near = judge(s, { ...base, slo: { all: 480, models: {} } });
    assert.equal(near.objective, 9);
    assert.ok(near.objective_lo < 9 && near.objective_hi > 9);
    assert.deepEqual(near.violations, ['p99 500 > 480 ms']);
    assert.deepEqual(near.clear_violations, []);
    const far = judge(s, { ...base, slo: { all: 400, models: {} } });
    assert.deepEqual(far.clear_violations, ['p99 >= 450 > 400 ms (95 %)']);
    assert.deepEqual(judge(s, { ...base, slo: null }).violations, []);
    assert.equal(judge(s, { ...base, objective: 'rps', slo: null }).objective, 10);
  });

  it('a mix: each model against its own bound, the objective summed over the streams', () => {
    const s = summary('mix', [row('d0', { requests: 200, p99: 90, p99lo: 80 }), row('d2', { requests: 50, p99: 3000, p99lo: 2500 })]);
    const j = judge(s, { ...base, slo: { models: { d0: 100, d2: 2000 } } });
    assert.equal(j.objective, 25);
    assert.deepEqual(j.violations, ['d2 p99 3000 > 2000 ms']);
    assert.deepEqual(j.clear_violations, ['d2 p99 >= 2500 > 2000 ms (95 %)']);
    assert.equal(j.figures['p99_ms'], 3000);
    assert.equal(j.figures['p99_ms_d0'], 90);
  });

  it('a failed accuracy verdict and memory over the cap are clear violations', () => {
    const s = summary('concurrency', [row('8', { requests: 100, p99: 50, p99lo: 40 })], [{ name: 'accuracy int8', passed: false, lines: ['labels accuracy 0.1 < 0.3'] }]);
    const j = judge(s, { ...base, accuracyRun: true, memoryCap_mb: 256, slo: null });
    assert.deepEqual(j.clear_violations, ['accuracy int8 out of bounds (labels accuracy 0.1 < 0.3)', 'memory 300 > 256 MB']);
    assert.equal(j.figures['accuracy'], 'failed');
  });

  it('a run with no replay (Triton over v2) is judged by its in-run output checks, or says it was not judged at all', () => {
    const checked = (ok: boolean) => ({ ...summary('concurrency', [row('8', { requests: 100, p99: 50, p99lo: 40 })]), thresholds: [{ metric: 'output_match{model:d0}', ok }] }) as unknown as Summary;
    assert.equal(judge(checked(true), { ...base, accuracyRun: true, slo: null }).figures['accuracy'], 'in-run checks passed');
    assert.equal(judge(checked(false), { ...base, accuracyRun: true, slo: null }).figures['accuracy'], 'in-run checks failed');
    assert.equal(judge(summary('concurrency', [row('8', { requests: 100, p99: 50, p99lo: 40 })]), { ...base, accuracyRun: true, slo: null }).figures['accuracy'], 'not run');
  });

  it("the interval: Poisson's score form at small counts, the windows' t interval when they scatter more", () => {
    const zero = countRateInterval(0, 10);
    assert.ok(zero.lo === 0 && zero.hi > 0.3 && zero.hi < 0.4, JSON.stringify(zero));
    const hundred = countRateInterval(100, 10);
    assert.ok(hundred.lo > 8 && hundred.lo < 10 && hundred.hi > 10 && hundred.hi < 12.5, JSON.stringify(hundred));
    // Windows of 5 to 15 req/s around 10: far wider than the count's +-2.
    const w = windowRateInterval(row('8', { requests: 100, p99: 1, p99lo: 1, windows: [5, 15, 5, 15, 10] }), 10)!;
    assert.ok(w.lo < 5 && w.hi > 15, JSON.stringify(w));
    const s = summary('concurrency', [row('8', { requests: 100, p99: 1, p99lo: 1, windows: [5, 15, 5, 15, 10] })]);
    const j = judge(s, { ...base, objective: 'rps', slo: null });
    assert.ok(j.objective_lo <= w.lo + 1e-3 && j.objective_hi >= w.hi - 1e-3, JSON.stringify(j));
    assert.equal(windowRateInterval(row('8', { requests: 100, p99: 1, p99lo: 1, windows: [5, 15] }), 10), null);
  });
});

describe('make tune: the recommendation', () => {
  it('replicas: ceil(target / (lower bound x (1 - headroom))), none from a lower bound of 0', () => {
    assert.equal(replicasFor({ objective_lo: 2.5 }, 40, 0.2, 'req/s').replicas, 20);
    assert.equal(replicasFor({ objective_lo: 2.6 }, 40, 0.2, 'req/s').replicas, 20);
    assert.equal(replicasFor({ objective_lo: 0 }, 40, 0.2, 'req/s').replicas, null);
  });

  it('the command: make server for ours, make triton for Triton, odd values quoted for the shell', () => {
    assert.equal(commandOf('ours', { IMPL: 'isolated', INSTANCES: 'd0:1,d1:1,d2:2' }), 'make server IMPL=isolated INSTANCES=d0:1,d1:1,d2:2');
    assert.equal(commandOf('ours', { IMPL: 'x', MODELS_DIR: '/a b' }), "make server IMPL=x 'MODELS_DIR=/a b'");
    assert.equal(commandOf('triton', { TRITON_MODEL_SET: 'dynamic', TRITON_MAX_DELAY: '2ms' }), 'make triton TRITON_MODEL_SET=dynamic TRITON_MAX_DELAY=2ms');
  });
});

describe('make tune: knobs and spaces', () => {
  it('refuses what cannot work, with one line naming the fix', () => {
    assert.throws(() => tuneConfig({ TUNE_SLO: 'd0:300' }), (e: Error) => e instanceof ConfigError && /only SCENARIO=mix measures apart/.test(e.message));
    assert.throws(() => tuneConfig({ TUNE_PROBE_DURATION: '30s', DURATION: '10s' }), (e: Error) => e instanceof ConfigError && /longer than DURATION/.test(e.message));
    assert.throws(() => tuneConfig({ TUNE_AXES: 'PARALLEL_WORKERS=1,2' }), ConfigError);
    assert.throws(() => tuneConfig({ TUNE_MAX_DELAY: '2ms,2m' }), ConfigError);
    assert.throws(() => tuneConfig({ PEERS: 'fastapi' }), ConfigError);
    assert.throws(() => tuneConfig({ TARGET: 'http://gpu-host:8000' }), (e: Error) => e instanceof ConfigError && /unset TARGET/.test(e.message));
    assert.deepEqual(tuneConfig({ PEERS: 'triton' }).stacks, ['ours', 'triton']);
  });

  it("our axes apply where the IMPL reads them; the environment's server knobs are fixed", () => {
    const env = { IMPL: 'baseline,batched', TUNE_WORKERS: '1,2', TUNE_THREADS: '1', TUNE_MAX_BATCH: '4,8', TUNE_MAX_DELAY: '2ms', EP: 'cpu', LOG_LEVEL: 'warn' };
    const space = ourSpace(tuneConfig(env), env);
    assert.deepEqual(space.fixed, { EP: 'cpu' });
    const configs = configsOf(space);
    assert.equal(configs.length, 1 + 2 * 2);
    assert.deepEqual(configs.find((c) => c['IMPL'] === 'baseline'), { EP: 'cpu', IMPL: 'baseline' });
    assert.ok(configs.filter((c) => c['IMPL'] === 'batched').every((c) => c['BATCHER_MAX_DELAY'] === '2ms' && c['PARALLEL_THREADS'] === '1'));
    assert.equal(space.dimensions.find((d) => d.knob === 'PARALLEL_WORKERS')!.start, '2');
  });

  it("Triton's batcher axes apply to the dynamic set only", () => {
    const env = { TUNE_TRITON_INSTANCES: '1,2', TUNE_TRITON_MAX_BATCH: '4,8', TUNE_TRITON_MAX_DELAY: '1ms' };
    const configs = configsOf(tritonSpace(tuneConfig(env), env));
    assert.equal(configs.length, 2 + 2 * 2);
    assert.ok(configs.filter((c) => c['TRITON_MODEL_SET'] === 'instances').every((c) => !('TRITON_MAX_BATCH' in c)));
  });
});

// SCENARIO=mix as a plan (lib/scenarios.ts) and its per-model bounds (lib/bounds.ts): one level per
// stream, all starting together, one k6 scenario each; MIX refusals; slo.<s>.<impl>.models.<m>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFor } from '../../lib/scenarios.ts';
import { DEFAULT_BOUNDS, mergeBounds, resolveBounds, thresholdsFor, validateBoundsFile, type BoundsFile } from '../../lib/bounds.ts';
import { ConfigError } from '../../lib/env.ts';

test('mix: a level per stream (tag = model), all from 0 s, open loop by default (constant-arrival-rate each)', () => {
  const plan = planFor('mix', { MIX: 'd0:6,d2:1', DURATION: '20s' });
  assert.equal(plan.unit, 'rps');
  assert.deepEqual(plan.levels.map((l) => [l.tag, l.value, l.start_s, l.duration_s, l.models]), [['d0', 6, 0, 20, ['d0']], ['d2', 1, 0, 20, ['d2']]]);
  assert.deepEqual(Object.entries(plan.k6Scenarios).map(([k, sc]) => [k, sc.executor, sc.rate, sc.startTime, sc.env['LEVEL']]), [['level_d0', 'constant-arrival-rate', 6, '0ms', 'd0'], ['level_d2', 'constant-arrival-rate', 1, '0ms', 'd2']]);
  const closed = planFor('mix', { MIX: 'd1:3', MIX_LOOP: 'closed', DURATION: '5s' });
  assert.equal(closed.unit, 'vus');
  assert.deepEqual(Object.values(closed.k6Scenarios).map((sc) => [sc.executor, sc.vus]), [['constant-vus', 3]]);
  assert.deepEqual(planFor('mix', {}).levels.map((l) => `${l.tag}:${l.value}`), ['d0:4', 'd2:1'], 'the default mix');
});

test('MIX refuses a model twice, an unknown model, zero and junk, naming the form', () => {
  for (const bad of ['d0:2,d0:1', 'd3:1', 'd0:0', 'd0', 'd0:1,', 'x:1', 'd0:0.0001', 'd0:-1']) {
    assert.throws(() => planFor('mix', { MIX: bad }), (e: Error) => e instanceof ConfigError && e.message.startsWith(`MIX=${bad} is not valid: expected a comma list of model:number, each model once`), bad);
  }
});

test('per-model bounds: each stream held to its model\'s own p99 (and goodput SLO), the others to the scenario\'s', () => {
  const file = mergeBounds(DEFAULT_BOUNDS, validateBoundsFile({ slo: { mix: { '*': { p99_ms: 5000, models: { d0: { p99_ms: 300 } } }, concurrent: { models: { d2: { p99_ms: 2500, goodput_min_rps: 0.5 } } } } }, accuracy: DEFAULT_BOUNDS.accuracy }, 'test')) as BoundsFile;
  const plan = planFor('mix', { MIX: 'd0:6,d1:1,d2:1', DURATION: '10s' });
  const b = resolveBounds(file, plan, 'concurrent');
  assert.deepEqual([b.levels['d0']!.p99_max_ms, b.levels['d1']!.p99_max_ms, b.levels['d2']!.p99_max_ms], [300, 5000, 2500]);
  assert.match(b.levels['d0']!.sources.join(';'), /p99 SLO 300 ms \(d0's own\)/);
  assert.equal(b.levels['d2']!.goodput_min_rps, 0.5);
  assert.equal(b.levels['d2']!.goodput_slo_ms, 2500, "on time: the model's own p99");
  const t = thresholdsFor(plan, [b]);
  assert.deepEqual(t['http_req_duration{expected_response:true,impl:concurrent,level:d0,phase:measure}'], ['p(99)<300']);
  assert.deepEqual(t['dropped_iterations'], ['count<=0'], 'open mix: its dropped arrivals are bounded as rate\'s (1 % of 80)');
  // baseline has no per-model d2 entry: the scenario's bound.
  assert.equal(resolveBounds(file, plan, 'baseline').levels['d2']!.p99_max_ms, 5000);
});

test('validateBoundsFile: a per-model entry names a model and known bounds', () => {
  const at = (models: unknown) => () => validateBoundsFile({ slo: { mix: { '*': { models } } }, accuracy: DEFAULT_BOUNDS.accuracy }, 'f.json');
  assert.throws(at({ d9: { p99_ms: 1 } }), /f\.json: slo\.mix\.\*\.models\.d9 is not a model \(expected one of d0, d1, d2\)/);
  assert.throws(at({ d0: { refused_max_ratio: 1 } }), /slo\.mix\.\*\.models\.d0\.refused_max_ratio is not a per-model bound/);
  assert.throws(at({ d0: { p99_ms: 'x' } }), /slo\.mix\.\*\.models\.d0\.p99_ms must be a number/);
  assert.throws(at([1]), /slo\.mix\.\*\.models must be an object of model/);
});

test('mix rates may be fractions (open loop): k6 counts them per 1000 s; a closed mix needs whole VUs', async () => {
  const { plannedArrivals } = await import('../../lib/load-shapes.ts');
  const plan = planFor('mix', { MIX: 'd0:2.5,d2:0.25', DURATION: '20s' });
  const d2 = plan.k6Scenarios['level_d2']!;
  assert.deepEqual([d2.rate, d2.timeUnit], [250, '1000s']);
  assert.equal(plannedArrivals(d2, 20), 5, '0.25/s for 20 s');
  assert.deepEqual([plan.k6Scenarios['level_d0']!.rate, plan.k6Scenarios['level_d0']!.timeUnit], [2500, '1000s']);
  assert.throws(() => planFor('mix', { MIX: 'd0:1.5', MIX_LOOP: 'closed' }), /MIX=d0:1\.5 with MIX_LOOP=closed: each stream's number is its VUs, a whole number/);
});

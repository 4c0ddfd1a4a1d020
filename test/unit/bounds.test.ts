// lib/bounds.ts: SLO resolution order, host bounds, thresholds, bounds-file merge/validation, accuracy bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyBoundsFor, DEFAULT_BOUNDS, mergeBounds, perResponseBounds, resolveAccuracy, resolveBounds, selector, sloFor, thresholdsFor, validateBoundsFile, type BoundsFile, type HostBounds } from '../../lib/bounds.ts';
import { planFor } from '../../lib/scenarios.ts';

const file: BoundsFile = mergeBounds(DEFAULT_BOUNDS, {
  slo: { '*': { '*': { p99_ms: 1000 }, fast: { p99_ms: 100 } }, concurrency: { '*': { p99_ms: 900 } }, concurrency8: { fast: { p99_ms: 50 } } },
});

const calibration: HostBounds = {
  version: 1,
  created: '2026-01-01T00:00:00Z',
  host: { cpu: 'test', cores: 2, ep: 'cpu' },
  duration_s: 30,
  levels: { '8': { baseline: { p50_ms: 2000, p99_ms: 3000, rps: 4, requests: 120 }, invalid: { p50_ms: 10, p99_ms: 20, rps: 500, requests: 15000 } } },
};

test('SLO resolution: * then kind then name, implementation beats *', () => {
  assert.equal(sloFor(file, 'sweep', 'sweep', 'baseline').p99_ms, 1000);
  assert.equal(sloFor(file, 'sweep', 'sweep', 'fast').p99_ms, 100);
  assert.equal(sloFor(file, 'concurrency4', 'concurrency', 'fast').p99_ms, 900, 'kind entry for * beats the global impl entry');
  assert.equal(sloFor(file, 'concurrency8', 'concurrency', 'fast').p99_ms, 50);
  const always = sloFor(file, 'smoke', 'smoke', 'x');
  assert.equal(always.http_req_failed_max, 0.01);
  assert.equal(always.checks_min, 0.99);
});

test('host bounds: p99 <= baseline p99, req/s >= baseline, p50 >= stub p50, each with the tolerance', () => {
  const plan = planFor('concurrency8', { DURATION: '10s' });
  const b = resolveBounds(DEFAULT_BOUNDS, plan, 'batched', calibration);
  const tol = DEFAULT_BOUNDS.calibration!.tolerance!;
  assert.equal(b.levels['8']!.p99_max_ms, Math.round(3000 * (1 + tol) * 1000) / 1000);
  assert.equal(b.levels['8']!.rps_min, Math.round(4 * (1 - tol) * 1000) / 1000);
  assert.equal(b.levels['8']!.p50_min_ms, Math.round(10 * (1 - tol) * 1000) / 1000);
  assert.ok(b.calibration);
  const t = thresholdsFor(plan, [b]);
  const dur = t[selector('http_req_duration', { impl: 'batched', level: '8', phase: 'measure', expected_response: 'true' })]!;
  assert.ok(dur.includes(`p(99)<${b.levels['8']!.p99_max_ms}`), JSON.stringify(dur));
  assert.ok(dur.includes(`p(50)>=${b.levels['8']!.p50_min_ms}`));
  // req/s is checked as a count over the measured seconds (k6's counter rate spans the whole test).
  const reqs = t['http_reqs{expected_response:true,impl:batched,level:8,phase:measure}']!;
  assert.ok(reqs.includes(`count>=${Math.ceil(b.levels['8']!.rps_min! * 10)}`), JSON.stringify(reqs));
  assert.deepEqual(t['http_req_failed{impl:batched,phase:measure}'], ['rate<0.01']);
  assert.deepEqual(t['checks{impl:batched,phase:measure}'], ['rate>0.99']);
});

test('host bounds: baseline and invalid are not gated against their own figures', () => {
  const plan = planFor('concurrency8', { DURATION: '10s' });
  const base = resolveBounds(DEFAULT_BOUNDS, plan, 'baseline', calibration).levels['8']!;
  assert.equal(base.rps_min, DEFAULT_BOUNDS.slo['*']!['*']!.rps_min);
  assert.equal(base.p99_max_ms, DEFAULT_BOUNDS.slo['*']!['*']!.p99_ms);
  assert.ok(base.sources.some((s) => s.startsWith('invalid host bounds')), 'baseline keeps the stub floor');
  const stub = resolveBounds(DEFAULT_BOUNDS, plan, 'invalid', calibration).levels['8']!;
  assert.ok(!stub.sources.some((s) => s.startsWith('invalid host bounds')));
  assert.ok(stub.sources.some((s) => s.startsWith('baseline host bounds')), 'the stub keeps the baseline ceiling');
});

test('no host bounds for a level: only the SLO applies; a tighter SLO beats the host bounds', () => {
  const plan = planFor('concurrency4', {});
  const b = resolveBounds(DEFAULT_BOUNDS, plan, 'baseline', calibration);
  assert.equal(b.levels['4']!.p99_max_ms, DEFAULT_BOUNDS.slo['*']!['*']!.p99_ms);
  assert.equal(b.levels['4']!.rps_min, undefined);
  assert.equal(b.calibration, undefined);
  const tight = mergeBounds(DEFAULT_BOUNDS, { slo: { '*': { '*': { p99_ms: 5 } } } });
  assert.equal(resolveBounds(tight, planFor('concurrency8', {}), 'baseline', calibration).levels['8']!.p99_max_ms, 5);
});

test('sweep: thresholds per level; rate: dropped iterations bounded', () => {
  const sweep = planFor('sweep', { LEVELS: '1,2,4', DURATION: '5s' });
  const t = thresholdsFor(sweep, [resolveBounds(DEFAULT_BOUNDS, sweep, 'baseline')]);
  for (const l of ['1', '2', '4']) assert.ok(t[`http_req_duration{expected_response:true,impl:baseline,level:${l},phase:measure}`], `level ${l}`);
  const rate = planFor('rate', { RATE: '10', DURATION: '10s' });
  const r = thresholdsFor(rate, [resolveBounds(DEFAULT_BOUNDS, rate, 'baseline')]);
  assert.deepEqual(r['dropped_iterations'], ['count<=1']);
});

test('bounds file: partial override merges, unknown bound names are rejected', () => {
  const merged = validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { slo: { smoke: { '*': { p99_ms: 0.001 } } } }), 'test');
  assert.equal(sloFor(merged, 'smoke', 'smoke', 'baseline').p99_ms, 0.001);
  assert.equal(merged.accuracy.lossless.boxes_mse_max, 1e-6, 'untouched parts come from the defaults');
  assert.throws(() => validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { slo: { smoke: { '*': { p99: 1 } } } }), 'f.json'), /slo\.smoke\.\*\.p99 is not a known bound/);
  assert.throws(() => validateBoundsFile({}, 'f.json'), /not a bounds file/);
});

test('accuracy bounds: lossless exact, lossy from the file, undeclared lossy refused', () => {
  assert.deepEqual(accuracyBoundsFor('baseline', true), { boxes_mse_max: 1e-6, scores_mse_max: 1e-8, labels_accuracy_min: 1, unmatched_max: 0, output_match_min: 1 });
  const int8 = accuracyBoundsFor('int8', false);
  assert.ok(int8.boxes_mse_max > 1e-6);
  assert.throws(() => accuracyBoundsFor('mystery', false), /accuracy\.impls\.mystery/);
});

test('accuracy bounds: the run resolves them from the server\'s lossless flag; undeclared lossy gets the exact ones', () => {
  const exact = accuracyBoundsFor('x', true);
  assert.deepEqual(resolveAccuracy('concurrent', true).bounds, exact);
  assert.match(resolveAccuracy('invalid', false).source, /declares no bounds/);
  assert.deepEqual(resolveAccuracy('invalid', false).bounds, exact);
  assert.deepEqual(resolveAccuracy('int8', false).bounds, accuracyBoundsFor('int8', false));
  assert.equal('$comment' in accuracyBoundsFor('int8', false), false, 'the comment is not a bound');
});

test('accuracy bounds: one response image is held to per_response, the dataset to the aggregate', () => {
  const int8 = accuracyBoundsFor('int8', false);
  const one = perResponseBounds(int8);
  assert.ok(int8.per_response, 'int8 declares per-response bounds');
  assert.equal(one.boxes_mse_max, int8.per_response.boxes_mse_max);
  assert.ok(one.boxes_mse_max > int8.boxes_mse_max, 'one image may scatter more than the mean over the dataset');
  assert.equal(one.output_match_min, int8.output_match_min);
  assert.equal('per_response' in one, false);
  // Lossless: no per_response part, the same exact bounds per response.
  assert.deepEqual(perResponseBounds(accuracyBoundsFor('baseline', true)), accuracyBoundsFor('baseline', true));
});

test('bounds file: accuracy bound names are checked too', () => {
  validateBoundsFile(DEFAULT_BOUNDS, 'defaults');
  const loose = validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { accuracy: { impls: { int8: { per_response: { boxes_mse_max: 1e4 } } } } }), 'f.json');
  assert.equal(perResponseBounds(accuracyBoundsFor('int8', false, loose)).boxes_mse_max, 1e4);
  assert.throws(() => validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { accuracy: { impls: { int8: { boxes_mse: 1 } } } }), 'f.json'), /accuracy\.impls\.int8\.boxes_mse is not a known accuracy bound/);
  assert.throws(() => validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { accuracy: { impls: { int8: { per_response: { output_match_min: 1 } } } } }), 'f.json'), /per_response\.output_match_min is not a known/);
  assert.throws(() => validateBoundsFile(mergeBounds(DEFAULT_BOUNDS, { accuracy: { lossless: { boxes_mse_max: 'x' } } }), 'f.json'), /accuracy\.lossless\.boxes_mse_max must be a number/);
});

test('batch: the p99 bound of a level is the per-image SLO times the images per request', () => {
  const plan = planFor('batch', { BATCHES: '1,8', DURATION: '2s' });
  const b = resolveBounds(mergeBounds(DEFAULT_BOUNDS, { slo: { batch: { '*': { per_image_p99_ms: 100 } } } }), plan, 'baseline');
  assert.equal(b.levels['1']!.p99_max_ms, 100);
  assert.equal(b.levels['8']!.p99_max_ms, 800);
  assert.deepEqual(thresholdsFor(plan, [b])['http_req_duration{expected_response:true,impl:baseline,level:8,phase:measure}'], ['p(99)<800']);
});

test('capacity: steps are not gated on p99 (they are meant to overload); the SLO feeds the report', () => {
  const plan = planFor('capacity', { RATES: '1,2', STEP: '2s' });
  const b = resolveBounds(DEFAULT_BOUNDS, plan, 'baseline');
  assert.equal(b.levels['2']!.p99_max_ms, undefined);
  assert.deepEqual(thresholdsFor(plan, [b])['http_req_duration{expected_response:true,impl:baseline,level:2,phase:measure}'], ['p(99)>=0']);
  assert.equal(b.slo.capacity_slo_p99_ms, 2000);
});

test('overload: refusals expected (own ratio and time-to-refuse bounds); the failure bound moves to the other failures', () => {
  const plan = planFor('overload', { DURATION: '5s' });
  assert.equal(plan.levels[0]!.tag, '64');
  assert.equal(plan.retryAfterCap_s, 5);
  const t = thresholdsFor(plan, [resolveBounds(DEFAULT_BOUNDS, plan, 'baseline')]);
  assert.deepEqual(t['requests_failed{impl:baseline,phase:measure}'], ['rate<0.01']);
  assert.equal(t['http_req_failed{impl:baseline,phase:measure}'], undefined);
  assert.deepEqual(t['requests_refused{impl:baseline,level:64,phase:measure}'], ['rate<=1']);
  assert.deepEqual(t['http_req_duration{impl:baseline,level:64,phase:measure,status:503}'], ['p(99)<1000']);
  assert.deepEqual(t['http_req_duration{expected_response:true,impl:baseline,level:64,phase:measure}'], ['p(99)<30000']);
  // Elsewhere a refusal is a failure like any other, and its sub-metrics are only reported.
  const c = thresholdsFor(planFor('concurrency8', {}), [resolveBounds(DEFAULT_BOUNDS, planFor('concurrency8', {}), 'baseline')]);
  assert.deepEqual(c['http_req_failed{impl:baseline,phase:measure}'], ['rate<0.01']);
  assert.deepEqual(c['requests_refused{impl:baseline,level:8,phase:measure}'], ['rate>=0']);
  assert.deepEqual(c['http_req_duration{impl:baseline,level:8,phase:measure,status:503}'], ['max>=0']);
});

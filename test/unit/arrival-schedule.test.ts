// Open-loop schedules (issue 28, deliverable 4): when each arrival of the rate and capacity scenarios
// was due, which the latency from the scheduled start counts from, and the Poisson arrivals' gaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFor } from '../../lib/scenarios.ts';
import { arrivalTime, plannedArrivals, scheduledStart } from '../../lib/load-shapes.ts';
import { poissonArrivals, poissonLanes } from '../../lib/arrivals.ts';
import { buildSummary, summaryText, type K6SummaryData } from '../../lib/summary.ts';

const close = (actual: number | undefined, expected: number, what: string, tol = 1e-6) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${what}: ${actual} (expected ${expected} +- ${tol})`);

test('even arrivals (constant-arrival-rate): arrival i is due at i / rate; an iteration belongs to the last tick at or before it', () => {
  const sc = planFor('rate', { RATE: '20', DURATION: '4s' }).k6Scenarios['level_20']!;
  close(plannedArrivals(sc, 1), 20, 'arrivals by 1 s');
  close(arrivalTime(sc, 7), 0.35, 'arrival 7');
  close(scheduledStart(sc, 0), 0, 'first iteration');
  close(scheduledStart(sc, 0.35), 0.35, 'started on its tick');
  close(scheduledStart(sc, 0.3499), 0.3, 'just before the tick: the previous one');
  close(scheduledStart(sc, 0.399), 0.35, 'late within the period');
  assert.equal(scheduledStart(planFor('concurrency8', {}).k6Scenarios['level_8']!, 1), undefined, 'closed loop: no schedule');
});

test('staircase (ramping-arrival-rate): the rate integrated over the stages, 100 ms ramps included', () => {
  const plan = planFor('capacity', { RATES: '2,4', STEP: '2s' });
  const sc = plan.k6Scenarios['capacity']!;
  // 2/s for 2 s (a flat 100 ms ramp from startRate 2, then 1.9 s) = 4; the ramp 2 -> 4 over 100 ms adds 0.3; 4/s for 1.9 s adds 7.6.
  close(plannedArrivals(sc, 2), 4, 'arrivals by the end of step 1');
  close(plannedArrivals(sc, 2.1), 4.3, 'after the ramp');
  close(plannedArrivals(sc, 4), 11.9, 'by the end of step 2');
  close(plannedArrivals(sc, 2.05), 4 + 2 * 0.05 + (2 * 0.05 ** 2) / (2 * 0.1), 'mid-ramp: a trapezoid');
  close(arrivalTime(sc, 4), 2, 'arrival 4', 1e-9);
  close(arrivalTime(sc, 5), 2.1 + 0.7 / 4, 'arrival 5, in step 2', 1e-9);
  close(scheduledStart(sc, 2.2), 2, 'an iteration at 2.2 s (4.7 arrivals planned) was due at arrival 4', 1e-9);
  close(scheduledStart(sc, 2.3), 2.1 + 0.7 / 4, 'at 2.3 s (5.1 planned): arrival 5', 1e-9);
  close(scheduledStart(sc, 2.05), 2, 'mid-ramp: arrival 4', 1e-9);
});

test('Poisson arrivals: seeded, exponential gaps with mean 1/rate, lanes that add up to the rate', () => {
  const rate = 20;
  const a = poissonArrivals(rate, 500, 7);
  assert.deepEqual(poissonArrivals(rate, 5, 7), a.filter((t) => t < 5), 'the same seed gives the same arrivals');
  assert.notDeepEqual(poissonArrivals(rate, 5, 8), poissonArrivals(rate, 5, 7), 'another seed, other arrivals');
  const gaps = a.map((t, i) => t - (i === 0 ? 0 : a[i - 1]!));
  const mean = gaps.reduce((x, g) => x + g, 0) / gaps.length;
  // ~10,000 gaps: the mean's standard error is 1/rate/100, so 5 % is five of them.
  assert.ok(Math.abs(mean - 1 / rate) < 0.05 / rate, `mean gap ${mean} s, expected ${1 / rate} s`);
  // Exponential, not even: the standard deviation equals the mean, and a fifth of the gaps are under 0.22/rate.
  const sd = Math.sqrt(gaps.reduce((x, g) => x + (g - mean) ** 2, 0) / gaps.length);
  assert.ok(Math.abs(sd / mean - 1) < 0.05, `gap sd/mean ${sd / mean}, expected 1`);
  const short = gaps.filter((g) => g < 0.2231 / rate).length / gaps.length;
  assert.ok(Math.abs(short - 0.2) < 0.02, `share of gaps < 0.2231/rate: ${short}, expected 0.2`);
  assert.ok(a.every((t) => t >= 0 && t < 500));
  assert.equal(poissonLanes(20, 64), 1);
  assert.equal(poissonLanes(120, 64), 3);
  assert.equal(poissonLanes(1000, 4), 4, 'never more lanes than MAX_VUS');
});

test('ARRIVALS=poisson gives the rate scenario scheduler lanes; even stays constant-arrival-rate; other values are refused', () => {
  const even = planFor('rate', { RATE: '20', DURATION: '4s' });
  assert.equal(even.arrivals, 'even');
  assert.equal(even.k6Scenarios['level_20']!.executor, 'constant-arrival-rate');
  const p = planFor('rate', { RATE: '120', DURATION: '4s', ARRIVALS: 'poisson' });
  assert.equal(p.arrivals, 'poisson');
  assert.deepEqual({ ...p.k6Scenarios['level_120']!, env: undefined }, { exec: 'measure', startTime: '0ms', gracefulStop: '5000ms', env: undefined, executor: 'per-vu-iterations', vus: 3, iterations: 1, maxDuration: '4000ms' });
  assert.throws(() => planFor('rate', { ARRIVALS: 'bursty' }), /ARRIVALS.*even, poisson/);
});

test('summary: open-loop levels get the latency from schedule, the scheduled arrivals and the missed share (dropped + late)', () => {
  const plan = planFor('rate', { RATE: '20', DURATION: '4s' });
  const tags = 'impl:baseline,level:20,phase:measure';
  const trend = (p99: number, n: number) => ({ type: 'trend', values: { count: n, min: 10, avg: p99 / 2, med: 20, 'p(90)': p99 / 2, 'p(95)': p99 / 2, 'p(99)': p99, max: p99 } });
  const data = {
    metrics: {
      [`http_reqs{expected_response:true,${tags}}`]: { type: 'counter', values: { count: 60 } },
      [`http_req_duration{expected_response:true,${tags}}`]: trend(40, 60),
      [`latency_from_schedule{${tags}}`]: trend(1040, 60),
      [`late_from_schedule{${tags}}`]: { type: 'rate', values: { rate: 0.25, passes: 15, fails: 45 } },
      dropped_iterations: { type: 'counter', values: { count: 20 } },
    },
    state: { testRunDurationMs: 4000 },
  } as unknown as K6SummaryData;
  const s = buildSummary(data, plan, ['baseline']);
  const row = s.levels[0]!;
  assert.equal(row.scheduled, 80);
  assert.equal(row.late, 15);
  assert.equal(row.dropped, 20);
  assert.equal(row.missed_ratio, 0.438, "(20 + 15) / 80, to three decimals");
  assert.equal(row.latency_from_schedule_ms?.p99, 1040);
  assert.equal(row.latency_from_schedule_ms?.n, 60);
  assert.match(summaryText(s), /from schedule baseline 20: p99 .+ ms from send, .+ ms from scheduled arrival, not answered over all arrivals; missed 20 dropped \+ 15 late \(43\.8%\)/);
  assert.equal(row.p99_of_scheduled_ms, null, 'rank 80 of 60 answered + 20 dropped: a dropped one');
  // No drops: the p99 over the scheduled arrivals is read at or above its rank on the answered ones' grid.
  const full = buildSummary({ ...data, metrics: { ...data.metrics, [`latency_from_schedule{${tags}}`]: trend(1040, 80), dropped_iterations: { type: 'counter', values: { count: 0 } } } } as unknown as K6SummaryData, plan, ['baseline']);
  assert.equal(full.levels[0]!.p99_of_scheduled_ms, 1040);
  const closed = buildSummary({ metrics: {}, state: { testRunDurationMs: 1 } } as unknown as K6SummaryData, planFor('concurrency8', { DURATION: '3s' }), ['baseline']);
  assert.equal(closed.levels[0]!.scheduled, undefined, 'closed loop: no schedule fields');
});

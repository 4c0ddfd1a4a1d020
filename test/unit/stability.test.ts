// Stability windows (lib/stability.ts): a request's window within its level, the per-window
// informational thresholds (timed scenarios only), a level judged on synthetic windows (stable,
// unstable by req/s, unstable by p50, too few windows) and the `unstable` validity reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levelStability, stabilityText, windowIndex, windowsOf, windowThresholds } from '../../lib/stability.ts';
import { isInformationalThreshold } from '../../lib/informational-threshold.ts';
import { validityOf } from '../../lib/verdict.ts';
import { planFor } from '../../lib/scenarios.ts';

test('windowIndex: floor(elapsed / (level / windows)), clamped to the level', () => {
  assert.deepEqual([0, 1.99, 2, 5.5, 9.99, 10, 12].map((t) => windowIndex(t, 10, 5)), [0, 0, 1, 2, 4, 4, 4]);
  assert.equal(windowIndex(-0.2, 10, 5), 0, 'a clock a little behind the start is window 0');
  assert.equal(windowIndex(3, 0, 5), 0);
  assert.equal(windowIndex(3, 10, 0), 0);
});

test('windows only for the timed scenarios; capacity, smoke and coldstart are not windowed', () => {
  for (const k of ['concurrency', 'sweep', 'rate', 'overload', 'soak', 'batch'] as const) assert.equal(windowsOf(k, 5), 5, k);
  for (const k of ['capacity', 'smoke', 'coldstart'] as const) assert.equal(windowsOf(k, 5), 0, k);
  assert.equal(windowsOf('concurrency', 0), 0, 'STABILITY_WINDOWS=0 turns it off');
});

test('windowThresholds: one informational med>=0 per implementation, level and window', () => {
  const plan = planFor('sweep', { LEVELS: '1,4', DURATION: '10s' });
  const t = windowThresholds(plan, ['baseline'], 3);
  assert.deepEqual(Object.keys(t), [0, 1, 2].map((w) => `http_req_duration{expected_response:true,impl:baseline,level:1,phase:measure,window:${w}}`).concat([0, 1, 2].map((w) => `http_req_duration{expected_response:true,impl:baseline,level:4,phase:measure,window:${w}}`)));
  for (const exprs of Object.values(t)) assert.ok(exprs.every(isInformationalThreshold));
  assert.deepEqual(windowThresholds(planFor('smoke', {}), ['baseline'], 5), {});
});

const w = (n: number, p50: number) => ({ n, p50 });

test('a level whose last 3 windows agree within 10 % is stable, whatever its first windows did', () => {
  // 10 s in 5 windows of 2 s: 200 requests = 100/s.
  const s = levelStability([w(50, 400), w(150, 150), w(200, 100), w(205, 104), w(196, 98)], 10, 0.1);
  assert.equal(s.stable, true, JSON.stringify(s));
  assert.deepEqual(s.windows[2], { rps: 100, p50_ms: 100, n: 200 });
  assert.deepEqual([s.from, s.to, s.reason], [2, 4, null]);
  assert.ok(s.spread.rps! < 0.1 && s.spread.p50! < 0.1);
  assert.match(stabilityText(s), /^stable: last 3 of 5 windows within 10% \(req\/s 4\.6%, p50 6\.1%\)$/);
});

test('unstable by req/s: the throughput of the last windows differs by more than the tolerance', () => {
  const s = levelStability([w(200, 100), w(200, 100), w(200, 100), w(150, 100), w(100, 100)], 10, 0.1);
  assert.equal(s.stable, false);
  assert.equal(s.spread.rps, 1);
  assert.equal(s.spread.p50, 0);
  assert.match(s.reason!, /^requests\/s differ by 100% over windows 2-4 \(tolerance 10%\)$/);
});

test('unstable by p50: the latency halfway changes', () => {
  const s = levelStability([w(100, 50), w(100, 50), w(100, 50), w(100, 80), w(100, 80)], 10, 0.1);
  assert.equal(s.stable, false);
  assert.match(s.reason!, /^p50 differs by 60% over windows 2-4/);
  // The same windows pass a tolerance of 70 %.
  assert.equal(levelStability([w(100, 50), w(100, 50), w(100, 50), w(100, 80), w(100, 80)], 10, 0.7).stable, true);
});

test('a window without accepted requests (or not reported) is unstable; fewer than 3 windows are never stable', () => {
  const empty = levelStability([w(100, 50), w(100, 50), w(100, 50), w(100, 50), undefined], 10, 0.1);
  assert.equal(empty.stable, false);
  assert.deepEqual(empty.windows[4], { rps: 0, p50_ms: 0, n: 0 });
  assert.equal(empty.spread.p50, null, 'no p50 in an empty window: spread not finite');
  assert.equal(empty.reason, 'no accepted requests in window 4 of 2-4');
  const two = levelStability([w(100, 50), w(100, 50)], 10, 0.1);
  assert.equal(two.stable, false);
  assert.equal(two.reason, 'only 2 of 3 windows');
});

test('validityOf: an unstable level is INVALID with advice; not repeated for a level without requests or cut short', () => {
  const stability = levelStability([w(100, 50), w(100, 50), w(100, 50), w(100, 80), w(100, 80)], 30, 0.1);
  const row = { level: '8', duration_s: 30, requests: 500, stability };
  const v = validityOf(row, { kind: 'concurrency', planned_s: 30, gates: [] });
  assert.equal(v.verdict, 'INVALID');
  assert.deepEqual(v.reasons.map((r) => r.code), ['unstable']);
  assert.match(v.reasons[0]!.detail, /^unstable: p50 differs by 60% over windows 2-4 \(tolerance 10%\)$/);
  assert.match(v.reasons[0]!.advice, /DURATION=60s/);
  assert.equal(validityOf({ ...row, stability: levelStability([w(100, 50), w(101, 50), w(100, 51)], 30, 0.1) }, { kind: 'concurrency', planned_s: 30, gates: [] }).verdict, 'VALID');
  assert.match(validityOf({ ...row, stability: levelStability([w(100, 50), w(100, 50)], 30, 0.1) }, { kind: 'rate', planned_s: 30, gates: [] }).reasons[0]!.advice, /^STABILITY_WINDOWS=5$/);
  assert.ok(!validityOf({ ...row, requests: 0 }, { kind: 'concurrency', planned_s: 30, gates: [] }).reasons.some((r) => r.code === 'unstable'));
  assert.ok(!validityOf({ ...row, duration_s: 12 }, { kind: 'concurrency', planned_s: 30, gates: [], incomplete: true }).reasons.some((r) => r.code === 'unstable'));
});

test('buildSummary: levels[].stability from the window sub-metrics, folded into the validity line; absent without them', async () => {
  const { buildSummary, summaryText } = await import('../../lib/summary.ts');
  const plan = planFor('concurrency8', { DURATION: '10s' });
  const sel = 'http_req_duration{expected_response:true,impl:invalid,level:8,phase:measure}';
  const base = {
    'http_reqs{expected_response:true,impl:invalid,level:8,phase:measure}': { type: 'counter', values: { count: 1000, rate: 100 }, thresholds: { 'count>0': { ok: true } } },
    [sel]: { type: 'trend', values: { count: 1000, med: 5, 'p(99)': 9, max: 10 }, thresholds: {} },
  };
  const windowed = (p50s: number[]) => ({
    metrics: {
      ...base,
      ...Object.fromEntries(p50s.map((p50, w) => [`http_req_duration{expected_response:true,impl:invalid,level:8,phase:measure,window:${w}}`, { type: 'trend', values: { count: 200, med: p50 }, thresholds: { 'med>=0': { ok: true } } }])),
    },
  });
  const stable = buildSummary(windowed([9, 5, 5, 5.1, 5]), plan, ['invalid'], undefined, { min_duration_s: 5 });
  const row = stable.levels[0]!;
  assert.deepEqual(row.stability!.windows[0], { rps: 100, p50_ms: 9, n: 200 });
  assert.equal(row.stability!.stable, true);
  assert.equal(row.validity!.verdict, 'VALID');
  const text = summaryText(stable);
  assert.match(text, /^validity invalid 8: VALID \(stable: last 3 of 5 windows within 10% \(req\/s 0%, p50 2%\)\)$/m);
  assert.doesNotMatch(text, /window:/, 'the window sub-metrics get no info line each');
  const unstable = buildSummary(windowed([5, 5, 5, 8, 8]), plan, ['invalid'], undefined, { min_duration_s: 5 });
  assert.match(summaryText(unstable), /^validity invalid 8: INVALID: unstable: p50 differs by 60% over windows 2-4 \(tolerance 10%\) -> a longer DURATION \(e\.g\. DURATION=20s\)/m);
  const none = buildSummary({ metrics: base }, plan, ['invalid'], undefined, { min_duration_s: 5 });
  assert.equal(none.levels[0]!.stability, undefined);
  assert.equal(none.levels[0]!.validity!.verdict, 'VALID');
});

// Windows as k6 reports them: count, med and the quantile grid, from seeded samples.
async function gridWindow(samples: number[]): Promise<Record<string, number>> {
  const { QUANTILE_GRID, statOf } = await import('../../lib/quantile-grid.ts');
  const { quantileSorted } = await import('../../lib/stats.ts');
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, med: quantileSorted(sorted, 0.5), min: sorted[0]!, max: sorted[sorted.length - 1]!, ...Object.fromEntries(QUANTILE_GRID.map((q) => [statOf(q), quantileSorted(sorted, q)])) };
}

test('few requests per window: a spread within their sampling error is unresolved (its own reason), a real change is unstable', async () => {
  const { buildSummary, summaryText } = await import('../../lib/summary.ts');
  const { mulberry32 } = await import('../../lib/rng.ts');
  const rand = mulberry32(7);
  // Lognormal latencies around 100 ms (sigma 0.3), the same distribution in every window.
  const draw = (n: number, scale = 1) => Array.from({ length: n }, () => 100 * scale * Math.exp(0.3 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())));
  const plan = planFor('concurrency8', { DURATION: '10s' });
  const summaryOf = async (windows: number[][]) => {
    const metrics: Record<string, unknown> = {
      'http_reqs{expected_response:true,impl:invalid,level:8,phase:measure}': { type: 'counter', values: { count: 75, rate: 7.5 }, thresholds: { 'count>0': { ok: true } } },
      'http_req_duration{expected_response:true,impl:invalid,level:8,phase:measure}': { type: 'trend', values: await gridWindow(windows.flat()), thresholds: {} },
    };
    for (const [i, s] of windows.entries()) metrics[`http_req_duration{expected_response:true,impl:invalid,level:8,phase:measure,window:${i}}`] = { type: 'trend', values: await gridWindow(s), thresholds: { 'med>=0': { ok: true } } };
    return buildSummary({ metrics } as never, plan, ['invalid'], undefined, { min_duration_s: 5 });
  };
  // 13, 15 and 17 requests in the last windows: a 31 % req/s spread that 95 % Poisson intervals cover.
  const small = await summaryOf([draw(15), draw(15), draw(13), draw(15), draw(17)]);
  const st = small.levels[0]!.stability!;
  assert.equal(st.stable, false);
  assert.equal(st.verdict, 'unresolved', JSON.stringify(st));
  assert.match(st.reason!, /within the sampling error of windows of 13-17 requests$/);
  const v = small.levels[0]!.validity!;
  assert.ok(v.reasons.some((r) => r.code === 'stability_unresolved' && /STABILITY_MAX_DURATION/.test(r.advice)), JSON.stringify(v.reasons));
  assert.ok(!v.reasons.some((r) => r.code === 'unstable'));
  assert.match(summaryText(small), /stability unresolved: requests\/s differ by/);
  // 400 requests per window whose latency doubles halfway: unstable, whatever the intervals.
  const changed = (await summaryOf([draw(400), draw(400), draw(400), draw(400, 2), draw(400, 2)])).levels[0]!.stability!;
  assert.equal(changed.verdict, 'unstable', JSON.stringify(changed));
  // The same distribution in 400-request windows: stable.
  assert.equal((await summaryOf([draw(400), draw(400), draw(400), draw(400), draw(400)])).levels[0]!.stability!.verdict, 'stable');
});

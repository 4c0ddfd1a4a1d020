// The capacity region's search (tools/region/search.ts) on synthetic servers whose frontier is known:
// it brackets the frontier within the precision, never probes above a failing rate once bracketed,
// and says how it ended (max, min, budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixText, searchDirection, splitRate } from '../../tools/region/search.ts';

const server = (frontier: number) => {
  const probed: number[] = [];
  return { probed, probe: async (r: number) => (probed.push(r), { pass: r <= frontier, why: r <= frontier ? '' : 'd0 p99 over its SLO' }) };
};
const opts = { start: 1, max: 64, min: 0.125, precision: 0.1, withinBudget: () => true };

test('brackets the frontier within the precision: climbing by doubling, then bisecting', async () => {
  for (const frontier of [1, 3.3, 10, 47]) {
    const s = server(frontier);
    const r = await searchDirection(s.probe, opts);
    assert.equal(r.end, 'bracketed');
    assert.ok(r.lo <= frontier && r.hi! > frontier && r.hi! / r.lo <= 1.1 + 1e-9, `${frontier}: [${r.lo}, ${r.hi}]`);
    // Once a rate failed, no probe goes above it.
    const firstFail = s.probed.find((x) => x > frontier)!;
    assert.ok(s.probed.slice(s.probed.indexOf(firstFail) + 1).every((x) => x < firstFail));
    assert.equal(r.steps.length, s.probed.length);
    assert.ok(s.probed.length <= 12, `${s.probed.length} probes`);
  }
});

test('descends when the start already fails; ends at max, below min, or when the budget is spent', async () => {
  const low = await searchDirection(server(0.3).probe, opts);
  assert.ok(low.lo <= 0.3 && low.hi! > 0.3, JSON.stringify(low));
  const high = await searchDirection(server(1000).probe, opts);
  assert.deepEqual([high.end, high.lo, high.hi], ['max', 64, null]);
  const none = await searchDirection(server(0.01).probe, opts);
  assert.deepEqual([none.end, none.lo], ['min', 0]);
  let n = 0;
  const cut = await searchDirection(server(40).probe, { ...opts, withinBudget: () => ++n < 3 });
  assert.equal(cut.end, 'budget');
  assert.ok(cut.steps.length <= 3);
});

test('a total rate split by the direction\'s weights, in MIX\'s words', () => {
  const d = [{ model: 'd0' as const, value: 4 }, { model: 'd2' as const, value: 1 }];
  assert.equal(mixText(splitRate(d, 10)), 'd0:8,d2:2');
  assert.equal(mixText(splitRate(d, 1)), 'd0:0.8,d2:0.2');
  assert.equal(mixText(splitRate([{ model: 'd1', value: 1 }], 0.0001)), 'd1:0.001', 'never below what MIX takes');
});

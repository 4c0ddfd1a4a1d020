import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitRequest, unionLength } from '../../server/metrics/request-split.ts';
import { ALL_MODELS, ModelStatsLedger } from '../../server/metrics/model-stats.ts';
import type { RequestRecord } from '../../server/metrics/request-record.ts';

const iv = (start: number, end: number) => ({ start, end });

test('unionLength: overlaps count once, gaps not at all, in any order', () => {
  assert.equal(unionLength([]), 0);
  assert.equal(unionLength([iv(2, 5)]), 3);
  assert.equal(unionLength([iv(0, 10), iv(2, 5)]), 10, 'contained');
  assert.equal(unionLength([iv(4, 9), iv(0, 5)]), 9, 'overlapping, out of order');
  assert.equal(unionLength([iv(0, 2), iv(5, 7)]), 4, 'disjoint');
  assert.equal(unionLength([iv(0, 2), iv(2, 3)]), 3, 'touching');
  assert.equal(unionLength([iv(6, 8), iv(0, 3), iv(1, 2), iv(2.5, 4), iv(7, 7)]), 6, 'mixed, an empty one');
  assert.equal(unionLength([iv(5, 1)]), 0, 'reversed counts 0');
  // Against a fine grid on random intervals.
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 100;
  for (let trial = 0; trial < 50; trial++) {
    const xs = Array.from({ length: 1 + (trial % 6) }, () => {
      const a = Math.round(rnd()), b = Math.round(rnd());
      return iv(Math.min(a, b), Math.max(a, b));
    });
    let covered = 0;
    for (let t = 0; t < 100; t++) if (xs.some((x) => x.start <= t && t + 1 <= x.end)) covered++;
    assert.equal(unionLength(xs), covered, JSON.stringify(xs));
  }
});

test('splitRequest: compute = the critical path, queue = the waits before and between jobs, per-model waits', () => {
  // Ready at 10; D2 and D1 side by side (12-50, 15-40), D0 after a gap (45-60 overlaps D2's end, so no gap).
  const s = splitRequest(10, [
    { models: ['d2'], start: 12, end: 50 },
    { models: ['d1'], start: 15, end: 40 },
    { models: ['d0'], start: 45, end: 60 },
  ]);
  assert.deepEqual(s, { compute_ms: 48, queue_ms: 2, model_queue_ms: { d2: 2, d1: 5, d0: 35 } });
  // Serial with a gap: 5 ms waiting for the lock, then 20 ms, a 10 ms wait for a worker, 30 ms.
  assert.deepEqual(splitRequest(0, [{ models: ['d0', 'd1'], start: 5, end: 25 }, { models: ['d0', 'd1'], start: 35, end: 65 }]), { compute_ms: 50, queue_ms: 15, model_queue_ms: { d0: 5, d1: 5 } });
  // No job (invalid): nothing queued, nothing computed.
  assert.deepEqual(splitRequest(3, []), { compute_ms: 0, queue_ms: 0, model_queue_ms: {} });
});

test('v2 statistics: the pipeline books queue + the critical path in three parts; each model its own wait and runs', () => {
  const ledger = new ModelStatsLedger();
  const record: RequestRecord = {
    impl: 'concurrent', status: 200, reason: 'ok', total_s: 0.1, images: 1,
    preprocess_s: 0.01, infer_s: 0.11, queue_s: 0.002, compute_s: 0.06, model_queue_s: { d0: 0.03, d1: 0.002 }, models: ['d0', 'd1'],
    executions: [{ model: 'd0', batch_size: 1, infer_s: 0.05 }, { model: 'd1', batch_size: 1, infer_s: 0.06 }],
  };
  ledger.book(record);
  const all = ledger.get('concurrent', ALL_MODELS);
  const ns = (x: { ns: number }) => x.ns;
  const compute = ns(all.compute_input) + ns(all.compute_infer) + ns(all.compute_output);
  assert.ok(Math.abs(compute - 60e6) <= 2, `pipeline compute ${compute} ns = the critical path`);
  assert.ok(ns(all.success) >= ns(all.queue) + compute);
  // The 0.12 s of letterbox + runs overlapped down to 0.06 s: both scaled by a half.
  assert.equal(ns(all.compute_input), 5e6);
  assert.equal(ns(all.compute_infer), 55e6);
  const d0 = ledger.get('concurrent', 'd0');
  assert.equal(ns(d0.queue), 30e6);
  assert.equal(ns(d0.compute_infer), 50e6);
  assert.ok(ns(d0.success) >= ns(d0.queue) + ns(d0.compute_input) + ns(d0.compute_infer));
  assert.equal(ns(ledger.get('concurrent', 'd1').queue), 2e6);
  // A serial request whose path is longer than its runs (hops, decoding the detections): the rest is output.
  ledger.book({ ...record, impl: 'baseline', infer_s: 0.05, preprocess_s: 0.01, compute_s: 0.065 });
  const b = ledger.get('baseline', ALL_MODELS);
  assert.deepEqual([ns(b.compute_input), ns(b.compute_infer), ns(b.compute_output)], [10e6, 50e6, 5e6]);
});

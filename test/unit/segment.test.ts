// Execution segments: the flags of N equal runners, the runner index k6's reduced fractions map
// back to, and warm-up shares that add up to the whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFraction, parseSegment, runnerIdentity, segmentArgs, shareOf, shareStart } from '../../lib/segment.ts';

test('segmentArgs gives disjoint segments covering 0..1', () => {
  assert.deepEqual(segmentArgs(1, 4), ['--execution-segment', '1/4:2/4', '--execution-segment-sequence', '0,1/4,2/4,3/4,1']);
  assert.deepEqual(segmentArgs(2, 3).slice(0, 2), ['--execution-segment', '2/3:1']);
});

test('runnerIdentity reads the segment as k6 reports it (reduced fractions)', () => {
  assert.deepEqual(runnerIdentity('1/4:1/2', '0,1/4,1/2,3/4,1'), { index: 1, count: 4, segment: { start: 0.25, end: 0.5 } });
  assert.equal(runnerIdentity('3/4:1', '0,1/4,1/2,3/4,1').index, 3);
  assert.deepEqual(runnerIdentity(null, null), { index: 0, count: 1, segment: { start: 0, end: 1 } });
  assert.equal(parseFraction('25%'), 0.25);
  assert.throws(() => parseSegment('1/2:1/4'), /empty/);
  assert.throws(() => parseFraction('3/2'), /not a fraction/);
});

test('shares of a count over every segment of a sequence add up to the count', () => {
  for (const runners of [1, 2, 3, 4, 7]) {
    for (const n of [0, 1, 2, 5, 20, 21]) {
      const segs = Array.from({ length: runners }, (_, i) => runnerIdentity(segmentArgs(i, runners)[1], segmentArgs(i, runners)[3]).segment);
      assert.equal(segs.reduce((a, s) => a + shareOf(s, n), 0), n, `${n} over ${runners}`);
      // Each share starts where the previous one ended: no warm-up image is sent twice.
      segs.forEach((s, i) => i > 0 && assert.equal(shareStart(s, n), shareStart(segs[i - 1]!, n) + shareOf(segs[i - 1]!, n)));
    }
  }
});

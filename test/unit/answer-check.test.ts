// The verdicts behind the native protocol's checks (lib/answer-check.ts), on answers right and wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeAnswer } from '../../lib/answer-check.ts';
import type { InferResponse } from '../../lib/types.ts';

const det = { boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [1], num_detections: 1, inference_ms: 1 };
const answer = (ids: (string | undefined)[], models: Record<string, unknown> = { d0: det, d1: det }, impl = 'baseline'): InferResponse =>
  ({ implementation: impl, images: ids.map((id) => ({ ...(id !== undefined ? { image_id: id } : {}), width: 8, height: 8, models })), timing: {} }) as unknown as InferResponse;

test('a right answer passes every verdict; one without echoed ids too', () => {
  assert.deepEqual(judgeAnswer(answer(['a', 'b']), ['a', 'b'], 'baseline'), { isResponse: true, ordered: true, detections: true });
  assert.deepEqual(judgeAnswer(answer([undefined]), ['a'], 'baseline'), { isResponse: true, ordered: true, detections: true });
});

test('each wrong answer fails its own verdict', () => {
  assert.deepEqual(judgeAnswer(answer(['a'], undefined, 'stacked'), ['a'], 'baseline'), { isResponse: false, ordered: true, detections: true });
  assert.equal(judgeAnswer(answer(['b', 'a']), ['a', 'b'], 'baseline').ordered, false, 'swapped');
  assert.equal(judgeAnswer(answer(['a']), ['a', 'b'], 'baseline').ordered, false, 'one result missing');
  assert.equal(judgeAnswer(answer(['a'], {}), ['a'], 'baseline').detections, false, 'no model');
  assert.equal(judgeAnswer(answer(['a'], { d0: { ...det, scores: [] } }), ['a'], 'baseline').detections, false, 'boxes without scores');
  assert.equal(judgeAnswer(answer(['a'], { d0: { ...det, boxes: 'x' } }), ['a'], 'baseline').detections, false, 'boxes not a list');
  for (const body of [null, undefined, 'text', { implementation: 'baseline' }, { implementation: 'baseline', images: [null] }]) {
    const v = judgeAnswer(body as unknown as InferResponse, ['a'], 'baseline');
    assert.equal(v.ordered || v.detections, false, JSON.stringify(body));
  }
});

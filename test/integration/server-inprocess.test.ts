// The in-process path the accuracy tools use: createImplementation + decodeImage, no HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImplementation, decodeImage, UnknownImplementationError } from '../../server/implementations/registry.ts';
import { MODELS_DIR, testJpeg } from './server-helpers.ts';

test('createImplementation: baseline runs in-process with raw heads; unknown names list the known ones', async () => {
  await assert.rejects(createImplementation('nope', { modelsDir: MODELS_DIR }), (e: unknown) => e instanceof UnknownImplementationError && /known are baseline, invalid/.test(e.message));
  const impl = await createImplementation('baseline', { modelsDir: MODELS_DIR, logLevel: 'warn' });
  try {
    assert.deepEqual([impl.name, impl.lossless, impl.ep], ['baseline', true, 'cpu']);
    const jpeg = await testJpeg(320, 240);
    const image = await decodeImage(jpeg, { maxPixels: 1e6, id: 'small' });
    const out = await impl.infer([image], { models: ['d0'], rawHeads: true });
    const d0 = out.images[0]!.models.d0!;
    assert.equal(Object.keys(out.images[0]!.models).join(), 'd0');
    assert.equal(d0.boxes.length, d0.num_detections);
    assert.equal(d0.raw!.class_logits.length, 49_104 * 90);
    assert.equal(d0.raw!.box_regression.length, 49_104 * 4);
    assert.ok(out.infer_ms > 0 && out.preprocess_ms > 0);
    // Same image decoded again, same answer: the pipeline is deterministic.
    const again = await impl.infer([await decodeImage(jpeg, { maxPixels: 1e6 })], { models: ['d0'] });
    assert.deepEqual(again.images[0]!.models.d0!.boxes, d0.boxes);
    assert.deepEqual(again.images[0]!.models.d0!.scores, d0.scores);
  } finally {
    await impl.close();
  }
});

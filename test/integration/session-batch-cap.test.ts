// SESSION_MAX_BATCH on real ONNX sessions: a 9-image request on baseline (one job of every model) and
// on concurrent (the scheduler) runs as session runs of at most 4 images, books one execution per run
// with its batch size, and answers exactly as the same request run unsplit. The cap is what bounds
// the sessions' memory arenas, which grow to the largest batch they ever ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createImplementation, decodeImage } from '../../server/implementations/registry.ts';
import type { InferOutcome } from '../../server/runtime/infer-types.ts';

const DATASET = process.env.DATASET_DIR || 'build/data/synthetic';
const files = readdirSync(DATASET).filter((f) => f.endsWith('.jpg')).sort().slice(0, 9);

async function run(impl: string, sessionMaxBatch: number | 'auto'): Promise<InferOutcome> {
  const i = await createImplementation(impl, { sessionMaxBatch, parallelWorkers: 1, workers: 1 });
  try {
    const images = await Promise.all(files.map((f) => decodeImage(readFileSync(join(DATASET, f)), { maxPixels: 40e6, id: f })));
    return await i.infer(images, { models: ['d0'] });
  } finally {
    await i.close();
  }
}

const strip = (o: InferOutcome) => o.images.map((img) => Object.fromEntries(Object.entries(img.models).map(([m, d]) => [m, { ...d, inference_ms: 0 }])));

for (const impl of ['baseline', 'concurrent']) {
  test(`${impl}: 9 images with SESSION_MAX_BATCH=4 run as 4+4+1, same answers as one run of 9`, async () => {
    const capped = await run(impl, 4);
    const whole = await run(impl, 0);
    assert.deepEqual(capped.executions.map((e) => [e.model, e.batch_size]), [['d0', 4], ['d0', 4], ['d0', 1]]);
    assert.deepEqual(whole.executions.map((e) => [e.model, e.batch_size]), [['d0', 9]]);
    assert.equal(capped.images.length, 9);
    assert.deepEqual(strip(capped), strip(whole));
  });
}

test("baseline: SESSION_MAX_BATCH=auto on the CPU EP runs the images one per session.run", async () => {
  const auto = await run('baseline', 'auto');
  assert.deepEqual(auto.executions.map((e) => e.batch_size), Array(9).fill(1));
});

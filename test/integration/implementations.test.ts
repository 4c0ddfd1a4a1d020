// The lossless serving strategies of issue 7 (stacked, concurrent, batched) and issue 29 (isolated) on real ONNX sessions:
// each passes the lossless accuracy gates against the baseline's reference (in-process replay, raw
// heads included), and batched, fed concurrent requests for different images, runs them as batches
// of N > 1 yet hands every request its own detections and raw heads. `make test` builds models and data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAccuracyFile, runAccuracy } from '../../tools/accuracy/replay.ts';
import { createImplementation, decodeImage } from '../../server/implementations/registry.ts';
import { checkOutput } from '../../lib/accuracy/check.ts';
import { firstMismatch } from '../../lib/accuracy/tolerance.ts';
import { accuracyBoundsFor } from '../../lib/bounds.ts';
import { MODEL_NAMES } from '../../lib/types.ts';
import type { ImageDetections } from '../../server/runtime/infer-types.ts';

const IMAGES = 2;
const DATASET = process.env.DATASET_DIR || 'build/data/synthetic';
const MODELS = process.env.MODELS_DIR || 'build/models';
const root = mkdtempSync(join(tmpdir(), 'implementations-it-'));
const LOSSLESS = ['stacked', 'concurrent', 'batched', 'isolated'] as const;

before(() => {
  for (const f of ['d0', 'd1', 'd2', 'stacked']) assert.ok(existsSync(`${MODELS}/efficientdet-${f}.onnx`), `${MODELS}/efficientdet-${f}.onnx is missing: run 'make models'`);
  assert.ok(existsSync(DATASET), `${DATASET} is missing: run 'make data'`);
  // runAccuracy reads REFERENCE_DIR like the CLI; one reference (built once) serves every replay.
  process.env.REFERENCE_DIR = join(root, 'reference');
});
after(() => {
  delete process.env.REFERENCE_DIR;
});

for (const impl of LOSSLESS) {
  test(`${impl} passes the lossless gates against the baseline reference (in-process, raw heads compared)`, async () => {
    const runDir = join(root, impl);
    const r = await runAccuracy({ target: undefined, impl, runDir, datasetDir: DATASET, maxImages: IMAGES }, () => {});
    assert.deepEqual(r, { passed: true, lines: [] });
    const report = readAccuracyFile(runDir)!.impls[impl]!;
    assert.equal(report.lossless, true, 'declared lossless');
    assert.ok(report.overall.reference_detections > 0);
    assert.equal(report.overall.matched, report.overall.reference_detections);
    assert.equal(report.overall.unmatched, 0);
    assert.equal(report.raw_heads.compared, true, 'raw heads were compared');
  });
}

/** Decodes image files afresh (workers may take over pixel buffers). */
const decode = (files: string[]) => Promise.all(files.map((f) => decodeImage(readFileSync(join(DATASET, f)), { maxPixels: 40e6, id: f })));

test('batched: 4 concurrent requests for 4 different images run as batches of 4, each request gets its own answer', async () => {
  const files = readdirSync(DATASET).filter((f) => f.endsWith('.jpg')).sort().slice(0, 4);
  const baseline = await createImplementation('baseline', { modelsDir: MODELS, logLevel: 'warn' });
  const expected: ImageDetections[] = [];
  try {
    for (const image of await decode(files)) expected.push((await baseline.infer([image], { models: [...MODEL_NAMES], rawHeads: true })).images[0]!);
  } finally {
    await baseline.close();
  }
  // A long delay: the batch forms when 4 images are queued (BATCHER_MAX_BATCH), not by timeout.
  const batched = await createImplementation('batched', { modelsDir: MODELS, logLevel: 'warn', batcherMaxBatch: 4, batcherMaxDelayUs: 5_000_000 });
  try {
    const images = await decode(files);
    const outcomes = await Promise.all(images.map((image) => batched.infer([image], { models: [...MODEL_NAMES], rawHeads: true })));
    const executions = outcomes.flatMap((o) => o.executions ?? []);
    assert.deepEqual(executions.map((e) => e.batch_size), [4, 4, 4], `one run of 4 images per model: ${JSON.stringify(executions)}`);
    const bounds = accuracyBoundsFor('batched', true);
    outcomes.forEach((o, i) => {
      const got = o.images[0]!.models;
      const want = expected[i]!.models;
      const check = checkOutput(got, want, bounds);
      assert.ok(check.match, `${files[i]}: ${JSON.stringify(check.models)}`);
      for (const m of MODEL_NAMES) {
        for (const head of ['class_logits', 'box_regression'] as const) {
          const mismatch = firstMismatch(got[m]!.raw![head], want[m]!.raw![head], { abs: 1e-5, rel: 1e-5 }, `${files[i]} ${m} ${head}`);
          assert.equal(mismatch, null, mismatch?.message);
        }
      }
    });
    // The images differ, so a mix-up would show: no two requests got the same D0 answer.
    assert.equal(new Set(outcomes.map((o) => JSON.stringify(o.images[0]!.models.d0!.boxes))).size, files.length);
  } finally {
    await batched.close();
  }
});

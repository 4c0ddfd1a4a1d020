// The generated EfficientDet files, read back and run with onnxruntime-node on CPU:
// size of the networks, I/O contract, finiteness, in-graph post-processing vs lib/detection, determinism.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { generateAnchors, postprocess } from '../../lib/detection/index.ts';
import { INPUT_NAME, MODEL_FILE, OUTPUT_NAMES, parseMetadata, GENERATOR_VERSION, STACKED_FILE, stackedName } from '../../lib/model-contract.ts';
import { buildModelFile, clearBnStatisticsCache, MODEL_CONFIGS } from '../../tools/models/efficientdet.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';
import { configFromEnv, generate } from '../../tools/models/generate.ts';
import { decodeModel, modelStats, type ModelStats } from '../../tools/models/inspect.ts';
import { onnx } from '../../tools/models/onnx-graph.ts';
import { testImage } from '../../tools/models/test-image.ts';

/** Paper figures (Tan, Pang, Le 2020, table 2): params and FLOPs (multiply-adds). */
const PAPER: Record<ModelName, { params: number; macs: number; anchors: number }> = {
  d0: { params: 3.9e6, macs: 2.5e9, anchors: 49104 },
  d1: { params: 6.6e6, macs: 6.1e9, anchors: 76725 },
  d2: { params: 8.1e6, macs: 11e9, anchors: 110484 },
};

const cfg = configFromEnv();
const files = {} as Record<ModelName, string>;
const stats = {} as Record<ModelName, ModelStats>;
const protos = {} as Record<ModelName, ReturnType<typeof decodeModel>>;
const log: string[] = [];
/** Outputs of the separate models on testImage, for the stacked comparison. */
const separate = {} as Record<ModelName, ort.InferenceSession.OnnxValueMapType>;

before(async () => {
  await generate({ ...cfg, models: MODEL_NAMES, stacked: true, force: false }, (l) => log.push(l));
  for (const name of MODEL_NAMES) {
    files[name] = `${cfg.modelsDir}/${MODEL_FILE(name)}`;
    protos[name] = decodeModel(readFileSync(files[name]));
    stats[name] = modelStats(protos[name]);
  }
});

const within = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual / expected - 1) <= rel, `${what}: ${actual} is not within ${rel * 100}% of ${expected}`);

describe('generated files', () => {
  it('make models is idempotent: a second run keeps every file', async () => {
    const lines: string[] = [];
    await generate({ ...cfg, models: MODEL_NAMES, stacked: true, force: false }, (l) => lines.push(l));
    assert.equal(lines.filter((l) => l.includes('up to date')).length, 4, lines.join('\n'));
  });

  it("an up-to-date check trusts its stamp only while the files are unchanged: a touched file gets the full check again", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-stamp-'));
    const file = join(dir, MODEL_FILE('d0'));
    copyFileSync(`${cfg.modelsDir}/${MODEL_FILE('d0')}`, file);
    const run = async () => {
      const lines: string[] = [];
      await generate({ ...cfg, modelsDir: dir, models: ['d0'], stacked: false, force: false }, (l) => lines.push(l));
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, /efficientdet-d0\.onnx up to date/);
      return lines[0]!.includes('unchanged since .up-to-date.json');
    };
    assert.equal(await run(), false, 'no stamp: the metadata was read');
    assert.equal(await run(), true, 'the stamp vouches');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(await run(), false, 'touched: read again');
    assert.equal(await run(), true);
  });

  for (const name of MODEL_NAMES) {
    it(`${name}: params within 3%, conv multiply-adds within 5% of the paper, anchors exact`, () => {
      const s = stats[name];
      within(s.params, PAPER[name].params, 0.03, `${name} params`);
      within(s.convMacs, PAPER[name].macs, 0.05, `${name} conv MACs`);
      assert.equal(Number(s.metadata.num_anchors), PAPER[name].anchors);
      const logits = s.outputs.find((o) => o.name === OUTPUT_NAMES.classLogits)!;
      assert.deepEqual(logits.dims, ['N', PAPER[name].anchors, 90]);
    });

    it(`${name}: opset >= 17, I/O contract and metadata`, () => {
      const s = stats[name], S = MODEL_CONFIGS[name].inputSize, F = onnx.TensorProto.DataType.FLOAT;
      assert.ok(s.opsetVersion >= 17);
      assert.deepEqual(s.inputs, [{ name: INPUT_NAME, dims: ['N', 3, S, S], elemType: F }]);
      const A = PAPER[name].anchors;
      assert.deepEqual(s.outputs.map((o) => [o.name, o.dims, o.elemType]), [
        ['class_logits', ['N', A, 90], F], ['box_regression', ['N', A, 4], F], ['detection_boxes', ['N', 100, 4], F],
        ['detection_scores', ['N', 100], F], ['detection_classes', ['N', 100], F], ['num_detections', ['N'], F],
      ]);
      const meta = parseMetadata(s.metadata, files[name]);
      assert.equal(meta.modelName, name);
      assert.equal(meta.inputSize, S);
      assert.equal(meta.generatorVersion, GENERATOR_VERSION);
    });

    it(`${name}: every weight is finite`, () => {
      for (const t of protos[name].graph!.initializer!) {
        if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
        const raw = t.rawData!;
        const f = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
        assert.ok(f.every(Number.isFinite), `${t.name} has a NaN/Inf`);
      }
    });
  }
});

describe('onnxruntime-node (CPU)', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: finite bounded outputs, non-empty detections equal to lib/detection over the raw heads`, async () => {
      const meta = parseMetadata(stats[name].metadata);
      const S = meta.inputSize;
      const session = await ort.InferenceSession.create(files[name], { graphOptimizationLevel: 'all' });
      try {
        // Image 0: the plain test image; image 1: another one letterboxed (flat padding at the bottom).
        const input = new Float32Array(2 * 3 * S * S);
        input.set(testImage(S));
        input.set(testImage(S, 1, 1, 0.3), 3 * S * S);
        const r = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', input, [2, 3, S, S]) });
        separate[name] = r;
        for (const [k, t] of Object.entries(r)) {
          assert.equal(t.type, 'float32', k);
          const d = t.data as Float32Array;
          // Bounded: boxes lie in the image; heads, scores, classes and counts stay below 100.
          const bound = k === OUTPUT_NAMES.boxes ? S : 100;
          assert.ok(d.every((v) => Number.isFinite(v) && Math.abs(v) <= bound), `${k} has a NaN/Inf or |value| > ${bound}`);
        }
        const anchors = generateAnchors(S, meta.anchors);
        const A = anchors.length / 4;
        for (let b = 0; b < 2; b++) {
          const logits = (r[OUTPUT_NAMES.classLogits].data as Float32Array).subarray(b * A * 90, (b + 1) * A * 90);
          const reg = (r[OUTPUT_NAMES.boxRegression].data as Float32Array).subarray(b * A * 4, (b + 1) * A * 4);
          const ref = postprocess(logits, reg, anchors, {
            numClasses: meta.numClasses, imageSize: S, preNmsTopK: meta.preNmsTopK, iouThreshold: meta.iouThreshold,
            scoreThreshold: meta.scoreThreshold, maxDetections: meta.maxDetections,
          });
          const n = r[OUTPUT_NAMES.numDetections].data[b] as number;
          assert.ok(n > 0, `image ${b}: seeded weights must give detections`);
          assert.equal(n, ref.scores.length, `image ${b}: num_detections`);
          const boxes = (r[OUTPUT_NAMES.boxes].data as Float32Array).subarray(b * 400, (b + 1) * 400);
          const scores = (r[OUTPUT_NAMES.scores].data as Float32Array).subarray(b * 100, (b + 1) * 100);
          const classes = (r[OUTPUT_NAMES.classes].data as Float32Array).subarray(b * 100, (b + 1) * 100);
          for (let i = 0; i < n; i++) {
            assert.equal(classes[i], ref.classes[i], `image ${b}: class of detection ${i}`);
            assert.ok(Math.abs(scores[i] - ref.scores[i]) <= 1e-6, `image ${b}: score ${i}: ${scores[i]} vs ${ref.scores[i]}`);
            for (let j = 0; j < 4; j++) {
              const a = boxes[i * 4 + j], e = ref.boxes[i][j];
              assert.ok(Math.abs(a - e) <= 1e-4, `image ${b}: box ${i}[${j}]: ${a} vs ${e}`);
            }
          }
          // Padded rows are zero.
          for (let i = n; i < 100; i++) assert.ok(scores[i] === 0 && classes[i] === 0 && boxes[i * 4 + 2] === 0, `image ${b}: row ${i} not padded`);
        }
      } finally {
        await session.release();
      }
    });
  }

  it('d0: dynamic batch, every image gets its own padded detections', async () => {
    const S = 512;
    const session = await ort.InferenceSession.create(files.d0);
    try {
      const r = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', testImage(S, 2), [2, 3, S, S]) });
      assert.deepEqual(r[OUTPUT_NAMES.boxes].dims, [2, 100, 4]);
      assert.deepEqual(r[OUTPUT_NAMES.numDetections].dims, [2]);
      const s = r[OUTPUT_NAMES.scores].data as Float32Array;
      assert.notDeepEqual([...s.subarray(0, 100)], [...s.subarray(100)], 'two different images, two different answers');
    } finally {
      await session.release();
    }
  });
});

describe('stacked graph', () => {
  it('one session, three inputs: every output equals the separate model\'s', async () => {
    const file = `${cfg.modelsDir}/${STACKED_FILE}`;
    const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
    try {
      const feeds = Object.fromEntries(MODEL_NAMES.map((m) => {
        const S = MODEL_CONFIGS[m].inputSize;
        const input = new Float32Array(2 * 3 * S * S);
        input.set(testImage(S));
        input.set(testImage(S, 1, 1, 0.3), 3 * S * S);
        return [stackedName(m, INPUT_NAME), new ort.Tensor('float32', input, [2, 3, S, S])];
      }));
      const r = await session.run(feeds);
      for (const m of MODEL_NAMES) {
        assert.ok(separate[m], `run the ${m} test first`);
        for (const out of Object.values(OUTPUT_NAMES)) {
          const a = r[stackedName(m, out)].data as Float32Array, e = separate[m][out].data as Float32Array;
          assert.equal(a.length, e.length, `${m}/${out} length`);
          let worst = 0;
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
          assert.ok(worst <= 1e-4, `${m}/${out}: max difference ${worst}`);
        }
        assert.deepEqual(r[stackedName(m, OUTPUT_NAMES.classes)].data, separate[m][OUTPUT_NAMES.classes].data);
      }
    } finally {
      await session.release();
    }
  });
});

describe('determinism', () => {
  it('same seed and version -> byte-identical file; another seed -> another file', async () => {
    const a = await buildModelFile(MODEL_CONFIGS.d0, { seed: 11, generatorVersion: GENERATOR_VERSION });
    clearBnStatisticsCache(); // the second build re-measures the BN statistics too
    const b = await buildModelFile(MODEL_CONFIGS.d0, { seed: 11, generatorVersion: GENERATOR_VERSION });
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), 'two builds with seed 11 differ');
    const c = await buildModelFile(MODEL_CONFIGS.d0, { seed: 12, generatorVersion: GENERATOR_VERSION });
    assert.ok(!Buffer.from(a).equals(Buffer.from(c)), 'seed 12 gave the same bytes as seed 11');
  });
});

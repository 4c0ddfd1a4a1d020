// The int8 variants (tools/models/quantize.ts) and the int8 implementation, with real onnxruntime
// sessions: valid files with the float files' I/O contract, int8 weights in QDQ form, byte-identical
// when rebuilt, finite outputs, and answers that pass int8's declared accuracy gates against the
// float baseline while failing the lossless gates (lossy, but bounded).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { accuracyBoundsFor } from '../../lib/bounds.ts';
import { addSums, compareDetections, emptySums, evaluateGates, finalizeMetrics } from '../../lib/accuracy/index.ts';
import { MODEL_NAMES as WIRE_MODELS, type ModelName } from '../../lib/types.ts';
import { createImplementation, decodeImage } from '../../server/implementations/registry.ts';
import { GENERATOR_VERSION, INPUT_NAME, INT8_META, INT8_MODEL_FILE, MODEL_FILE, MODEL_NAMES, OUTPUT_NAMES } from '../../lib/model-contract.ts';
import { generate as generateData } from '../../tools/data/synthetic.ts';
import { MODEL_CONFIGS } from '../../tools/models/efficientdet.ts';
import { configFromEnv, DEFAULT_CALIB_DIR, DEFAULT_CALIB_IMAGES, generate } from '../../tools/models/generate.ts';
import { decodeModel, modelStats } from '../../tools/models/inspect.ts';
import { onnx } from '../../tools/models/onnx-graph.ts';
import { buildInt8ModelFile, loadCalibrationImages } from '../../tools/models/quantize.ts';
import { testImage } from '../../tools/models/test-image.ts';

const cfg = configFromEnv();
const DT = onnx.TensorProto.DataType;
const int8File = (name: string) => join(cfg.modelsDir, INT8_MODEL_FILE(name));
/** Test images: after the calibration images, so the accuracy check is not on what was calibrated. */
const TEST_IMAGES = ['synthetic-0004', 'synthetic-0005', 'synthetic-0006'];

before(async () => {
  await generateData(DEFAULT_CALIB_DIR);
  await generate({ ...cfg, models: MODEL_NAMES, stacked: false, force: false, int8: { calibDir: DEFAULT_CALIB_DIR, calibImages: DEFAULT_CALIB_IMAGES } }, () => {});
});

describe('int8 model files', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: same I/O contract as the float file, int8 metadata, int8 weights in QDQ form`, () => {
      const m = decodeModel(readFileSync(int8File(name)));
      const s = modelStats(m), f = modelStats(decodeModel(readFileSync(join(cfg.modelsDir, MODEL_FILE(name)))));
      assert.deepEqual(s.inputs, f.inputs);
      assert.deepEqual(s.outputs, f.outputs);
      assert.equal(s.metadata.input_size, String(MODEL_CONFIGS[name].inputSize));
      assert.equal(s.metadata.generator_version, GENERATOR_VERSION);
      assert.match(s.metadata[INT8_META.quantization], /int8.*per output channel/);
      assert.equal(s.metadata[INT8_META.calibrationImages], ['synthetic-0000', 'synthetic-0001', 'synthetic-0002', 'synthetic-0003'].join(','));
      const graph = m.graph!;
      const inits = new Map(graph.initializer!.map((t) => [t.name!, t]));
      const int8Weights = graph.initializer!.filter((t) => t.dataType === DT.INT8 && (t.dims?.length ?? 0) === 4);
      const count = (op: string) => graph.node!.filter((n) => n.opType === op).length;
      // Every conv weight of the network is int8 (D0 has 150 distinct conv weights; shared head weights once).
      assert.ok(int8Weights.length >= 150, `${int8Weights.length} int8 conv weights`);
      const producer = new Map(graph.node!.flatMap((n) => n.output!.map((o) => [o, n] as const)));
      for (const conv of graph.node!.filter((n) => n.opType === 'Conv')) {
        const w = producer.get(conv.input![1]!);
        assert.equal(w?.opType, 'DequantizeLinear', `conv ${conv.name} weight is not dequantized int8`);
        assert.equal(inits.get(w!.input![0]!)?.dataType, DT.INT8, `conv ${conv.name} weight is not int8`);
        assert.equal(producer.get(conv.input![0]!)?.opType, 'DequantizeLinear', `conv ${conv.name} input is not a QDQ activation`);
      }
      assert.ok(count('QuantizeLinear') > 300 && count('DequantizeLinear') > count('QuantizeLinear'));
      // Post-processing stays float: NMS and top-k run on float tensors as in the float file.
      assert.equal(count('NonMaxSuppression'), 1);
    });
  }

  it('d0: rebuilt with the same seed and calibration images, the file is byte-identical', async () => {
    const calibration = await loadCalibrationImages(DEFAULT_CALIB_DIR, DEFAULT_CALIB_IMAGES);
    const { bytes } = await buildInt8ModelFile(MODEL_CONFIGS.d0, { seed: cfg.seed, generatorVersion: GENERATOR_VERSION, calibration, calibrationDataset: 'synthetic' });
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(bytes), sha(readFileSync(int8File('d0'))));
  });

  it('make models-int8 is idempotent: a second run keeps every int8 file', async () => {
    const lines: string[] = [];
    await generate({ ...cfg, models: MODEL_NAMES, stacked: false, force: false, int8: { calibDir: DEFAULT_CALIB_DIR, calibImages: DEFAULT_CALIB_IMAGES } }, (l) => lines.push(l));
    assert.equal(lines.filter((l) => /-int8\.onnx up to date/.test(l)).length, 3, lines.join('\n'));
  });

  for (const name of MODEL_NAMES) {
    it(`${name}: finite raw heads and detections on a test image`, async () => {
      const S = MODEL_CONFIGS[name].inputSize;
      const session = await ort.InferenceSession.create(int8File(name), { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
      try {
        const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', testImage(S, 1), [1, 3, S, S]) });
        for (const o of Object.values(OUTPUT_NAMES)) {
          const data = out[o]!.data as Float32Array;
          assert.ok(data.length > 0 && data.every(Number.isFinite), `${name} ${o} has NaN/Inf`);
        }
        const n = (out[OUTPUT_NAMES.numDetections]!.data as Float32Array)[0]!;
        assert.ok(n > 0 && n <= 100, `${name}: ${n} detections`);
      } finally {
        await session.release();
      }
    });
  }
});

describe('int8 implementation', () => {
  it('passes its declared accuracy gates against the float baseline and fails the lossless ones', async () => {
    const images = TEST_IMAGES.map((id) => ({ id, bytes: readFileSync(join(DEFAULT_CALIB_DIR, `${id}.jpg`)) }));
    const answers = async (impl: string) => {
      const runner = await createImplementation(impl, { modelsDir: cfg.modelsDir, logLevel: 'warn' });
      try {
        assert.equal(runner.lossless, impl !== 'int8');
        const out = [];
        for (const img of images) out.push((await runner.infer([await decodeImage(img.bytes, { maxPixels: 40e6, id: img.id })], { models: [...WIRE_MODELS] })).images[0]!);
        return out;
      } finally {
        await runner.close();
      }
    };
    const reference = await answers('baseline');
    const actual = await answers('int8');
    const lossy = accuracyBoundsFor('int8', false), lossless = accuracyBoundsFor('int8', true);
    const losslessFailures: string[] = [];
    for (const model of WIRE_MODELS as readonly ModelName[]) {
      const sums = emptySums();
      actual.forEach((a, i) => addSums(sums, compareDetections(a.models[model]!, reference[i]!.models[model]!)));
      const m = finalizeMetrics(sums);
      const broken = evaluateGates(m, lossy).filter((g) => !g.passed);
      assert.deepEqual(broken, [], `${model}: int8 breaks its declared bounds: ${JSON.stringify(m)}`);
      losslessFailures.push(...evaluateGates(m, lossless).filter((g) => !g.passed).map((g) => `${model} ${g.metric}`));
      // Lossy but not garbage: most detections are still found at the same place with the same label.
      assert.ok(m.matched > 0 && m.labels_accuracy > 0, `${model}: nothing matched`);
    }
    assert.ok(losslessFailures.length > 0, 'int8 passes the lossless gates: it would not be lossy');
    // Bounded: another image's answer (a mix-up under load) breaks int8's own per-response gates.
    for (const model of WIRE_MODELS as readonly ModelName[]) {
      const swapped = finalizeMetrics(compareDetections(actual[0]!.models[model]!, reference[1]!.models[model]!));
      assert.ok(evaluateGates(swapped, lossy).some((g) => !g.passed), `${model}: a swapped answer passes int8's bounds: ${JSON.stringify(swapped)}`);
    }
  });

  it('without its files: IMPL=int8 refuses to start naming the fix; IMPL=all keeps the others serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'int8-missing-'));
    try {
      for (const name of MODEL_NAMES) symlinkSync(resolve(cfg.modelsDir, MODEL_FILE(name)), join(dir, MODEL_FILE(name)));
      await assert.rejects(createImplementation('int8', { modelsDir: dir, impls: ['int8'] }), /efficientdet-d\d-int8\.onnx not found: run `make models-int8`/);
      const degraded = await createImplementation('int8', { modelsDir: dir, impls: 'all' });
      try {
        await assert.rejects(degraded.infer([], { models: ['d0'] }), /make models-int8/);
      } finally {
        await degraded.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Generator pieces that need no ONNX session: EfficientNet scaling rules, env config, metadata contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundFilters, roundRepeats, MODEL_CONFIGS, metadataFor } from '../../tools/models/efficientdet.ts';
import { configFromEnv } from '../../tools/models/generate.ts';
import { parseMetadata, META_KEYS, DEFAULT_SEED, GENERATOR_VERSION, SCORE_THRESHOLD } from '../../lib/model-contract.ts';
import { Rng, modelSeed } from '../../tools/models/rng.ts';

describe('EfficientNet scaling (automl round_filters / round_repeats)', () => {
  it('B0 keeps the base widths; B2 (width 1.1) gives the published 32/16/24/48/88/120/208/352', () => {
    assert.deepEqual([32, 16, 24, 40, 80, 112, 192, 320].map((f) => roundFilters(f, 1.0)), [32, 16, 24, 40, 80, 112, 192, 320]);
    assert.deepEqual([32, 16, 24, 40, 80, 112, 192, 320].map((f) => roundFilters(f, 1.1)), [32, 16, 24, 48, 88, 120, 208, 352]);
  });
  it('depth 1.1 and 1.2 round repeats up', () => {
    assert.deepEqual([1, 2, 2, 3, 3, 4, 1].map((r) => roundRepeats(r, 1.1)), [2, 3, 3, 4, 4, 5, 2]);
    assert.deepEqual([1, 2, 2, 3, 3, 4, 1].map((r) => roundRepeats(r, 1.2)), [2, 3, 3, 4, 4, 5, 2]);
  });
  it('D0/D1/D2 hparams: input 512/640/768, BiFPN 64/88/112 x 3/4/5', () => {
    assert.deepEqual(Object.values(MODEL_CONFIGS).map((c) => [c.inputSize, c.fpnWidth, c.fpnLayers, c.headDepth]), [[512, 64, 3, 3], [640, 88, 4, 3], [768, 112, 5, 3]]);
  });
});

describe('seeded weights', () => {
  it('same seed -> same stream; model name changes the stream', () => {
    assert.deepEqual(new Rng(7).uniform(5, 1), new Rng(7).uniform(5, 1));
    assert.notEqual(modelSeed(7, 'd0'), modelSeed(7, 'd1'));
  });
  it('uniform init has the requested mean and std', () => {
    const x = new Rng(3).uniform(100000, 0.5, 2);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    assert.ok(Math.abs(mean - 2) < 0.01 && Math.abs(std - 0.5) < 0.01, `mean ${mean} std ${std}`);
  });
});

describe('generate config from env', () => {
  it('defaults: build/models, fixed seed, all three models', () => {
    assert.deepEqual(configFromEnv({}), { modelsDir: 'build/models', seed: DEFAULT_SEED, models: ['d0', 'd1', 'd2'], stacked: true, force: false });
  });
  it('SEED, MODELS_DIR, MODELS, STACKED override; bad values name the variable', () => {
    assert.deepEqual(configFromEnv({ SEED: '5', MODELS_DIR: '/x', MODELS: 'd2', STACKED: '0' }), { modelsDir: '/x', seed: 5, models: ['d2'], stacked: false, force: false });
    // Booleans take the same words as every other knob (FORCE=true works like FORCE=1).
    assert.equal(configFromEnv({ STACKED: 'yes' }).stacked, true);
    assert.equal(configFromEnv({ FORCE: 'true' }).force, true);
    assert.throws(() => configFromEnv({ STACKED: 'maybe' }), /^ConfigError: STACKED=maybe is not valid: expected one of 1, true, yes, on, 0, false, no, off$/);
    assert.throws(() => configFromEnv({ SEED: 'abc' }), /^ConfigError: SEED=abc is not valid: expected an integer from 0 to 4294967295$/);
    assert.throws(() => configFromEnv({ MODELS: 'd3' }), /^ConfigError: MODELS=d3 is not valid: expected a comma list of d0, d1, d2$/);
  });
});

describe('metadata contract', () => {
  it('metadataFor round-trips through parseMetadata', () => {
    const m = parseMetadata(metadataFor(MODEL_CONFIGS.d1, { seed: 9, generatorVersion: GENERATOR_VERSION }));
    assert.equal(m.modelName, 'd1');
    assert.equal(m.inputSize, 640);
    assert.equal(m.numAnchors, 76725);
    assert.deepEqual(m.mean, [0.485, 0.456, 0.406]);
    assert.deepEqual(m.anchors, { minLevel: 3, maxLevel: 7, numScales: 3, aspectRatios: [1, 2, 0.5], anchorScale: 4 });
    assert.equal(m.scoreThreshold, SCORE_THRESHOLD);
    assert.equal(m.seed, 9);
  });
  it('a missing key fails with one line naming it', () => {
    const props = metadataFor(MODEL_CONFIGS.d0, { seed: 1, generatorVersion: 'x' });
    delete props[META_KEYS.inputSize];
    assert.throws(() => parseMetadata(props, 'efficientdet-d0.onnx'), /efficientdet-d0.onnx: metadata key 'input_size' missing/);
  });
});

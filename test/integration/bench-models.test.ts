// tools/model-bench/bench.ts (`make bench-models`): variants with session-option presets are parsed, refused
// with a line naming the fix when unknown, and each one times its own real onnxruntime session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, benchConfigFromEnv, parseVariant, SESSION_PRESETS } from '../../tools/model-bench/bench.ts';

test('VARIANTS: a model file plus session presets; unknown names are refused with the list', () => {
  assert.deepEqual(parseVariant('float'), { label: 'float', file: 'float', presets: [] });
  assert.deepEqual(parseVariant('int8+no-arena+daz'), { label: 'int8+no-arena+daz', file: 'int8', presets: ['no-arena', 'daz'] });
  assert.throws(() => parseVariant('fp16'), /'fp16' must start with one of float, int8/);
  assert.throws(() => parseVariant('float+turbo'), /'turbo' in 'float\+turbo' is not a session preset; expected one of no-arena/);
  assert.deepEqual(benchConfigFromEnv({ VARIANTS: 'float, float+static-batch' }).variants.map((v) => v.label), ['float', 'float+static-batch']);
  assert.deepEqual(SESSION_PRESETS['static-batch']!.options(4), { freeDimensionOverrides: { N: 4 } });
});

test('each variant runs its own session: one row per variant and batch, real timings', async () => {
  const cfg = { ...benchConfigFromEnv({ MODELS: 'd0', BATCHES: '1', MODEL_RUNS: '2', WARMUP: '0', THREADS: '1', VARIANTS: 'float,float+static-batch,float+no-mempattern' }) };
  const rows = await bench(cfg, () => {});
  assert.deepEqual(rows.map((r) => [r.model, r.variant, r.batch, r.runs]), [
    ['d0', 'float', 1, 2], ['d0', 'float+static-batch', 1, 2], ['d0', 'float+no-mempattern', 1, 2],
  ]);
  for (const r of rows) assert.ok(r.median_ms > 1 && r.min_ms <= r.median_ms && r.median_ms <= r.max_ms, JSON.stringify(r));
});

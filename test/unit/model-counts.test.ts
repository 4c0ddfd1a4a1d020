// Per-model counts (`d0:1,d1:1,d2:2`): one parser for the server's INSTANCES (isolated's workers per
// model) and the Triton peer's TRITON_INSTANCES (instance_group count per model), so both stacks take
// the same allocation in the same words; bad values stop with the one ConfigError line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INVALID } from '../../lib/knobs.ts';
import { formatModelCounts, modelCounts } from '../../lib/model-counts.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { serveArgs, tritonConfig } from '../../peers/triton/config.ts';

test('model counts: parsed per model, written back in model order', () => {
  const p = modelCounts(1, 64);
  assert.deepEqual(p.parse('d2:3, d0:1'), { d2: 3, d0: 1 });
  assert.equal(formatModelCounts({ d2: 3, d0: 1 }), 'd0:1,d2:3');
  for (const bad of ['', 'd3:1', 'd0', 'd0:0', 'd0:65', 'd0:1,d0:2', 'd0:1:2', 'd0:x']) assert.equal(p.parse(bad), INVALID, bad);
});

test('INSTANCES: one worker per model by default; a model left out keeps 1; bad values name the variable and the form', () => {
  assert.deepEqual(loadConfig({}, []).instances, { d0: 1, d1: 1, d2: 1 });
  assert.deepEqual(loadConfig({ INSTANCES: 'd2:2' }, []).instances, { d2: 2 });
  assert.deepEqual(loadConfig({}, ['--instances=d0:2,d2:1']).instances, { d0: 2, d2: 1 });
  for (const raw of ['d0:0', 'd4:1', 'd0:1,d0:2', 'two']) {
    assert.throws(
      () => loadConfig({ INSTANCES: raw }, []),
      (e: Error) => e instanceof ConfigError && e.message === `INSTANCES=${raw} is not valid: expected a comma list of model:count with models from d0, d1, d2 (each at most once) and counts integers from 1 to 64, e.g. d0:1,d1:1,d2:2`,
      raw,
    );
  }
});

test('TRITON_INSTANCES: each named model its instance_group count, the others TRITON_INSTANCE_COUNT; serve.py gets them all', () => {
  assert.ok(serveArgs(tritonConfig({})).includes('--instances=d0:2,d1:2,d2:2'), 'default: TRITON_INSTANCE_COUNT (2) each');
  assert.ok(serveArgs(tritonConfig({ TRITON_INSTANCES: 'd0:1,d1:1,d2:1' })).includes('--instances=d0:1,d1:1,d2:1'), 'the server default allocation');
  assert.ok(serveArgs(tritonConfig({ TRITON_INSTANCES: 'd2:3', TRITON_INSTANCE_COUNT: '1' })).includes('--instances=d0:1,d1:1,d2:3'));
  assert.throws(() => tritonConfig({ TRITON_INSTANCES: 'd0:1,d7:1' }), /^ConfigError: TRITON_INSTANCES=d0:1,d7:1 is not valid: expected a comma list of model:count/);
});

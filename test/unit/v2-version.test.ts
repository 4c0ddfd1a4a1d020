import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v2VersionEnv } from '../../lib/v2/config.ts';
import { k6Config } from '../../lib/k6/config.ts';

test('V2_VERSION: empty by default (IMPL is the version), a version token when set, an error naming the variable otherwise', () => {
  assert.equal(v2VersionEnv({}), '');
  assert.equal(v2VersionEnv({ V2_VERSION: '1' }), '1');
  assert.throws(() => v2VersionEnv({ V2_VERSION: '1/../x' }), /V2_VERSION=1\/\.\.\/x is not valid: expected a model version/);
  // k6 keeps IMPL as the label and asks for the version.
  const cfg = k6Config({ PROTOCOL: 'v2', V2_MODELS: 'd0', IMPL: 'triton-instances', V2_VERSION: '1' });
  assert.deepEqual([cfg.impls, cfg.v2Version], [['triton-instances'], '1']);
});

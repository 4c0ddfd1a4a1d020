import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v2VersionEnv } from '../../lib/v2/config.ts';

test('V2_VERSION: empty by default (IMPL is the version), a version token when set, an error naming the variable otherwise', () => {
  assert.equal(v2VersionEnv({}), '');
  assert.equal(v2VersionEnv({ V2_VERSION: '1' }), '1');
  assert.throws(() => v2VersionEnv({ V2_VERSION: '1/../x' }), /V2_VERSION=1\/\.\.\/x is not valid: expected a model version/);
});

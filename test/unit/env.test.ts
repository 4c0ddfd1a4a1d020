import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolEnv, durationEnv, enumEnv, numberEnv, requireEnv, stringEnv } from '../../lib/env.ts';

test('defaults apply when a variable is unset or blank', () => {
  assert.equal(stringEnv({}, 'IMPL', 'baseline'), 'baseline');
  assert.equal(numberEnv({ N: ' ' }, 'N', 7), 7);
  assert.equal(enumEnv({}, 'EP', ['cpu', 'cuda'] as const, 'cpu'), 'cpu');
  assert.equal(boolEnv({}, 'CI', false), false);
});

test('values parse', () => {
  assert.equal(numberEnv({ N: '8' }, 'N', 1, { integer: true, min: 1 }), 8);
  assert.equal(enumEnv({ EP: 'cuda' }, 'EP', ['cpu', 'cuda'] as const, 'cpu'), 'cuda');
  assert.equal(boolEnv({ CI: 'true' }, 'CI', false), true);
  assert.equal(durationEnv({ D: '1m30s' }, 'D', '30s'), 90);
  assert.equal(durationEnv({}, 'D', '500ms'), 0.5);
});

test('errors name the variable, the value and what is allowed', () => {
  assert.throws(() => numberEnv({ N: 'x' }, 'N', 1, { integer: true, min: 1 }), /^ConfigError: N=x is not valid: expected an integer in 1\.\.inf$/);
  assert.throws(() => numberEnv({ N: '0' }, 'N', 1, { min: 1 }), /N=0 is not valid/);
  assert.throws(() => enumEnv({ EP: 'tpu' }, 'EP', ['cpu', 'cuda'] as const, 'cpu'), /EP=tpu is not valid: expected one of cpu, cuda/);
  assert.throws(() => boolEnv({ CI: 'maybe' }, 'CI', false), /CI=maybe/);
  assert.throws(() => durationEnv({ D: '30 seconds' }, 'D', '30s'), /D=30 seconds is not valid: expected a duration/);
  assert.throws(() => requireEnv({}, 'TARGET', 'set TARGET=http://host:port'), /TARGET is not set: set TARGET=http:\/\/host:port/);
});

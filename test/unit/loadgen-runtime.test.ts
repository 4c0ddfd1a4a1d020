import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLocalTarget, loadgenRuntimeEnv, readLoadgenRuntime } from '../../tools/common/loadgen-runtime.ts';

/** The knobs as a tool reads them, then the variables its generator gets. */
const runtimeEnv = (env: Record<string, string>, target: string) => loadgenRuntimeEnv(readLoadgenRuntime(env), target);

test('loadgen runtime: one core and GOGC=400 when the server is on this machine, every core for a remote target', () => {
  assert.deepEqual(runtimeEnv({}, ''), { GOMAXPROCS: '1', GOGC: '400' }, 'the bench starts the server');
  assert.deepEqual(runtimeEnv({}, 'http://127.0.0.1:8000'), { GOMAXPROCS: '1', GOGC: '400' });
  assert.deepEqual(runtimeEnv({}, 'http://gpu-box.internal:8000'), { GOGC: '400' }, "remote: Go's default GOMAXPROCS");
  assert.deepEqual(runtimeEnv({ LOADGEN_GOMAXPROCS: '4', LOADGEN_GOGC: '100' }, ''), { GOMAXPROCS: '4', GOGC: '100' });
  assert.deepEqual(runtimeEnv({ LOADGEN_GOMAXPROCS: 'AUTO' }, 'http://10.0.0.2:8000'), { GOGC: '400' });
});

test('loadgen runtime: loopback names are local, anything else is not', () => {
  for (const t of ['', 'http://localhost:8000', 'http://127.0.0.1:1', 'http://127.1.2.3:80', 'http://[::1]:8000', 'http://0.0.0.0:8000']) assert.equal(isLocalTarget(t), true, t);
  for (const t of ['http://10.0.0.2:8000', 'https://triton.example.com', 'not a url']) assert.equal(isLocalTarget(t), false, t);
});

test('loadgen runtime: a bad value stops with the one message form', () => {
  assert.throws(() => runtimeEnv({ LOADGEN_GOMAXPROCS: '0' }, ''), /LOADGEN_GOMAXPROCS=0 is not valid: expected auto or an integer >= 1/);
  assert.throws(() => runtimeEnv({ LOADGEN_GOGC: 'off' }, ''), /LOADGEN_GOGC=off is not valid: expected an integer from 25 to 10000/);
});

// The knobs of the issue-7 strategies (typed, errors name the variable and the allowed values) and
// IMPL choosing what a server loads: an unserved implementation is a 404 naming what is served, an
// unknown one stops the start with one line. Uses the `invalid` stub only, so no model is loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { startServer } from '../../server/main.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const MODELS = process.env.MODELS_DIR || 'build/models';

test('defaults: all implementations served, 2 single-threaded parallel workers, batches of 4 within 2 ms', () => {
  const c = loadConfig({}, []);
  assert.equal(c.impls, 'all');
  assert.equal(c.parallelWorkers, 2);
  assert.equal(c.parallelThreads, 1);
  assert.equal(c.batcherMaxBatch, 4);
  assert.equal(c.batcherMaxDelayUs, 2000);
  assert.equal(c.spinning, 'run');
});

test('env and flags set the knobs; IMPL takes a list or all', () => {
  const c = loadConfig({ IMPL: 'batched, baseline', PARALLEL_WORKERS: '3', PARALLEL_THREADS: '2', BATCHER_MAX_BATCH: '8', BATCHER_MAX_DELAY: '500us', SPINNING: 'off' }, ['--batcher-max-batch=16']);
  assert.deepEqual(c.impls, ['batched', 'baseline']);
  assert.equal(c.parallelWorkers, 3);
  assert.equal(c.parallelThreads, 2);
  assert.equal(c.batcherMaxBatch, 16);
  assert.equal(c.batcherMaxDelayUs, 500);
  assert.equal(loadConfig({ BATCHER_MAX_DELAY: '2ms' }, []).batcherMaxDelayUs, 2000, 'a duration, kept in microseconds');
  assert.equal(c.spinning, 'off');
  assert.equal(loadConfig({ IMPL: 'baseline,all' }, []).impls, 'all');
});

test('bad values name the variable and what it accepts', () => {
  const bad = (env: Record<string, string>, re: RegExp) => assert.throws(() => loadConfig(env, []), (e: Error) => e instanceof ConfigError && re.test(e.message), JSON.stringify(env));
  bad({ BATCHER_MAX_BATCH: '0' }, /BATCHER_MAX_BATCH=0 is not valid: expected an integer from 1 to 1024/);
  bad({ BATCHER_MAX_DELAY: '1500' }, /BATCHER_MAX_DELAY=1500 is not valid: expected a duration from 0s to 60s/);
  bad({ PARALLEL_WORKERS: 'two' }, /PARALLEL_WORKERS=two is not valid: expected an integer from 1 to 64/);
  bad({ SPINNING: 'maybe' }, /SPINNING=maybe is not valid: expected one of run, on, off/);
  bad({ IMPL: 'base line' }, /IMPL=base line is not valid: expected 'all' or a comma list of implementation names/);
});

test('IMPL=invalid: the server serves only invalid; a known but unserved implementation is a 404 naming what is served', async () => {
  const running = await startServer(loadConfig({}, [], { port: 0, modelsDir: MODELS, impls: ['invalid'], logLevel: 'error' }), quiet);
  try {
    const health = (await (await fetch(`${running.url}/health`)).json()) as { implementations: string[] };
    assert.deepEqual(health.implementations, ['invalid']);
    const res = await fetch(`${running.url}/infer/baseline`, { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: new Uint8Array([1]) });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: string; detail: string };
    assert.equal(body.error, 'implementation_not_served');
    assert.match(body.detail, /not loaded by this server \(IMPL=invalid\); it serves invalid/);
  } finally {
    await running.shutdown();
  }
});

test('IMPL naming an unknown implementation stops the start with one line listing the known ones', async () => {
  await assert.rejects(
    startServer(loadConfig({}, [], { port: 0, modelsDir: MODELS, impls: ['nope'], logLevel: 'error' }), quiet),
    /IMPL=nope: unknown implementation\(s\) nope; allowed values are all or a list of baseline, invalid/,
  );
});

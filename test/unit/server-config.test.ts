import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, DEFAULTS, loadConfig } from '../../server/config.ts';
import { QUEUE_PER_SLOT, QueuePolicy, QueueRefusal, queueSettings } from '../../server/runtime/queue-policy.ts';

test('defaults: loopback:8000, cpu, graph opt all, 20 MB body', () => {
  const c = loadConfig({}, []);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8000);
  assert.equal(c.ep, 'cpu');
  assert.equal(c.graphOpt, 'all');
  assert.equal(c.maxBodyMb, 20);
  assert.equal(c.workers, DEFAULTS.workers);
  assert.equal(c.modelsDir, path.resolve('build/models'));
});

test('env overrides defaults, flags override env, typed overrides win', () => {
  const env = { PORT: '9000', EP: 'cuda,cpu', THREADS: '2', GRAPH_OPT: 'extended', WORKERS: '2', MAX_BODY_MB: '1.5', MAX_PIXELS: '1000' };
  const c = loadConfig(env, ['--port', '9100', '--host=0.0.0.0']);
  assert.equal(c.port, 9100);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.ep, 'cuda,cpu');
  assert.equal(c.threads, 2);
  assert.equal(c.graphOpt, 'extended');
  assert.equal(c.workers, 2);
  assert.equal(c.maxBodyMb, 1.5);
  assert.equal(c.maxPixels, 1000);
  assert.equal(loadConfig(env, [], { port: 0 }).port, 0);
});

test('errors name the variable and the allowed values', () => {
  assert.throws(() => loadConfig({ EP: 'tpu' }, []), (e: Error) => e instanceof ConfigError && e.message === 'EP=tpu is not valid: expected one of cpu, cuda, cuda,cpu');
  assert.throws(() => loadConfig({ GRAPH_OPT: 'max' }, []), /^ConfigError: GRAPH_OPT=max is not valid: expected one of disabled, basic, extended, all$/);
  assert.throws(() => loadConfig({ PORT: '80a' }, []), /^ConfigError: PORT=80a is not valid: expected an integer from 0 to 65535$/);
  assert.throws(() => loadConfig({ WORKERS: '0' }, []), /^ConfigError: WORKERS=0 is not valid: expected an integer from 1 to 64$/);
  assert.throws(() => loadConfig({}, ['--threads', 'x']), /^ConfigError: --threads=x is not valid: expected an integer from 0 to 256$/);
  assert.throws(() => loadConfig({ THREADS: '2' }, ['--threads', 'x']), /--threads=x/, 'a bad flag is refused even when the env value is good');
  assert.throws(() => loadConfig({}, ['--bogus=1']), /Unknown option '--bogus'.*--port/);
  assert.throws(() => loadConfig({}, ['--port']), /--port <value>' argument missing/);
});

test('queue policy knobs: QUEUE_MAX_SIZE auto = 8 per execution slot, 0 = unbounded; errors name the variable', () => {
  const c = loadConfig({}, []);
  assert.equal(c.queueMaxSize, 'auto');
  assert.equal(c.queueTimeoutUs, 0);
  assert.deepEqual(queueSettings(c, 1), { maxQueueSize: QUEUE_PER_SLOT, timeoutUs: 0 });
  assert.deepEqual(queueSettings(c, 2), { maxQueueSize: 2 * QUEUE_PER_SLOT, timeoutUs: 0 });
  const set = loadConfig({ QUEUE_MAX_SIZE: '0', QUEUE_TIMEOUT: '250ms' }, []);
  assert.deepEqual(queueSettings(set, 4), { maxQueueSize: 0, timeoutUs: 250_000 });
  assert.equal(loadConfig({}, ['--queue-max-size', '3']).queueMaxSize, 3);
  assert.throws(() => loadConfig({ QUEUE_MAX_SIZE: 'lots' }, []), /QUEUE_MAX_SIZE=lots is not valid: expected auto or an integer from 0 to 1000000$/);
  assert.throws(() => loadConfig({ QUEUE_TIMEOUT: '-1s' }, []), /QUEUE_TIMEOUT=-1s is not valid: expected a duration from 0s to 1h such as 500us, 2ms or 1s$/);
});

test('queue policy: a refused admission leaves the count alone; a timed-out ticket cannot start', (ctx) => {
  // Mocked timers: the ticket's 20 ms timeout expires when the test says so, not after a real wait.
  ctx.mock.timers.enable({ apis: ['setTimeout'] });
  const policy = new QueuePolicy('x', { maxQueueSize: 1, timeoutUs: 20_000 });
  let expired: QueueRefusal | undefined;
  const t = policy.admit((r) => (expired = r));
  assert.throws(() => policy.admit(), (e: Error) => e instanceof QueueRefusal && e.code === 'queue_full');
  assert.equal(policy.queued, 1);
  ctx.mock.timers.tick(19);
  const early = expired; // a copy: asserting on `expired` itself would narrow it to undefined below
  assert.equal(early, undefined, 'not before its timeout');
  assert.equal(policy.queued, 1);
  ctx.mock.timers.tick(1);
  assert.equal(expired?.code, 'queue_timeout');
  assert.equal(policy.queued, 0);
  assert.equal(t.start(), false);
  const u = policy.admit();
  assert.equal(u.start(), true);
  assert.equal(policy.queued, 0);
});

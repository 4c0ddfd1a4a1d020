// CPU_PLACEMENT (tools/common/cpu-placement.ts): the knob's three forms, the split of a host's cores,
// the refusals, and the command line that pins a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU_PLACEMENT_KNOB, describePlacement, pinned, readPlacement, resolvePlacement } from '../../tools/common/cpu-placement.ts';
import { ConfigError } from '../../lib/env.ts';

test('CPU_PLACEMENT: shared (default), split, or S/L taskset lists; anything else is refused naming the forms', () => {
  assert.deepEqual(readPlacement({}), { mode: 'shared' });
  assert.deepEqual(readPlacement({ CPU_PLACEMENT: 'split' }), { mode: 'split' });
  assert.deepEqual(readPlacement({ CPU_PLACEMENT: '0-2/3' }), { mode: 'explicit', server: '0-2', loadgen: '3' });
  assert.deepEqual(readPlacement({ CPU_PLACEMENT: '0,2/1,3' }), { mode: 'explicit', server: '0,2', loadgen: '1,3' });
  for (const bad of ['pinned', '1', '1/', '/0', 'a/b', '0/1/2']) {
    assert.throws(() => readPlacement({ CPU_PLACEMENT: bad }), (e: Error) => e instanceof ConfigError && /CPU_PLACEMENT/.test(e.message) && e.message.includes(CPU_PLACEMENT_KNOB.allowed), bad);
  }
});

test('split: the load generator on the last quarter of the cores (at least one), the server on the rest', () => {
  const split = (cores: number) => {
    const p = resolvePlacement({ mode: 'split' }, cores);
    return `${p.server_cpus}/${p.loadgen_cpus}`;
  };
  assert.equal(split(2), '0/1');
  assert.equal(split(4), '0-2/3');
  assert.equal(split(8), '0-5/6-7');
  assert.throws(() => resolvePlacement({ mode: 'split' }, 1), /CPU_PLACEMENT=split needs 2 or more cores; this process may use 1: set CPU_PLACEMENT=shared/);
  const shared = resolvePlacement({ mode: 'shared' }, 2);
  assert.deepEqual([shared.server_cpus, shared.loadgen_cpus], [null, null]);
  assert.equal(describePlacement(shared), 'shared: server and load generator on all 2 cores');
  assert.equal(describePlacement(resolvePlacement({ mode: 'split' }, 2)), 'split: server on CPU 0, load generator on CPU 1 (of 2)');
});

test('pinned: taskset -c before the command when pinned, the command alone when not', () => {
  assert.deepEqual(pinned(['k6', 'run', 'x.js'], '1'), ['taskset', '-c', '1', 'k6', 'run', 'x.js']);
  assert.deepEqual(pinned(['k6', 'run'], null), ['k6', 'run']);
});

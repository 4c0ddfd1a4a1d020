// CPU_PLACEMENT on a real process: the server started with `cpus` runs, with every thread it started
// (libuv's pool, the worker threads, onnxruntime's), on those CPUs only, read back from /proc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, stopServer } from '../../tools/common/server-process.ts';

const allowed = (pid: number, tid: number): string => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]!;

test('a server started with cpus runs every thread on them', { skip: availableParallelism() < 2 ? 'needs 2 cores' : false, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'placement-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, ep: 'cpu', modelsDir: resolve('build/models'), logFile: join(dir, 'server.log'), readyTimeout_s: 60, env: { IMPL: 'invalid' }, cpus: '1' });
  try {
    const pid = server.child.pid!;
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /server\/main\.ts/, 'taskset exec()s the server: the pid is the server\'s');
    const tids = readdirSync(`/proc/${pid}/task`).map(Number);
    assert.ok(tids.length > 3, `threads: ${tids.length}`);
    for (const tid of tids) assert.equal(allowed(pid, tid), '1', `thread ${tid}`);
  } finally {
    await stopServer(server);
  }
});

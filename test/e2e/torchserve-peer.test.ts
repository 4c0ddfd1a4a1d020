// The TorchServe peer end to end, in one start: `make torchserve` (installing its venv from PyPI on
// first use) comes up ready with the java frontend and its Python workers, a short bench over its
// own inference API (PROTOCOL=torchserve) passes the in-run output checks against the baseline
// reference and books its requests in TorchServe's metrics, the idle server takes no CPU, and
// SIGTERM stops it with its workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { runMake } from './bench-helpers.ts';
import { startTorchServe, stopTorchServe } from '../../peers/torchserve/driver.ts';
import { treeCpuSeconds } from '../../lib/node/proc-cpu.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'torchserve-e2e-'));

/** Every pid of a process tree (the java frontend and its Python workers), by parent pid. */
function treePids(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone since the listing.
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

test('make torchserve serves d2 (a 7 MB tensor, over TorchServe\'s default request size) through the onnxruntime handler: a smoke bench over /predictions passes its output checks, metrics booked, idle takes no CPU, SIGTERM stops java and its workers', { timeout: 900_000 }, async () => {
  const server = await startTorchServe({ logFile: join(tmp(), 'torchserve.log'), readyTimeout_s: 240, env: { MODELS: 'd2', TORCHSERVE_WORKERS: '1' } });
  let pids: number[] = [];
  let stopped;
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    pids = treePids(server.pid);
    assert.equal(pids.length, 2, `java and one worker: ${pids.join(',')}`);

    const root = tmp();
    const r = await runMake(['bench'], {
      SCENARIO: 'smoke', TARGET: server.url, TARGET_METRICS: server.metricsUrl, PROTOCOL: 'torchserve', V2_MODELS: 'd2',
      IMPL: 'torchserve', SMOKE_REQUESTS: '2', WARMUP: '1', HOST_BOUNDS: '0', RESULTS_ROOT: root,
    }, 600_000);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const dir = join(root, readlinkSync(join(root, 'latest')));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    const outputChecks = summary.thresholds.filter((t) => t.metric.startsWith('output_match'));
    assert.ok(outputChecks.length > 0 && outputChecks.every((t) => t.ok), `in-run output checks present and passed: ${JSON.stringify(summary.thresholds.map((t) => [t.metric, t.ok]))}`);
    assert.ok(summary.levels.some((l) => l.impl === 'torchserve' && l.requests > 0), JSON.stringify(summary.levels));
    // TorchServe's own counters and the handler's, scraped from TARGET_METRICS before and after k6.
    const count = (file: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*efficientdet-d2[^}]*\\} (\\S+)$`, 'm').exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? 0);
    assert.ok(count('server-metrics.prom', 'ts_inference_requests_total') - count('server-metrics.before.prom', 'ts_inference_requests_total') >= 2, 'the run\'s requests booked by TorchServe');
    assert.ok(count('server-metrics.prom', 'ts_handler_compute_microseconds') > 0, 'the handler\'s compute counter exported');

    // Idle: after a settle, java and the worker burn almost nothing.
    await new Promise((res) => setTimeout(res, 1000));
    const before = treeCpuSeconds(server.pid);
    await new Promise((res) => setTimeout(res, 5000));
    const idle = treeCpuSeconds(server.pid) - before;
    assert.ok(idle < 0.25, `idle TorchServe tree used ${idle.toFixed(2)} CPU-s in 5 s (spinning or polling?)`);
  } finally {
    stopped = await stopTorchServe(server);
  }
  assert.ok(stopped.clean, `serve.py saw java stop on SIGTERM (log ${server.logFile}): ${JSON.stringify(stopped)}`);
  for (const p of pids) assert.ok(!existsSync(`/proc/${p}`), `pid ${p} of the TorchServe tree is gone after SIGTERM`);
});

// make harness end to end, kept short: real server (the stub), real k6 (the bare script, and the
// suite's with and without in-run output checks), real vegeta (built from the pinned source), one
// round; the JSON and the table land in results/harness/<ts>/ with figures for every generator. On 2 or
// more cores it runs with CPU_PLACEMENT=split (the server and the generators on disjoint cores).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HarnessReport } from '../../tools/harness/report.ts';
import { runMake } from './bench-helpers.ts';

test('make harness measures k6 bare, k6, k6 with output checks and vegeta on the stub and writes harness.json/txt', { timeout: 600_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'harness-'));
  const placement = availableParallelism() >= 2 ? 'split' : 'shared';
  const r = await runMake(['harness'], { RESULTS_ROOT: root, IMPL: 'invalid', LEVELS: '1', DURATION: '3s', ROUNDS: '1', WARMUP: '2', CPU_PLACEMENT: placement }, 600_000);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const dir = realpathSync(join(root, 'harness', 'latest'));
  const report = JSON.parse(readFileSync(join(dir, 'harness.json'), 'utf8')) as HarnessReport;
  assert.equal(report.runs.length, 4);
  const c = report.comparisons.find((x) => x.impl === 'invalid' && x.level === 1)!;
  for (const g of ['k6-bare', 'k6', 'k6+checks', 'vegeta'] as const) {
    const f = c.by[g]!;
    assert.ok(f.rps > 1, `${g} measured ${f.rps} req/s`);
    assert.ok(f.p50_ms > 0 && f.p99_ms >= f.p50_ms, `${g} p50 ${f.p50_ms} p99 ${f.p99_ms}`);
    assert.equal(f.failed_ratio, 0, `${g} had failed requests`);
    assert.ok(f.cpu_ms_per_request_total > 0, `${g} CPU per request`);
  }
  assert.ok(c.rps_ratio !== null && c.rps_ratio > 0);
  assert.ok(c.bare_rps_ratio != null && c.bare_rps_ratio > 0);
  // The bare run's warm-up went to its own process: the measured summary holds no more than the run sent.
  assert.ok(existsSync(join(dir, 'runs', 'r1-invalid-c1-k6-bare', 'k6-bare-warmup.log')));
  // The stub's empty answers must still fail the in-run output checks (k6 exits 99, the figures stand).
  assert.match(readFileSync(join(dir, 'runs', 'r1-invalid-c1-k6+checks', 'k6', 'summary.json'), 'utf8'), /"metric": "output_match\{impl:invalid\}"[^}]*"ok": false/);
  assert.match(readFileSync(join(dir, 'harness.txt'), 'utf8'), /\| invalid \| 1 \|/);
  assert.equal(report.cpu_placement?.mode, placement);
  if (placement === 'split') {
    assert.ok(report.cpu_placement!.server_cpus && report.cpu_placement!.loadgen_cpus, JSON.stringify(report.cpu_placement));
    if (availableParallelism() === 2) assert.deepEqual([report.cpu_placement!.server_cpus, report.cpu_placement!.loadgen_cpus], ['0', '1']);
    assert.match(readFileSync(join(dir, 'harness.txt'), 'utf8'), /CPU placement split: server on CPU 0/);
  }
});

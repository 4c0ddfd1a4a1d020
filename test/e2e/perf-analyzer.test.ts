// Triton's perf_analyzer (make perf-analyzer-install: tritonclient 2.51.0's binary in a venv under
// build/perf-analyzer) measures our efficientdet-d0 over v2 with binary tensors at concurrency 1 and
// 4: it reads /v2, the model metadata and config, the statistics extension, and runs its load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMake } from './bench-helpers.ts';

test('make perf-analyzer V2_MODELS=d0 LEVELS=1,4 completes and writes its CSV', async () => {
  const root = mkdtempSync(join(tmpdir(), 'perf-analyzer-e2e-'));
  // Short windows: a measurement is 3 windows of a few requests each (perf_analyzer stops when they agree;
  // a busy CI host once failed its stability at 100 % within 4 trials, so the bar is wide: this test is
  // about the protocol, not the figures).
  const r = await runMake(['perf-analyzer'], {
    V2_MODELS: 'd0', LEVELS: '1,4', IMPL: 'concurrent', RESULTS_ROOT: root,
    MEASUREMENT_MODE: 'count_windows', MEASUREMENT_REQUEST_COUNT: '6', MEASUREMENT_INTERVAL: '2s', PA_ARGS: '--stability-percentage 500 --max-trials 6',
  }, 900_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const run = readdirSync(root).find((d) => d.includes('perf-analyzer-efficientdet-d0-concurrent'))!;
  const dir = join(root, run);
  const csv = readFileSync(join(dir, 'perf_analyzer.csv'), 'utf8').trim().split('\n');
  assert.match(csv[0]!, /^Concurrency,Inferences\/Second,/);
  assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]), ['1', '4']);
  const summary = JSON.parse(readFileSync(join(dir, 'perf_analyzer.json'), 'utf8')) as { version: string; levels: { concurrency: number; rps: number; p50_ms: number }[] };
  assert.equal(summary.version, '4');
  for (const l of summary.levels) assert.ok(l.rps > 0 && l.p50_ms > 0, JSON.stringify(l));
  const log = readFileSync(join(dir, 'perf_analyzer.log'), 'utf8');
  // perf_analyzer read the server-side statistics (our stats extension) for its breakdown.
  assert.match(log, /Server:\s*\n\s*Inference count: [1-9]/);
  assert.match(readFileSync(join(dir, 'command.txt'), 'utf8'), /--input-tensor-format binary --output-tensor-format binary/);
});

// make report TUNE=... end to end on the stub: a hand-written tune.json whose best configuration of our
// server is `IMPL=invalid PARALLEL_WORKERS=1` (the shipped default is 2), beside the plain IMPL=invalid
// row, one round at one level. The tuned row must appear with its knobs, be measured, and its runs must
// have met a server started with those knobs (the server's own settings in the run's env.json, from its
// /health), while the plain row's server kept the default. Run through the tool itself, not make, to
// spare make's prerequisite checks (about 7 s on a busy 2-core host); about 15 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.ts';
import { writeTuneFixture } from '../helpers/tune-fixture.ts';
import type { Report } from '../../tools/report/model.ts';

test('make report TUNE=<a tune.json whose best is invalid with PARALLEL_WORKERS=1> IMPL=invalid: the tuned row runs on a server of its own with those knobs, in the same round', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'report-tuned-e2e-'));
  const tune = writeTuneFixture(join(root, 'tune', '2026-12-07T06-00-00Z'), [{ stack: 'ours', best: { IMPL: 'invalid', PARALLEL_WORKERS: '1' } }, { stack: 'triton', best: null }], 'concurrency8');
  const env = { CI: 'true', DASHBOARD: '0', IMPL: 'invalid', TUNE: 'latest', LEVELS: '1', DURATION: '2s', REPEATS: '1', ACCURACY: '0', WARMUP: '2', MAX_IMAGES: '2', HOST_BOUNDS: '0', RESULTS_ROOT: root };
  // TUNE=latest: RESULTS_ROOT/tune/latest.
  symlinkSync('2026-12-07T06-00-00Z', join(root, 'tune', 'latest'));
  const r = await run(process.execPath, ['--import', 'tsx', 'tools/report/run.ts'], { env, timeoutMs: 100_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  assert.match(out, /report: tuned row invalid@tuned http:\/\/127\.0\.0\.1:\d+ ready in [\d.]+ s with IMPL=invalid PARALLEL_WORKERS=1/);
  assert.match(out, /report: TUNE: triton has no feasible best configuration in this tune\.json .*: its row is left out/);
  assert.match(out, /report: 2 timed runs: 1 round\(s\) x 2 implementation\(s\) \(invalid, invalid@tuned\)/);

  const dir = join(root, 'report', readlinkSync(join(root, 'report', 'latest')));
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  assert.deepEqual(report.impls, ['invalid', 'invalid@tuned']);
  for (const row of report.results) assert.ok(row.requests > 0 && row.rps.median > 0, JSON.stringify(row));
  assert.ok(report.speedups.some((s) => s.impl === 'invalid@tuned' && s.over === 'invalid' && s.rps !== null));
  // Each row's server as it reported its own settings: the tuned one started with PARALLEL_WORKERS=1, the shared one with the default.
  const settings = (row: string) => {
    const runRow = report.runs.find((x) => x.impls[0] === row)!;
    return (JSON.parse(readFileSync(join(runRow.dir, 'env.json'), 'utf8')) as { server_settings: { parallel_workers: number } }).server_settings;
  };
  assert.equal(settings('invalid@tuned').parallel_workers, 1);
  assert.equal(settings('invalid').parallel_workers, 2);
  assert.notEqual(report.runs.find((x) => x.impls[0] === 'invalid@tuned')!.dir, report.runs.find((x) => x.impls[0] === 'invalid')!.dir);
  assert.equal(report.tune!.dir, tune);
  assert.deepEqual(report.tune!.rows.map((x) => [x.row, x.knobs]), [['invalid@tuned', 'IMPL=invalid PARALLEL_WORKERS=1']]);

  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /\| invalid@tuned \| ours \| `IMPL=invalid PARALLEL_WORKERS=1` \| goodput req\/s 413 \[380, 441\] \|/);
  // The reproduce lines name the tune folder itself (TUNE=latest moves on), the tuned server with its knobs, and its bench against it.
  assert.ok(md.includes(`a server of its own started with IMPL=invalid PARALLEL_WORKERS=1 (make tune's best, TUNE=${tune}) |`), md);
  assert.ok(report.commands.report.startsWith(`make report IMPL=invalid TUNE=${tune} LEVELS=1 DURATION=2s REPEATS=1 ACCURACY=0 `), report.commands.report);
  assert.ok(report.commands.runs.some((l) => l.split('\n').includes(`make server IMPL=invalid PARALLEL_WORKERS=1 PORT=8001  # in another shell: the row invalid@tuned (TUNE=${tune})`)), report.commands.runs.join('\n'));
  assert.ok(report.commands.runs.some((l) => /^make bench SCENARIO=sweep IMPL=invalid LEVELS=1 DURATION=2s ACCURACY=0 TARGET=http:\/\/127\.0\.0\.1:8001 .*# row invalid@tuned$/m.test(l)), report.commands.runs.join('\n'));
});

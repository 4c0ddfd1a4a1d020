// make tune end to end (real servers, real k6, real bench runs) on the stub (our server's `invalid`
// implementation: constant answers at once, so a run is seconds): an exhaustive grid of three
// configurations, the second of which cannot start (QUEUE_MAX_SIZE=bad: the server refuses the value). The run
// is cut after its first configuration (TUNE_MAX_CONFIGS=1) and resumed (TUNE_RESUME), which must take
// that configuration from the journal and measure only the other two; the bad one is an error row and the
// others are still measured; tune.json, the frontier SVGs and the recommendation are written. Then the
// recommended `make server` line's knobs start a server that, benched once, measures as the tuning said
// within the noise of a busy 2-core host (0.5x to 2x of its interval). About 35 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TuneReport } from '../../tools/tune/output.ts';
import type { Summary } from '../../lib/summary.ts';
import { startServer, stopServer } from '../../tools/common/server-process.ts';
import { run } from '../helpers/run.ts';
import { runBenchCli, runMake } from './bench-helpers.ts';

const latest = (dir: string) => join(dir, readlinkSync(join(dir, 'latest')));
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8')) as TuneReport;

test('make tune on the stub: a grid with a configuration that cannot start, cut and resumed from its journal, writes tune.json, the frontiers and a make server line that measures as tuned', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'tune-e2e-'));
  const knobs = { IMPL: 'invalid', TUNE_AXES: 'QUEUE_MAX_SIZE=auto,bad,64', TUNE_SEARCH: 'exhaustive', DURATION: '2s', TUNE_PROBE_DURATION: '1s', WARMUP: '1', TUNE_ACCURACY: '0', TARGET_RATE: '1000', RESULTS_ROOT: root };

  const first = await runMake(['tune'], { ...knobs, TUNE_MAX_CONFIGS: '1' }, 120_000);
  assert.equal(first.code, 0, first.stdout.slice(-3000) + first.stderr.slice(-2000));
  const dir = latest(join(root, 'tune'));
  assert.deepEqual(readReport(dir).stacks.map((s) => [s.end, s.outcomes.length]), [['max_configs', 1]]);
  assert.match(first.stderr + first.stdout, /tune: ours 1\/3 IMPL=invalid QUEUE_MAX_SIZE=auto: goodput [\d.]+ \[[\d.]+, [\d.]+\], p99 [\d.]+ ms, \d+ MB: feasible, best so far \[\d+ of 1800 s left\]/);
  const runsBefore = readdirSync(join(dir, 'runs')).length;

  // The same search, resumed in the same folder: the first configuration comes from the journal.
  const second = await run(process.execPath, ['--import', 'tsx', 'tools/tune/run.ts'], { env: { CI: 'true', ...knobs, TUNE_RESUME: dir }, timeoutMs: 120_000 });
  const out = second.stdout + second.stderr;
  assert.equal(second.code, 0, out.slice(-4000));
  assert.match(out, /tune: ours 1\/3 IMPL=invalid QUEUE_MAX_SIZE=auto: .*\(from the journal\)/);
  assert.match(out, /tune: ours 2\/3 IMPL=invalid QUEUE_MAX_SIZE=bad: error: did not start: server exited with code 2 .*QUEUE_MAX_SIZE=bad is not valid/);
  const report = readReport(dir);
  const ours = report.stacks[0]!;
  assert.equal(ours.end, 'exhausted');
  assert.deepEqual(ours.outcomes.map((o) => o.config['QUEUE_MAX_SIZE']), ['auto', 'bad', '64']);
  const [auto, bad, q64] = ours.outcomes;
  assert.match(bad!.error!, /did not start/);
  // The first is measured in full; the second too unless its probe's whole interval fell below the first's.
  assert.equal(auto!.stage, 'full');
  assert.ok(q64!.stage === 'full' || /clearly worse than the best so far/.test(q64!.stopped_early ?? ''), JSON.stringify(q64));
  for (const o of [auto!, q64!]) {
    assert.ok(o.objective_lo > 0 && o.objective_lo <= o.objective && o.objective <= o.objective_hi, JSON.stringify(o));
    assert.ok(typeof o.figures['p99_ms'] === 'number' && typeof o.figures['memory_mb'] === 'number', JSON.stringify(o.figures));
  }
  // Resumed: only the two configurations the first run did not reach were measured (a probe and a full run each, and the bad one's start).
  assert.ok(readdirSync(join(dir, 'runs')).length > runsBefore);
  assert.equal(auto!.runDirs[0]!.startsWith(join(dir, 'runs', '002-ours-full')), true, auto!.runDirs[0]);
  const best = ours.best!;
  assert.ok(best.key === auto!.key || best.key === q64!.key);
  assert.match(readFileSync(join(dir, 'frontier-p99.svg'), 'utf8'), /^<svg/);
  assert.match(readFileSync(join(dir, 'frontier-memory.svg'), 'utf8'), /^<svg/);
  assert.match(readFileSync(join(dir, 'tune.txt'), 'utf8'), /^3 \| IMPL=invalid QUEUE_MAX_SIZE=bad \| - \| .*error: did not start/m);

  // The recommendation: the replicas for TARGET_RATE and the make server line, run as it says.
  const rec = readFileSync(join(dir, 'recommendation.txt'), 'utf8');
  const replicas = Math.ceil(1000 / (best.objective_lo * 0.8));
  assert.match(rec, new RegExp(`^# TARGET_RATE=1000: ${replicas} replica\\(s\\) with 20 % headroom`, 'm'));
  const line = /^make server (.+)$/m.exec(rec);
  assert.ok(line, rec);
  const serverKnobs = Object.fromEntries(line[1]!.split(' ').map((w) => w.split('=', 2) as [string, string]));
  assert.deepEqual(serverKnobs, { IMPL: 'invalid', QUEUE_MAX_SIZE: best.config['QUEUE_MAX_SIZE'] });
  const server = await startServer({ host: '127.0.0.1', port: 0, ep: 'cpu', modelsDir: '', logFile: join(root, 'recommended-server.log'), readyTimeout_s: 60, env: serverKnobs });
  try {
    const verify = await runBenchCli({ TARGET: server.url, IMPL: serverKnobs['IMPL']!, SCENARIO: 'concurrency8', DURATION: '2s', WARMUP: '1', RESULTS_ROOT: join(root, 'verify'), STABILITY_MAX_DURATION: '0s' }, 60_000);
    assert.equal(verify.code, 0, verify.stdout.slice(-2000) + verify.stderr.slice(-2000));
    const summary = JSON.parse(readFileSync(join(latest(join(root, 'verify')), 'summary.json'), 'utf8')) as Summary;
    const goodput = summary.levels[0]!.goodput_rps!;
    assert.ok(goodput >= 0.5 * best.objective_lo && goodput <= 2 * best.objective_hi, `recommended server: ${goodput} good/s; tuned ${best.objective} [${best.objective_lo}, ${best.objective_hi}]`);
  } finally {
    await stopServer(server);
  }
});

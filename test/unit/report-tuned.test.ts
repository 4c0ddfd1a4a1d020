// make report TUNE=...: a make tune result (a hand-written tune.json) read into the report's tuned rows
// (labels, knobs, the tuning's workload), what is refused in one line, the reproduce lines that show
// the tuned knobs, and the report built from fixture runs of the tuned rows (the tuned section, our best
// over Triton's paired by round).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { reportConfig } from '../../tools/report/config.ts';
import { readTune, tuneMeta } from '../../tools/report/tuned.ts';
import { accuracyRows, reproduceCommands } from '../../tools/report/run.ts';
import { schedule } from '../../tools/report/plan.ts';
import { gatherRuns, ROLE_FILE } from '../../tools/report/gather.ts';
import { buildReport, type ReportMeta } from '../../tools/report/model.ts';
import { reportMarkdown } from '../../tools/report/render.ts';
import { resultsTableText } from '../../tools/report/text.ts';
import { writeTuneFixture } from '../helpers/tune-fixture.ts';

const OURS = { IMPL: 'concurrent', PARALLEL_WORKERS: '1', PARALLEL_THREADS: '2' };
const TRITON = { TRITON_MODEL_SET: 'dynamic', TRITON_INSTANCE_COUNT: '1', TRITON_MAX_BATCH: '4', TRITON_MAX_DELAY: '2ms' };
const tmp = () => mkdtempSync(join(tmpdir(), 'report-tuned-'));

test('TUNE: each stack\'s best a row (ours <IMPL>@tuned with the fixed knobs and its own, triton-tuned), the tuning\'s concurrency as LEVELS unless LEVELS is set; TUNE=latest under RESULTS_ROOT', () => {
  const root = tmp();
  const dir = writeTuneFixture(join(root, 'tune', '2026-12-07T06-00-00Z'), [{ stack: 'ours', best: OURS, fixed: { SPINNING: 'off' } }, { stack: 'triton', best: TRITON }]);
  const q = readTune(dir, root);
  assert.deepEqual(q.rows.map((r) => [r.row, r.stack, r.knobs]), [
    ['concurrent@tuned', 'ours', { SPINNING: 'off', ...OURS }],
    ['triton-tuned', 'triton', TRITON],
  ]);
  assert.equal(q.rows[0]!.tuned, 'goodput req/s 413 [380, 441]');
  assert.deepEqual(q.load, { levels: [8] });
  assert.deepEqual(q.notes, []);
  const cfg = reportConfig({ TUNE: dir, IMPL: 'baseline', RESULTS_ROOT: root });
  assert.deepEqual([cfg.levels, cfg.mix, cfg.tune?.rows.length], [[8], null, 2]);
  assert.deepEqual(reportConfig({ TUNE: dir, LEVELS: '1,4' }).levels, [1, 4]);
  symlinkSync('2026-12-07T06-00-00Z', join(root, 'tune', 'latest'));
  assert.equal(reportConfig({ TUNE: 'latest', RESULTS_ROOT: root }).tune!.dir, dir);
  // A labelled IMPL in the tuning is the implementation; the row's label is the report's.
  writeTuneFixture(dir, [{ stack: 'ours', best: { IMPL: 'invalid@a', PARALLEL_WORKERS: '1' } }]);
  assert.deepEqual(readTune(dir, root).rows.map((r) => [r.row, r.knobs['IMPL']]), [['invalid@tuned', 'invalid']]);
});

test('TUNE of a mix: the MIX and MIX_LOOP of its best run (env.json), or of tune.json when it says; MIX or LEVELS set by the user win; a line when our rows run over another protocol than the tuning\'s', () => {
  const root = tmp();
  const run = join(root, 'tune', 't', 'runs', '002-ours-full', '2026-12-07T06-00-01Z-mix-concurrent');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'env.json'), JSON.stringify({ knobs: { SCENARIO: 'mix', MIX: 'd0:2,d2:1', MIX_LOOP: 'closed', PROTOCOL: 'v2', V2_MODELS: 'd0,d2' } }));
  // runDirs as written where the tuning ran (another place): found again under this tune folder's runs/.
  const dir = writeTuneFixture(join(root, 'tune', 't'), [{ stack: 'ours', best: OURS, runDirs: ['/elsewhere/runs/002-ours-full/2026-12-07T06-00-01Z-mix-concurrent'] }], 'mix');
  const cfg = reportConfig({ TUNE: dir });
  assert.deepEqual(cfg.mix, { streams: [{ model: 'd0', value: 2 }, { model: 'd2', value: 1 }], loop: 'closed' });
  // Our best was measured over v2: a report of ours over the native API says so, one over the same protocol does not.
  assert.deepEqual(cfg.tune!.notes, ['TUNE: the tuning measured our best over PROTOCOL=v2 V2_MODELS=d0,d2, this report runs our rows over PROTOCOL=native: set PROTOCOL=v2 V2_MODELS=d0,d2 to measure them as tuned']);
  assert.deepEqual(reportConfig({ TUNE: dir, PROTOCOL: 'v2', V2_MODELS: 'd0,d2' }).tune!.notes, []);
  assert.deepEqual(reportConfig({ TUNE: dir, MIX: 'd1:3' }).mix, { streams: [{ model: 'd1', value: 3 }], loop: 'open' });
  const swept = reportConfig({ TUNE: dir, LEVELS: '2' });
  assert.deepEqual([swept.mix, swept.levels], [null, [2]]);
  const json = JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8'));
  writeFileSync(join(dir, 'tune.json'), JSON.stringify({ ...json, config: { ...json.config, mix: 'd0:5', mix_loop: 'open' } }));
  assert.deepEqual(reportConfig({ TUNE: dir }).mix, { streams: [{ model: 'd0', value: 5 }], loop: 'open' });
  // A mix whose MIX nobody recorded, and a scenario a report cannot run: the report's own LEVELS, and a line saying so.
  writeTuneFixture(dir, [{ stack: 'ours', best: OURS }], 'mix');
  const unknown = readTune(dir, root);
  assert.equal(unknown.load, null);
  assert.match(unknown.loadNote!, /SCENARIO=mix, but neither tune.json nor its best run folder says which MIX/);
  writeTuneFixture(dir, [{ stack: 'ours', best: OURS }], 'rate');
  const rate = reportConfig({ TUNE: dir });
  assert.deepEqual([rate.levels, rate.mix], [[1, 4, 8], null]);
  assert.match(tuneMeta(rate.tune!, 'sweep LEVELS=1,4,8').notes[0]!, /^TUNE: the tuning measured SCENARIO=rate, which a report cannot run .*: the report runs sweep LEVELS=1,4,8$/);
});

test('TUNE refusals, one line each naming the cause and the fix; a stack with no feasible best is left out with a line', () => {
  const root = tmp();
  assert.throws(() => reportConfig({ TUNE: join(root, 'nowhere') }), /^ConfigError: TUNE=.*nowhere: no such folder .*: name a results\/tune\/<timestamp> folder written by make tune \(or TUNE=latest\), or run make tune first$/);
  mkdirSync(join(root, 'empty'));
  assert.throws(() => reportConfig({ TUNE: join(root, 'empty') }), /TUNE=.*empty has no tune\.json .*: name a results\/tune\/<timestamp> folder written by make tune/);
  assert.throws(() => reportConfig({ TUNE: 'latest', RESULTS_ROOT: root }), /TUNE=latest: no such folder \(.*tune\/latest\)/);
  writeFileSync(join(root, 'empty', 'tune.json'), '{"stacks": 1');
  assert.throws(() => reportConfig({ TUNE: join(root, 'empty') }), /tune\.json is not JSON/);
  const none = writeTuneFixture(join(root, 'none'), [{ stack: 'ours', best: null }, { stack: 'triton', best: null }]);
  assert.throws(() => reportConfig({ TUNE: none }), /^ConfigError: TUNE=.*none: no stack has a feasible best configuration in .*tune\.json \(ours: none feasible \(search exhausted\); triton: none feasible \(search exhausted\)\): loosen TUNE_SLO or TUNE_MEMORY_MB, or widen the search, and run make tune again$/);
  const half = writeTuneFixture(join(root, 'half'), [{ stack: 'ours', best: OURS }, { stack: 'triton', best: null }]);
  const q = readTune(half, root);
  assert.deepEqual(q.rows.map((r) => r.row), ['concurrent@tuned']);
  assert.deepEqual(q.notes, ['TUNE: triton has no feasible best configuration in this tune.json (search exhausted; its tune.txt says what each broke): its row is left out']);
  assert.throws(() => reportConfig({ TUNE: half, TARGET: 'http://127.0.0.1:8000' }), /TUNE=.* with TARGET=http:\/\/127\.0\.0\.1:8000: each tuned row is a server the report starts with the tuned knobs; drop TARGET/);
  assert.throws(() => reportConfig({ TUNE: half, REUSE: 'results/report/latest' }), /TUNE=.* with REUSE=results\/report\/latest: .*drop TUNE/);
});

test('reproduce lines of the tuned rows: their servers with the tuned knobs (make server / make triton), then make bench against them; SERVER=fresh puts the knobs on the bench line', () => {
  const root = tmp();
  const dir = writeTuneFixture(join(root, 't'), [{ stack: 'ours', best: OURS }, { stack: 'triton', best: TRITON }]);
  const cfg = reportConfig({ TUNE: dir, IMPL: 'baseline', DURATION: '2s', REPEATS: '1' });
  const rows = ['baseline', 'concurrent@tuned', 'triton-tuned'];
  const tuned = cfg.tune!.rows;
  const c = reproduceCommands(cfg, rows, schedule(rows, 1), { THREADS: '1', PARALLEL_WORKERS: '4', WARMUP: '2' }, join(process.cwd(), 'results/report/x'), [], tuned);
  assert.equal(c.report, `make report IMPL=baseline TUNE=${dir} LEVELS=8 DURATION=2s REPEATS=1 WARMUP=2 THREADS=1 PARALLEL_WORKERS=4`);
  const lines = c.runs.join('\n').split('\n');
  assert.ok(lines.includes('make server IMPL=baseline PORT=8000 THREADS=1 PARALLEL_WORKERS=4  # in another shell: one server for every run'), lines.join('\n'));
  // The tuned knobs win over the same knob set for the other rows (PARALLEL_WORKERS=4); the others the user set stay.
  const server = `make server THREADS=1 IMPL=concurrent PARALLEL_WORKERS=1 PARALLEL_THREADS=2 PORT=8001  # in another shell: the row concurrent@tuned (TUNE=${dir})`;
  const triton = `make triton TRITON_MODEL_SET=dynamic TRITON_INSTANCE_COUNT=1 TRITON_MAX_BATCH=4 TRITON_MAX_DELAY=2ms TRITON_PORT=8110 TRITON_METRICS_PORT=8112  # in another shell: the row triton-tuned (TUNE=${dir})`;
  assert.equal(lines.filter((l) => l === server).length, 2, 'accuracy pass and timed run');
  assert.equal(lines.filter((l) => l === triton).length, 2);
  assert.ok(lines.includes('make bench SCENARIO=sweep IMPL=concurrent LEVELS=8 DURATION=2s ACCURACY=0 TARGET=http://127.0.0.1:8001 WARMUP=2  # row concurrent@tuned'), lines.join('\n'));
  assert.ok(lines.includes('make bench SCENARIO=sweep IMPL=triton-tuned TARGET=http://127.0.0.1:8110 TARGET_METRICS=http://127.0.0.1:8112/metrics PROTOCOL=v2 V2_VERSION=1 LEVELS=8 DURATION=2s ACCURACY=0 V2_MODELS=d0,d1,d2 WARMUP=2'), lines.join('\n'));
  assert.ok(lines.includes('make bench SCENARIO=sweep IMPL=concurrent LEVELS=8 DURATION=5s ACCURACY=1 TARGET=http://127.0.0.1:8001 WARMUP=2  # row concurrent@tuned  # accuracy pass'), 'its accuracy pass: no other row measures concurrent');
  const fresh = reproduceCommands(reportConfig({ TUNE: dir, IMPL: 'baseline', SERVER: 'fresh', ACCURACY: '0' }), rows, schedule(rows, 1), { THREADS: '1' }, 'r', [], tuned);
  assert.ok(fresh.runs.includes(`make bench SCENARIO=sweep THREADS=1 PARALLEL_WORKERS=1 PARALLEL_THREADS=2 IMPL=concurrent LEVELS=8 DURATION=30s ACCURACY=0  # row concurrent@tuned (TUNE=${dir})`), fresh.runs.join('\n'));
  // Accuracy: one pass per implementation; the tuned row has its own only where no other row measures its implementation.
  assert.deepEqual(accuracyRows(rows, tuned), ['baseline', 'concurrent@tuned', 'triton-tuned']);
  assert.deepEqual(accuracyRows(['concurrent', 'concurrent@tuned'], tuned.slice(0, 1)), ['concurrent']);
});

test('a report with tuned rows: the tuned section names the tune folder and each row\'s knobs, and our tuned row over Triton\'s is paired by round', () => {
  const root = tmp();
  const dir = writeTuneFixture(join(root, 't'), [{ stack: 'ours', best: OURS }, { stack: 'triton', best: null }, { stack: 'triton', best: TRITON }]);
  const q = readTune(dir, root);
  const base = JSON.parse(readFileSync('test/fixtures/report/baseline.summary.json', 'utf8')) as Summary;
  // rps per round: ours tuned 6, 6.6, 6; Triton tuned 4, 4.4, 5 -> ratios 1.5, 1.5, 1.2.
  const figures: Record<string, number[]> = { 'concurrent@tuned': [6, 6.6, 6], 'triton-tuned': [4, 4.4, 5] };
  let n = 0;
  for (const round of [1, 2, 3]) {
    for (const row of Object.keys(figures)) {
      const run = join(root, 'runs', `2026-01-01T00-00-0${++n}Z-sweep-${row}`);
      mkdirSync(run, { recursive: true });
      const rps = figures[row]![round - 1]!;
      writeFileSync(join(run, 'summary.json'), JSON.stringify({ ...base, impls: [row.split('@')[0]], levels: [{ ...base.levels[0]!, impl: row.split('@')[0], level: '8', requests: rps * 2, rps, duration_s: 2 }] }));
      writeFileSync(join(run, ROLE_FILE), JSON.stringify({ role: 'timing', round, row }));
    }
  }
  const meta: ReportMeta = {
    created: '2026-01-01T00:01:00.000Z', mode: 'run',
    config: { impls: ['concurrent@tuned', 'triton-tuned'], levels: [8], duration: '2s', repeats: 3, server: 'shared', accuracy: false, reuse: [] },
    server: { mode: 'shared', statement: 'fixture' }, implementations: [],
    commands: { report: 'make report', reuse: 'make report REUSE=x', runs: [] }, calibration: null,
    tune: tuneMeta(q, 'sweep LEVELS=8'),
  };
  const report = buildReport(gatherRuns([join(root, 'runs')]), meta);
  const [ratio] = report.tuned_ratios!;
  assert.deepEqual([ratio!.impl, ratio!.over, ratio!.level, ratio!.rounds], ['concurrent@tuned', 'triton-tuned', 8, [1, 2, 3]]);
  assert.equal(ratio!.rps!.estimate.toFixed(3), Math.cbrt(1.5 * 1.5 * 1.2).toFixed(3));
  const md = reportMarkdown(report);
  assert.match(md, new RegExp(`## Tuned rows \\(make tune's best\\)\\n\\nFrom \`${dir}\` \\(make tune of 2026-12-07T06:00:00.000Z, SCENARIO=concurrency8\\); this report ran sweep LEVELS=8\\.`));
  assert.match(md, /\| concurrent@tuned \| ours +\| `IMPL=concurrent PARALLEL_WORKERS=1 PARALLEL_THREADS=2` +\| goodput req\/s 413 \[380, 441\] \|/);
  assert.match(md, /\| triton-tuned +\| triton \| `TRITON_MODEL_SET=dynamic TRITON_INSTANCE_COUNT=1 TRITON_MAX_BATCH=4 TRITON_MAX_DELAY=2ms` \|/);
  assert.match(md, /- TUNE: triton has no feasible best configuration in this tune\.json/);
  assert.match(md, /\*\*concurrent@tuned over triton-tuned\*\*, paired by round/);
  assert.match(md, /\| +8 \| 1\.\d+x \[[\d.]+, [\d.]+\] (faster|not distinguishable) \|/);
  assert.match(resultsTableText(report), /^concurrent@tuned over triton-tuned at level 8: req\/s 1\.\d+x \[[\d.]+, [\d.]+\] (faster|not distinguishable), p99 /m);
});

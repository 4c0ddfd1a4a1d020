// The report builder on fixture run folders made in a temp dir. The JSON comes from one real
// `make report` run (test/fixtures/report/, baseline and invalid, LEVELS=1 DURATION=2s); the
// figures are replaced with hand-chosen ones so medians, spreads and speedups can be checked by hand.
// A third implementation, `concurrent`, is the baseline's files renamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Summary } from '../../lib/summary.ts';
import type { AccuracyFile } from '../../tools/accuracy/replay.ts';
import { gatherRuns, ROLE_FILE } from '../../tools/report/gather.ts';
import { buildReport, type Report, type ReportMeta } from '../../tools/report/model.ts';
import { schedule } from '../../tools/report/plan.ts';
import { reportMarkdown, writeReport } from '../../tools/report/render.ts';
import { reproduceCommands } from '../../tools/report/run.ts';
import { reportConfig } from '../../tools/report/config.ts';
import { resultsTableText } from '../../tools/report/text.ts';

const FIXTURES = 'test/fixtures/report';
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

/** Hand-chosen figures: impl -> level -> one entry per round. */
const DATA: Record<string, Record<number, Figures[]>> = {
  baseline: {
    1: [{ rps: 2, p50: 500, p99: 800 }, { rps: 2.5, p50: 520, p99: 900 }, { rps: 2, p50: 510, p99: 1000 }],
    4: [{ rps: 4, p50: 900, p99: 1500 }, { rps: 4, p50: 950, p99: 1500 }, { rps: 5, p50: 920, p99: 1500 }],
  },
  concurrent: {
    1: [{ rps: 3, p50: 400, p99: 700 }, { rps: 3, p50: 410, p99: 600 }, { rps: 2.4, p50: 420, p99: 800 }],
    4: [{ rps: 6, p50: 700, p99: 2000 }, { rps: 8, p50: 720, p99: 2100 }, { rps: 5, p50: 710, p99: 2200 }],
  },
  invalid: {
    1: [{ rps: 60, p50: 5, p99: 15 }, { rps: 62, p50: 5.2, p99: 16 }, { rps: 64, p50: 5.1, p99: 14 }],
    4: [{ rps: 100, p50: 9, p99: 30 }, { rps: 100, p50: 9.5, p99: 31 }, { rps: 100, p50: 9.2, p99: 29 }],
  },
};
const IMPLS = ['baseline', 'concurrent', 'invalid'];
const LEVELS = [1, 4];
const DURATION_S = 2;

/** A run folder shaped like make bench's: summary.json, env.json and (round 1) accuracy.json. */
function writeRun(root: string, name: string, impl: string, round: number): string {
  const template = impl === 'invalid' ? 'invalid' : 'baseline';
  const summary = fixture<Summary>(`${template}.summary.json`);
  const row0 = summary.levels[0]!;
  summary.impls = [impl];
  summary.levels = LEVELS.map((level) => {
    const f = DATA[impl]![level]![round - 1]!;
    return { ...row0, impl, level: String(level), duration_s: DURATION_S, requests: f.rps * DURATION_S, rps: f.rps, images_per_s: f.rps, latency_ms: { ...row0.latency_ms!, p50: f.p50, p99: f.p99, min: f.p50 / 2, max: f.p99 + 10 } };
  });
  summary.postprocess = summary.postprocess.map((p) => ({ ...p, name: p.name.replace(template, impl) }));
  summary.thresholds = summary.thresholds.map((t) => ({ ...t, metric: t.metric.replace(`impl:${template}`, `impl:${impl}`) }));
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  writeFileSync(join(dir, 'env.json'), JSON.stringify({ ...fixture<object>(`${template}.env.json`), impls: [impl] }));
  const memory = fixture<{ after: { peak_mb: number } }>(`${template}.memory.json`);
  writeFileSync(join(dir, 'memory.json'), JSON.stringify({ ...memory, after: { ...memory.after, peak_mb: 1000 + round } }));
  if (round === 1) {
    const acc = fixture<AccuracyFile>(`${template}.accuracy.json`);
    const report = { ...acc.impls[template]!, impl };
    writeFileSync(join(dir, 'accuracy.json'), JSON.stringify({ version: acc.version, impls: { [impl]: report } }));
  }
  return dir;
}

/** Three interleaved rounds, as make report runs them; returns the runs folder. */
function fixtureRuns(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'report-fixture-')), 'runs');
  for (const item of schedule(IMPLS, 3)) writeRun(root, `2026-01-01T00-00-${String(item.index).padStart(2, '0')}Z-sweep-${item.impl}`, item.impl, item.round);
  symlinkSync('2026-01-01T00-00-09Z-sweep-' + schedule(IMPLS, 3)[8]!.impl, join(root, 'latest'));
  // A run of another kind is skipped, not mixed in.
  const smoke = writeRun(root, '2026-01-01T00-00-10Z-smoke-baseline', 'baseline', 2);
  const s = JSON.parse(readFileSync(join(smoke, 'summary.json'), 'utf8')) as Summary;
  writeFileSync(join(smoke, 'summary.json'), JSON.stringify({ ...s, scenario: 'smoke', kind: 'smoke' }));
  return root;
}

function meta(over: Partial<ReportMeta['config']> = {}): ReportMeta {
  return {
    created: '2026-01-01T00:01:00.000Z',
    mode: 'run',
    config: { impls: [], levels: LEVELS, duration: '2s', repeats: 3, server: 'shared', accuracy: true, reuse: [], ...over },
    server: { mode: 'shared', statement: 'one server for the whole session (fixture).' },
    implementations: IMPLS.map((name) => ({ name, description: `${name} (fixture)`, lossless: name !== 'invalid' })),
    commands: { report: 'make report IMPL=baseline,concurrent,invalid LEVELS=1,4 DURATION=2s REPEATS=3', reuse: 'make report REUSE=runs', runs: ['make bench SCENARIO=sweep IMPL=baseline LEVELS=1,4 DURATION=2s'] },
    calibration: { version: 1, created: '2026-01-01T00:00:00.000Z', host: { cpu: 'x', cores: 2, ep: 'cpu' }, duration_s: 30, levels: { '1': { baseline: { p50_ms: 510, p99_ms: 950, rps: 2.1, requests: 63 } } } },
  };
}

function build(over: Partial<ReportMeta['config']> = {}): { report: Report; notes: string[] } {
  const notes: string[] = [];
  const runs = gatherRuns([fixtureRuns()], (l) => notes.push(l));
  return { report: buildReport(runs, meta(over)), notes };
}

test('gathering: every sweep run once (the latest link is not a second run), other scenarios skipped', () => {
  const { report, notes } = build();
  assert.equal(report.runs.length, 9);
  assert.ok(notes.some((n) => /skipping .*smoke-baseline: scenario smoke/.test(n)), notes.join('\n'));
  assert.deepEqual(report.impls, IMPLS);
  assert.deepEqual(report.levels, LEVELS);
  // Round k of an implementation is its k-th run, oldest first.
  assert.deepEqual(report.runs.filter((r) => r.impls[0] === 'baseline').map((r) => r.round), [1, 2, 3]);
});

test('per implementation and level: medians over rounds, min of mins, max of maxes', () => {
  const { report } = build();
  const row = (impl: string, level: number) => report.results.find((r) => r.impl === impl && r.level === level)!;
  assert.deepEqual(row('baseline', 1).rps, { n: 3, median: 2, min: 2, max: 2.5, q1: 2, q3: 2.25, values: [2, 2.5, 2] });
  assert.equal(row('baseline', 1).p99_ms.median, 900);
  assert.equal(row('baseline', 1).p50_ms.median, 510);
  assert.equal(row('baseline', 1).min_ms, 250);
  assert.equal(row('baseline', 1).max_ms, 1010);
  assert.equal(row('baseline', 1).requests, (2 + 2.5 + 2) * DURATION_S);
  assert.equal(row('concurrent', 4).rps.median, 6);
  assert.equal(row('invalid', 4).p99_ms.median, 30);
});

test("speedups: paired per round over the baseline, median with spread, and each ratio's 95 % interval", () => {
  const { report } = build();
  const sp = (impl: string, level: number) => report.speedups.find((s) => s.impl === impl && s.level === level)!;
  assert.deepEqual(report.comparisons, { reference: 'baseline', confidence: 0.95, method: report.comparisons.method });
  assert.match(report.comparisons.method, /from 6 rounds the median ratio's distribution-free interval \(order statistics\), from 3 to 5 the geometric mean's Student t interval/);
  // concurrent/baseline at level 1: 3/2, 3/2.5, 2.4/2 = 1.5, 1.2, 1.2
  const c1 = sp('concurrent', 1);
  assert.equal(c1.over, 'baseline');
  assert.deepEqual([c1.rps!.n, c1.rps!.median, c1.rps!.min, c1.rps!.max, c1.rps!.values], [3, 1.2, 1.2, 1.5, [1.5, 1.2, 1.2]]);
  // Three rounds: the geometric mean (2.16^(1/3)) with t(0.975, 2) on the log ratios: [0.939, 1.78], 1 inside.
  assert.equal(c1.rps!.method, 't-log');
  assert.ok(Math.abs(c1.rps!.estimate - Math.cbrt(2.16)) < 1e-5);
  assert.deepEqual([+c1.rps!.lower!.toFixed(3), +c1.rps!.upper!.toFixed(3), c1.rps!.verdict], [0.939, 1.78, 'not distinguishable']);
  // level 4: 6/4, 8/4, 5/5 = 1.5, 2, 1
  assert.deepEqual([sp('concurrent', 4).rps!.median, sp('concurrent', 4).rps!.min, sp('concurrent', 4).rps!.max], [1.5, 1, 2]);
  // p99 level 1: 700/800, 600/900, 800/1000 = 0.875, 0.667, 0.8; p50 410/520 ... below 1 = faster.
  assert.equal(sp('concurrent', 1).p99!.median, 0.8);
  assert.equal(sp('concurrent', 1).p50!.verdict, 'faster'); // 400/500, 410/520, 420/510: 0.80, 0.79, 0.82
  assert.deepEqual(sp('concurrent', 1).rounds, [1, 2, 3]);
  // invalid level 1: 60/2, 62/2.5, 64/2 = 30, 24.8, 32: faster, beyond doubt.
  assert.equal(sp('invalid', 1).rps!.median, 30);
  assert.equal(sp('invalid', 1).rps!.verdict, 'faster');
  assert.equal(sp('invalid', 1).p99!.verdict, 'faster');
  // The reference has no ratio over itself.
  assert.equal(report.speedups.find((s) => s.impl === 'baseline'), undefined);
});

test('bounds: baseline upper, invalid lower, each implementation checked against them', () => {
  const { report } = build();
  const l1 = report.bounds.levels.find((l) => l.level === 1)!;
  assert.deepEqual(l1.upper, { rps: 2, p50_ms: 510, p99_ms: 900 });
  assert.deepEqual(l1.lower, { rps: 62, p50_ms: 5.1, p99_ms: 15 });
  assert.equal(l1.calibration?.baseline?.p99_ms, 950);
  const check = (level: number) => report.bounds.checks.find((c) => c.impl === 'concurrent' && c.level === level)!;
  assert.deepEqual(check(1), { impl: 'concurrent', level: 1, rps_at_least_baseline: true, p99_at_most_baseline: true, p50_at_least_stub: true });
  assert.equal(check(4).p99_at_most_baseline, false); // 2100 > 1500
  assert.ok(!report.bounds.checks.some((c) => c.impl === 'baseline' || c.impl === 'invalid'));
});

test('accuracy and environment come from the runs', () => {
  const { report } = build();
  assert.deepEqual(report.accuracy.map((a) => [a.impl, a.passed, a.lossless]), [['baseline', true, true], ['concurrent', true, true], ['invalid', false, false]]);
  const base = report.accuracy[0]!;
  assert.equal(base.boxes_mse, 0);
  assert.ok(base.matched > 0 && base.matched === base.reference_detections);
  assert.ok(report.accuracy[2]!.failed_gates.includes('d0 boxes_mse'));
  // k6's in-run output checks of those runs: the stub's empty answers fail output_match.
  assert.deepEqual(report.accuracy.map((a) => a.in_run?.ok), [true, true, false]);
  assert.ok(report.accuracy[2]!.in_run!.failed.some((f) => f.startsWith('output_match{impl:invalid}')));
  assert.equal((report.environment.env as { node?: string }).node, fixture<{ node: string }>('baseline.env.json').node);
  assert.deepEqual(report.environment.differences, []);
});

test('IMPL and LEVELS narrow a gathered report', () => {
  const { report } = build({ impls: ['baseline', 'concurrent'], levels: [4] });
  assert.deepEqual(report.impls, ['baseline', 'concurrent']);
  assert.deepEqual(report.levels, [4]);
  assert.deepEqual([...new Set(report.results.map((r) => r.impl))], ['baseline', 'concurrent']);
  assert.ok(report.results.every((r) => r.level === 4));
});

/** Tags open and close in order: a cheap well-formedness check besides librsvg's parse. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `closing </${name}> at ${m.index}`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
}

test('writeReport: report.md with the tables, report.json that parses, three valid SVG charts', async () => {
  const { report } = build();
  const dir = mkdtempSync(join(tmpdir(), 'report-out-'));
  const written = await writeReport(dir, report);
  assert.equal(written.length, 5);

  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  assert.equal(json.version, 1);
  assert.deepEqual(json.charts.map((c) => c.file), ['rps.svg', 'p99.svg', 'speedup.svg']);
  assert.deepEqual(json.speedups, report.speedups);

  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const heading of ['## Charts', '## Requests/s and latency per implementation and level', '## Speedup over the baseline', '## Bounds', '## Accuracy', '## Environment', '## Runs', '## Reproduce']) assert.ok(md.includes(heading), heading);
  assert.ok(md.includes('| implementation | concurrency | rounds | requests | req/s median (min-max) | p50 ms | p99 ms | min ms | max ms | speedup (req/s over baseline, 95 % interval) |'));
  assert.ok(md.includes('| baseline | 1 | 3 | 13 | 2.00 (2.00-2.50) | 510.0 (500.0-520.0) | 900.0 (800.0-1000.0) | 250.0 | 1010.0 | 1 (reference) |'), md);
  assert.ok(md.includes('| concurrent | 1 | 3 | 16.8 | 3.00 (2.40-3.00) | 410.0 (400.0-420.0) | 700.0 (600.0-800.0) | 200.0 | 810.0 | 1.29x [0.93, 1.79] not distinguishable |'), md);
  // Every ratio with its interval and its verdict; the digits follow the interval.
  assert.ok(md.includes('| implementation | concurrency | req/s over baseline | p50 over baseline (< 1 = faster) | p99 over baseline (< 1 = faster) | rounds paired |'), md);
  assert.ok(md.includes('| concurrent | 1 | 1.29x [0.93, 1.79] not distinguishable | 0.804x [0.760, 0.850] faster | 0.78x [0.54, 1.10] not distinguishable | 1, 2, 3 |'), md);
  assert.ok(md.includes('| concurrent | 4 | 1.4x [0.6, 3.5] not distinguishable | 0.769x [0.744, 0.795] faster | 1.40x [1.24, 1.58] slower | 1, 2, 3 |'), md);
  assert.ok(md.includes('Of 12 ratios: 8 faster, 1 slower, 3 not distinguishable.'), md);
  assert.match(md, /Each row over \*\*baseline\*\*: ratios are paired per round; \[lower, upper\] is a 95 % interval over the rounds/);
  // No summary here carries latency intervals: no interval columns.
  assert.ok(!md.includes("rounds' 95 % intervals"));
  assert.match(md, /\| concurrent \| 4 \| yes \| \*\*no\*\* \| yes \|/);
  assert.match(md, /\| invalid \| lossy \| \*\*FAILED\*\* \| \*\*FAILED\*\* \| 2 \| 600 \| 0 \| 600 \|/);
  assert.match(md, /\| baseline \| lossless \| passed \| passed \| 2 \| 600 \| 600 \| 0 \| 0 \| 0 \| 1 \| 1 \|/);
  assert.match(md, /\| execution provider \| cpu \|/);
  assert.match(md, /_4 of 6 rows rest on fewer than 100 requests per round: their p99 is close to their max/);
  assert.match(md, /\| 1 \| baseline \| 1 \| - \| ok \| accuracy baseline: ok \| 1001 \(host\) \| `2026-01-01T00-00-01Z-sweep-baseline` \|/);
  assert.ok(md.includes('make report IMPL=baseline,concurrent,invalid LEVELS=1,4 DURATION=2s REPEATS=3'));
  assert.ok(md.includes('![Requests/s against concurrency (median of 3 rounds, whiskers min-max)](rps.svg)'));

  for (const file of ['rps.svg', 'p99.svg', 'speedup.svg']) {
    const buf = readFileSync(join(dir, file));
    const meta = await sharp(buf).metadata(); // librsvg: fails on malformed XML
    assert.equal(meta.format, 'svg', file);
    const svg = buf.toString('utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assertBalanced(svg);
    for (const mark of ['mark-line role-mark', 'mark-symbol role-mark', 'mark-rule role-mark whisker']) assert.ok(svg.includes(mark), `${file}: ${mark}`);
    assert.ok(svg.includes('>concurrent<'), `${file} names concurrent`);
  }
  const points = (svg: string) => /class="mark-symbol role-mark point"[^>]*>(.*?)<\/g>/.exec(svg)![1]!.match(/<path/g)!.length;
  const rps = readFileSync(join(dir, 'rps.svg'), 'utf8');
  assert.equal(points(rps), IMPLS.length * LEVELS.length);
  assert.ok(rps.includes('>baseline<') && rps.includes('>invalid<'));
  const speedup = readFileSync(join(dir, 'speedup.svg'), 'utf8');
  // The stub's 30x would flatten the chart; the baseline is the dashed line at 1.
  assert.equal(points(speedup), LEVELS.length);
  assert.ok(!speedup.includes('>invalid<'));
  assert.ok(speedup.includes('mark-rule role-mark reference'));
});

test('reproduce commands: the report, the accuracy pass, then one timed make bench per run in order', () => {
  const cfg = reportConfig({ IMPL: 'baseline,invalid', LEVELS: '1,4', DURATION: '2s', REPEATS: '2' });
  const c = reproduceCommands(cfg, ['baseline', 'invalid'], schedule(['baseline', 'invalid'], 2), { WARMUP: '2', THREADS: '1' }, join(process.cwd(), 'results/report/x'));
  assert.equal(c.report, 'make report IMPL=baseline,invalid LEVELS=1,4 DURATION=2s REPEATS=2 WARMUP=2 THREADS=1');
  assert.equal(c.reuse, 'make report REUSE=results/report/x');
  assert.match(c.runs[0]!, /^make server IMPL=baseline,invalid PORT=8000 THREADS=1 /);
  const accuracy = c.runs.slice(1, 3);
  assert.deepEqual(accuracy.map((l) => /IMPL=(\w+)/.exec(l)![1]), ['baseline', 'invalid']);
  assert.ok(accuracy.every((l) => l.includes('LEVELS=4 DURATION=5s') && l.includes('ACCURACY=1') && l.endsWith('# accuracy pass')), accuracy.join('\n'));
  const timed = c.runs.slice(3);
  assert.deepEqual(timed.map((l) => /IMPL=(\w+)/.exec(l)![1]), ['baseline', 'invalid', 'invalid', 'baseline']);
  assert.ok(timed.every((l) => l.includes('LEVELS=1,4 DURATION=2s') && l.includes('ACCURACY=0') && l.includes('TARGET=http://127.0.0.1:8000') && l.includes('WARMUP=2') && !l.includes('THREADS')), timed.join('\n'));
  assert.deepEqual(reproduceCommands(reportConfig({ ACCURACY: '0' }), ['baseline'], schedule(['baseline'], 1), {}, 'r').runs.length, 2);
});

test('an accuracy-pass run gives accuracy and in-run verdicts but never timings', () => {
  const root = fixtureRuns();
  // A later accuracy pass of concurrent whose figures would wreck the medians if they were used.
  const dir = writeRun(root, '2026-01-01T00-01-00Z-sweep-concurrent', 'concurrent', 1);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  s.levels = s.levels.map((l) => ({ ...l, rps: 1000, requests: 2000 }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
  writeFileSync(join(dir, ROLE_FILE), JSON.stringify({ role: 'accuracy' }));
  const report = buildReport(gatherRuns([root]), meta());
  assert.equal(report.runs.length, 9);
  assert.equal(report.results.find((r) => r.impl === 'concurrent' && r.level === 1)!.rps.median, 3);
  assert.equal(report.accuracy.find((a) => a.impl === 'concurrent')!.run, '2026-01-01T00-01-00Z-sweep-concurrent');
});

test('report.md quotes the latest make harness table, or says how to get one', () => {
  const runs = gatherRuns([fixtureRuns()], () => {});
  const quoted = reportMarkdown(buildReport(runs, { ...meta(), harness: { file: '/r/harness/2026/harness.txt', text: '| invalid | 1 | 160.0 | 4.50 |\n' } }));
  assert.match(quoted, /## The harness itself\n\nWhat the load generator costs on this host, from the latest `make harness` \(\/r\/harness\/2026\/harness\.txt\)/);
  assert.match(quoted, /\| invalid \| 1 \| 160\.0 \| 4\.50 \|/);
  assert.match(reportMarkdown(buildReport(runs, meta())), /No `make harness` run found/);
});

/** A timed run of `invalid` that make report ran as the row `row` (report-role.json names it), one level. */
function writeRowRun(root: string, name: string, row: string, round: number, f: Figures, intervals?: { n: number; p50: [number, number]; p99: [number | null, number | null] }): void {
  const summary = fixture<Summary>('invalid.summary.json');
  const row0 = summary.levels[0]!;
  const latency = { ...row0.latency_ms!, p50: f.p50, p99: f.p99, ...(intervals ? { n: intervals.n, intervals: { p50: { lower: intervals.p50[0], upper: intervals.p50[1], confidence: 0.95 }, p99: { lower: intervals.p99[0], upper: intervals.p99[1], confidence: 0.95 } } } : {}) };
  summary.levels = [{ ...row0, impl: 'invalid', level: '1', duration_s: DURATION_S, requests: f.rps * DURATION_S, rps: f.rps, latency_ms: latency }];
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  writeFileSync(join(dir, ROLE_FILE), JSON.stringify({ role: 'timing', round, row }));
}

test('labelled rows (IMPL=invalid@a,invalid@b): one implementation, two rows, their ratio not distinguishable', () => {
  const root = join(mkdtempSync(join(tmpdir(), 'report-labels-')), 'runs');
  // Six rounds of the same implementation under two labels, round-to-round noise only.
  const a = [400, 420, 380, 410, 395, 405];
  const b = [410, 400, 390, 405, 400, 398];
  for (const item of schedule(['invalid@a', 'invalid@b'], 6)) {
    const rps = (item.impl === 'invalid@a' ? a : b)[item.round - 1]!;
    writeRowRun(root, `2026-01-01T00-00-${String(item.index).padStart(2, '0')}Z-sweep-invalid`, item.impl, item.round, { rps, p50: 1000 / rps, p99: 4000 / rps });
  }
  const report = buildReport(gatherRuns([root]), { ...meta({ impls: ['invalid@a', 'invalid@b'], levels: [1], repeats: 6 }), implementations: [] });
  assert.deepEqual(report.impls, ['invalid@a', 'invalid@b']);
  assert.deepEqual(report.results.map((r) => [r.impl, r.rounds, r.rps.median]), [['invalid@a', 6, 402.5], ['invalid@b', 6, 400]]);
  // The first row is the reference when no row measures the baseline.
  assert.equal(report.comparisons.reference, 'invalid@a');
  const sp = report.speedups;
  assert.equal(sp.length, 1);
  assert.deepEqual([sp[0]!.impl, sp[0]!.over, sp[0]!.rounds], ['invalid@b', 'invalid@a', [1, 2, 3, 4, 5, 6]]);
  // Six rounds: the median ratio between the 1st and 6th of the sorted per-round ratios.
  const ratios = b.map((x, i) => x / a[i]!).sort((x, y) => x - y);
  assert.deepEqual([sp[0]!.rps!.method, sp[0]!.rps!.lower, sp[0]!.rps!.upper, sp[0]!.rps!.verdict], ['order-statistics', +ratios[0]!.toPrecision(6), +ratios[5]!.toPrecision(6), 'not distinguishable']);
  for (const k of ['p50', 'p99'] as const) assert.equal(sp[0]![k]!.verdict, 'not distinguishable');
  // The runs table and the Runs section name the rows; the bench ran the implementation.
  assert.deepEqual(report.runs.map((r) => r.impls[0]), ['invalid@a', 'invalid@b', 'invalid@b', 'invalid@a', 'invalid@a', 'invalid@b', 'invalid@b', 'invalid@a', 'invalid@a', 'invalid@b', 'invalid@b', 'invalid@a']);
  const md = reportMarkdown(report);
  assert.match(md, /## Speedup over invalid@a\n\nEach row over \*\*invalid@a\*\* \(the first row of IMPL: baseline was not measured\)/);
  assert.match(md, /\| invalid@b \| 1 \| 1\.0\d*x \[0\.9\d*, 1\.0\d*\] not distinguishable \|/);
  assert.match(md, /Of 3 ratios: 0 faster, 0 slower, 3 not distinguishable\./);
  const text = resultsTableText(report);
  assert.match(text, /^impl +level +rounds +req\/s +p50 ms +p99 ms +req\/s over invalid@a \(95 % interval\)$/m);
  assert.match(text, /^invalid@a +1 +6 +402\.50 .* reference$/m);
  assert.match(text, /^invalid@b +1 +6 +400\.00 .* 1\.0\d*x \[0\.9\d*, 1\.0\d*\] not distinguishable$/m);
  assert.match(text, /^ratios over 6 paired rounds, 95 % intervals: the median ratio's distribution-free interval \(order statistics\); "not distinguishable": the interval includes 1\./m);
});

test("per-level table: the rounds' own p50 and p99 intervals, and what a round too short for a p99 bound lacks", () => {
  const root = join(mkdtempSync(join(tmpdir(), 'report-intervals-')), 'runs');
  writeRowRun(root, '2026-01-01T00-00-01Z-sweep-invalid', 'invalid', 1, { rps: 400, p50: 2, p99: 9 }, { n: 800, p50: [1.93, 2.07], p99: [7.85, 28.7] });
  writeRowRun(root, '2026-01-01T00-00-02Z-sweep-invalid', 'invalid', 2, { rps: 420, p50: 1.9, p99: 8 }, { n: 840, p50: [1.86, 2.11], p99: [7.1, 19.2] });
  writeRowRun(root, '2026-01-01T00-00-03Z-sweep-invalid', 'baseline', 1, { rps: 2, p50: 500, p99: 800 }, { n: 60, p50: [480, 530], p99: [700, null] });
  const report = buildReport(gatherRuns([root]), { ...meta({ impls: [], levels: [1] }), implementations: [] });
  const inv = report.results.find((r) => r.impl === 'invalid')!;
  assert.deepEqual(inv.latency_intervals!.p50, { rounds: 2, n_min: 800, lower: 1.86, upper: 2.11, confidence: 0.95, per_round: [{ round: 1, n: 800, lower: 1.93, upper: 2.07 }, { round: 2, n: 840, lower: 1.86, upper: 2.11 }] });
  assert.deepEqual([inv.latency_intervals!.p99!.lower, inv.latency_intervals!.p99!.upper], [7.1, 28.7]);
  const base = report.results.find((r) => r.impl === 'baseline')!;
  assert.equal(base.latency_intervals!.p99!.upper, null);
  const md = reportMarkdown(report);
  assert.ok(md.includes("| p50 ms, rounds' 95 % intervals | p99 ms, rounds' 95 % intervals |"), md);
  assert.ok(md.includes('| [1.86, 2.11] | [7.10, 28.7] |'), md);
  // 60 requests cannot bound a p99 from above (368 needed for a 95 % interval).
  assert.ok(md.includes('| [480, 530] | >= 700 (no upper bound: 60 requests in a round, 368 needed) |'), md);
  assert.match(md, /every round's interval lies within the range shown/);
});

test('reproduce commands of labelled rows: one server and one accuracy pass per implementation, each run a bench of it', () => {
  const cfg = reportConfig({ IMPL: 'invalid@a,invalid@b', LEVELS: '1', DURATION: '2s', REPEATS: '2' });
  const c = reproduceCommands(cfg, ['invalid@a', 'invalid@b'], schedule(['invalid@a', 'invalid@b'], 2), {}, 'r');
  assert.match(c.report, /^make report IMPL=invalid@a,invalid@b LEVELS=1 DURATION=2s REPEATS=2/);
  assert.match(c.runs[0]!, /^make server IMPL=invalid PORT=8000 /);
  assert.equal(c.runs.filter((l) => l.endsWith('# accuracy pass')).length, 1);
  const timed = c.runs.filter((l) => l.includes('ACCURACY=0'));
  assert.deepEqual(timed.map((l) => [/IMPL=(\S+)/.exec(l)![1], /# row (\S+)$/.exec(l)![1]]), [['invalid', 'invalid@a'], ['invalid', 'invalid@b'], ['invalid', 'invalid@b'], ['invalid', 'invalid@a']]);
});

test('goodput: a good/s column beside req/s and a goodput chart against offered load when the runs carry it', async () => {
  const root = fixtureRuns();
  // Half of each round's accepted answers were good.
  for (const name of readdirSync(root).filter((n) => n !== 'latest')) {
    const file = join(root, name, 'summary.json');
    const s = JSON.parse(readFileSync(file, 'utf8')) as Summary;
    s.levels = s.levels.map((l) => ({ ...l, good: l.requests / 2, goodput_rps: l.rps / 2, good_ratio: 0.5, outputs_judged: true }));
    writeFileSync(file, JSON.stringify(s));
  }
  const report = buildReport(gatherRuns([root], () => {}), meta());
  const g = report.results.find((x) => x.impl === 'baseline' && x.level === 1)!.goodput_rps!;
  assert.deepEqual([g.median, g.min, g.max, g.n], [1, 1, 1.25, 3]);
  const dir = mkdtempSync(join(tmpdir(), 'report-out-'));
  await writeReport(dir, report);
  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  assert.deepEqual(json.charts.map((c) => c.file), ['rps.svg', 'p99.svg', 'goodput.svg', 'speedup.svg']);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.ok(md.includes('| implementation | concurrency | rounds | requests | req/s median (min-max) | good/s median (min-max) | p50 ms |'), md);
  assert.ok(md.includes('| baseline | 1 | 3 | 13 | 2.00 (2.00-2.50) | 1.00 (1.00-1.25) | 510.0 (500.0-520.0) |'), md);
  assert.match(md, /_good\/s: goodput, the answers accepted, on time/);
  assert.match(resultsTableText(report), /^impl\s+level\s+rounds\s+req\/s\s+good\/s\s+p50 ms/m);
  assert.match(resultsTableText(report), /^baseline\s+1\s+3\s+2\.00\s+1\.00\s/m);
  const svg = readFileSync(join(dir, 'goodput.svg'), 'utf8');
  assert.equal((await sharp(Buffer.from(svg)).metadata()).format, 'svg');
  assertBalanced(svg);
  assert.equal(/class="mark-symbol role-mark point"[^>]*>(.*?)<\/g>/.exec(svg)![1]!.match(/<path/g)!.length, IMPLS.length * LEVELS.length);
  assert.ok(svg.includes('good answers/s') && svg.includes('concurrency (VUs, closed loop)'));
});

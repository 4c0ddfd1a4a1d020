// make report MIX=...: the report of a traffic mix, built from fixture run folders. The JSON comes from
// one real mix run (test/fixtures/report/mix.*.json: invalid, MIX=d0:4,d2:1, 3 s); each model's row
// gets hand-chosen figures so the per-model columns, the ratios over the first row and the losses can
// be checked by hand. Also the mix's knobs: what they refuse, and the reproduce lines they give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { reportConfig } from '../../tools/report/config.ts';
import { gatherRuns, ROLE_FILE } from '../../tools/report/gather.ts';
import { buildReport, type Report, type ReportMeta } from '../../tools/report/model.ts';
import type { PeerRow } from '../../tools/report/peers.ts';
import { schedule } from '../../tools/report/plan.ts';
import { reportMarkdown, writeReport } from '../../tools/report/render.ts';
import { reproduceCommands } from '../../tools/report/run.ts';
import { resultsTableText } from '../../tools/report/text.ts';

const FIXTURES = 'test/fixtures/report';
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  refused?: number;
  missed?: number;
}

/** Row -> model -> one entry per round. triton-instances is about half of concurrent's latency on
 * d0 and about twice on d2. */
const DATA: Record<string, Record<string, Figures[]>> = {
  concurrent: {
    d0: [{ rps: 4, p50: 100, p99: 200, refused: 1 }, { rps: 4, p50: 110, p99: 220 }, { rps: 3.9, p50: 105, p99: 210, missed: 0.02 }],
    d2: [{ rps: 1, p50: 500, p99: 900 }, { rps: 1, p50: 520, p99: 950 }, { rps: 1, p50: 510, p99: 1000 }],
  },
  'triton-instances': {
    d0: [{ rps: 4, p50: 50, p99: 100 }, { rps: 4, p50: 57, p99: 108 }, { rps: 4, p50: 50, p99: 107 }],
    d2: [{ rps: 1, p50: 1000, p99: 1800 }, { rps: 1, p50: 1050, p99: 1950 }, { rps: 1, p50: 1000, p99: 1980 }],
  },
};
const ROWS = Object.keys(DATA);
const DURATION_S = 10;

/** A timed mix run of `row` as make report writes it: summary.json (a row per model), env.json
 * (the bench's knobs: MIX, MIX_LOOP) and report-role.json. */
function writeMixRun(root: string, name: string, row: string, round: number, o: { mix?: string; loop?: 'open' | 'closed' } = {}): string {
  const summary = fixture<Summary>('mix.summary.json');
  const loop = o.loop ?? 'open';
  const offered: Record<string, number> = Object.fromEntries((o.mix ?? 'd0:4,d2:1').split(',').map((p) => [p.split(':')[0]!, Number(p.split(':')[1])]));
  const template = summary.levels[0]!;
  summary.impls = [row];
  summary.unit = loop === 'open' ? 'rps' : 'vus';
  summary.levels = Object.entries(DATA[row]!).map(([model, rounds]) => {
    const f = rounds[round - 1]!;
    const requests = f.rps * DURATION_S;
    const latency = { ...template.latency_ms!, p50: f.p50, p99: f.p99, min: f.p50 / 2, max: f.p99 + 10, n: requests, intervals: { p50: { lower: f.p50 * 0.9, upper: f.p50 * 1.1, confidence: 0.95 }, p99: { lower: f.p99 * 0.8, upper: null, confidence: 0.95 } } };
    const open = loop === 'open' ? { scheduled: offered[model]! * DURATION_S, missed_ratio: f.missed ?? 0 } : { scheduled: undefined, missed_ratio: undefined, dropped: undefined, late: undefined };
    return { ...template, impl: row, level: model, duration_s: DURATION_S, requests, rps: f.rps, refused: f.refused ?? 0, failed: 0, images_per_s: f.rps, goodput_rps: f.rps, latency_ms: latency, ...open };
  });
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  const env = fixture<{ knobs: Record<string, string> }>('mix.env.json');
  writeFileSync(join(dir, 'env.json'), JSON.stringify({ ...env, impls: [row], knobs: { ...env.knobs, IMPL: row, MIX: o.mix ?? 'd0:4,d2:1', MIX_LOOP: loop } }));
  writeFileSync(join(dir, ROLE_FILE), JSON.stringify({ role: 'timing', round, row }));
  return dir;
}

function mixRuns(o: { mix?: string; loop?: 'open' | 'closed' } = {}): string {
  const root = join(mkdtempSync(join(tmpdir(), 'report-mix-')), 'runs');
  for (const item of schedule(ROWS, 3)) writeMixRun(root, `2026-01-01T00-00-${String(item.index).padStart(2, '0')}Z-mix-${item.impl}`, item.impl, item.round, o);
  return root;
}

function meta(over: Partial<ReportMeta['config']> = {}): ReportMeta {
  return {
    created: '2026-01-01T00:01:00.000Z',
    mode: 'run',
    config: { impls: ROWS, levels: [], duration: '10s', repeats: 3, server: 'shared', accuracy: false, reuse: [], mix: { streams: [{ model: 'd0', value: 4 }, { model: 'd2', value: 1 }], loop: 'open' }, ...over },
    server: { mode: 'shared', statement: 'one server for the whole session (fixture).' },
    implementations: [],
    commands: { report: 'make report IMPL=concurrent PEERS=triton MIX=d0:4,d2:1 MIX_LOOP=open DURATION=10s REPEATS=3', reuse: 'make report REUSE=runs', runs: [] },
    calibration: null,
  };
}

const mixReport = (over: Partial<ReportMeta['config']> = {}, o: { mix?: string; loop?: 'open' | 'closed' } = {}): Report => buildReport(gatherRuns([mixRuns(o)]), meta(over));

test('a mix report: a column per model in MIX order, each row per model over its rounds with what was offered and lost', () => {
  const r = mixReport();
  assert.deepEqual(r.levels, ['d0', 'd2']);
  assert.deepEqual(r.mix, { streams: [{ model: 'd0', value: 4 }, { model: 'd2', value: 1 }], loop: 'open' });
  assert.deepEqual(r.impls, ROWS);
  assert.deepEqual(r.results.map((x) => [x.impl, x.level, x.rounds]), [['concurrent', 'd0', 3], ['concurrent', 'd2', 3], ['triton-instances', 'd0', 3], ['triton-instances', 'd2', 3]]);
  const c0 = r.results.find((x) => x.impl === 'concurrent' && x.level === 'd0')!;
  assert.deepEqual([c0.rps.median, c0.rps.min, c0.p50_ms.median, c0.p99_ms.median, c0.requests], [4, 3.9, 105, 210, 119]);
  // One refused request in 120 sent over the rounds; the missed share per round, its median 0.
  assert.deepEqual({ ...c0.stream!, missed_ratio: c0.stream!.missed_ratio!.values }, { offered: 4, offered_unit: 'req/s', refused: 1, failed: 0, lost_ratio: 0.0083, missed_ratio: [0, 0, 0.02] });
  assert.deepEqual([c0.latency_intervals!.p50!.n_min, c0.latency_intervals!.p50!.lower, c0.latency_intervals!.p99!.upper], [39, 90, null]);
  assert.equal(r.results.find((x) => x.impl === 'triton-instances' && x.level === 'd2')!.stream!.offered, 1);
  // Ratios over the first row, per model, paired per round.
  assert.equal(r.comparisons.reference, 'concurrent');
  const sp = (level: string) => r.speedups.find((s) => s.impl === 'triton-instances' && s.level === level)!;
  assert.deepEqual([sp('d0').p50!.verdict, sp('d0').p99!.verdict, sp('d2').p50!.verdict, sp('d2').p99!.verdict], ['faster', 'faster', 'slower', 'slower']);
  assert.deepEqual(sp('d0').rounds, [1, 2, 3]);
  assert.deepEqual(r.bounds.levels.map((b) => b.level), ['d0', 'd2']);
  assert.deepEqual(r.runs[0]!.levels, ['d0', 'd2']);
});

test("report.md of a mix: one table per figure, rows = implementation, columns = model; the ratios' tables; the long table per model", () => {
  const md = reportMarkdown(mixReport());
  assert.match(md, /Traffic mix MIX=d0:4,d2:1 \(open loop, every model's stream at once\), measured for 10s per run/);
  assert.match(md, /each round ran one mix run per implementation/);
  const tableAfter = (caption: string) => {
    const at = md.indexOf(`**${caption}**`);
    assert.ok(at >= 0, `${caption}\n${md}`);
    return md.slice(at).split('\n').slice(2, 6).join('\n');
  };
  assert.equal(tableAfter('Accepted req/s of offered req/s'), ['| implementation | d0 | d2 |', '| --- | ---: | ---: |', '| concurrent | 4.00 (3.90-4.00) of 4 | 1.00 (1.00-1.00) of 1 |', '| triton-instances | 4.00 (4.00-4.00) of 4 | 1.00 (1.00-1.00) of 1 |'].join('\n'));
  // The median over rounds, the rounds' 95 % intervals (every round's within) and the fewest requests behind one.
  assert.match(tableAfter("p50 ms, the rounds' 95 % intervals, requests behind each"), /\| concurrent \| 105\.0 \(100\.0-110\.0\) \[90\.0, 121\], n >= 39 \| 510\.0 \(500\.0-520\.0\) \[450, 572\], n >= 10 \|/);
  assert.match(tableAfter("p99 ms, the rounds' 95 % intervals, requests behind each"), /\| concurrent \| 210\.0 \(200\.0-220\.0\) >= 160 \(no upper bound: 39 requests in a round, 368 needed\), n >= 39 \|/);
  assert.match(tableAfter('Goodput (good answers/s), missed share of scheduled arrivals (dropped, or answered later than the SLO)'), /\| concurrent \| 4\.00 \(3\.90-4\.00\), missed 0\.0 % \| 1\.00 \(1\.00-1\.00\), missed 0\.0 % \|/);
  assert.match(tableAfter('Refused and failed (summed over rounds; never in req/s or latency)'), /\| concurrent \| 1 refused, 0 failed \(0\.8 %\) \| 0 refused, 0 failed \(0\.0 %\) \|/);
  // The reference row is not a row of its own ratios; an open loop's req/s ratio is left to the Speedup section.
  assert.match(tableAfter('p50 over concurrent (< 1 = faster), paired per round, 95 % interval'), /^\| implementation \| d0 \| d2 \|\n\| --- \| ---: \| ---: \|\n\| triton-instances \| 0\.\d+x \[[\d.]+, [\d.]+\] faster \| 1\.9\d*x \[[\d.]+, [\d.]+\] slower \|\n$/);
  assert.ok(md.includes('**p99 over concurrent (< 1 = faster), paired per round, 95 % interval**'));
  assert.ok(!md.includes('**req/s over concurrent'), 'open loop: no req/s ratio table');
  assert.match(md, /### Every figure per implementation and model\n\n\| implementation \| model \| rounds \| requests \|/);
  assert.match(md, /\| implementation \| model \| req\/s over concurrent \| p50 over concurrent/);
  assert.ok(!md.includes('## Requests/s and latency per implementation and level'));
  assert.match(resultsTableText(mixReport()), /^impl +model +rounds +req\/s +good\/s +p50 ms +p99 ms/m);
});

test('the charts of a mix: per model, a dot and whisker per row, no line joining models', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-mix-out-'));
  await writeReport(dir, mixReport());
  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  assert.deepEqual(json.charts.map((c) => c.title.split(' (')[0]), ['Requests/s per model', 'p99 latency per model', 'Goodput', 'Speedup over concurrent, requests/s']);
  for (const file of ['rps.svg', 'p99.svg', 'speedup.svg']) {
    const svg = readFileSync(join(dir, file), 'utf8');
    assert.ok(!svg.includes('mark-line role-mark'), `${file}: no line between models`);
    assert.ok(svg.includes('>d0<') && svg.includes('>d2<') && svg.includes('model (its stream of MIX=d0:4,d2:1, open loop)'), file);
  }
  const p99 = readFileSync(join(dir, 'p99.svg'), 'utf8');
  assert.equal(/class="mark-symbol role-mark point"[^>]*>(.*?)<\/g>/.exec(p99)![1]!.match(/<path/g)!.length, ROWS.length * 2);
});

test('a closed-loop mix: the offered load is VUs, req/s over the first row gets its table, no missed share', () => {
  const r = mixReport({ mix: { streams: [{ model: 'd0', value: 2 }, { model: 'd2', value: 1 }], loop: 'closed' } }, { mix: 'd0:2,d2:1', loop: 'closed' });
  const c0 = r.results.find((x) => x.impl === 'concurrent' && x.level === 'd0')!;
  assert.deepEqual([c0.stream!.offered, c0.stream!.offered_unit, c0.stream!.missed_ratio], [2, 'VUs', undefined]);
  const md = reportMarkdown(r);
  assert.match(md, /\*\*Accepted req\/s \(VUs of the stream\)\*\*\n\n.*\n.*\n\| concurrent \| 4\.00 \(3\.90-4\.00\) \(2 VUs\) \| 1\.00 \(1\.00-1\.00\) \(1 VU\) \|/);
  assert.ok(md.includes('**req/s over concurrent, paired per round, 95 % interval**'));
  assert.ok(!md.includes('missed'), 'a closed loop misses no schedule');
});

test('gathered mix runs (REUSE, no MIX): the mix from their env.json; runs of different mixes say so; a sweep among them makes a sweep report', () => {
  const gathered = (runs: string) => buildReport(gatherRuns([runs]), { ...meta({ impls: [], mix: undefined }), mode: 'reuse' });
  const same = gathered(mixRuns());
  assert.deepEqual([same.levels, same.mix], [['d0', 'd2'], { streams: [{ model: 'd0', value: 4 }, { model: 'd2', value: 1 }], loop: 'open' }]);
  const root = mixRuns();
  writeMixRun(root, '2026-01-01T00-00-07Z-mix-concurrent', 'concurrent', 3, { mix: 'd0:8,d2:1' });
  const varied = gathered(root);
  assert.equal(varied.mix!.varied, true);
  // Round 3 of concurrent twice: offered 4 and 8 on d0 (the median of the three rounds' is 4).
  assert.match(reportMarkdown(varied), /The gathered runs ran different mixes \(the first MIX=d0:4,d2:1; each cell's offered load is the median of its own runs'\)/);
  // A sweep run among mix runs: the report is the sweep's (as before mixes), the mix runs left out.
  const sweep = join(root, '2026-01-01T00-00-08Z-sweep-concurrent');
  mkdirSync(sweep);
  const s = fixture<Summary>('baseline.summary.json');
  writeFileSync(join(sweep, 'summary.json'), JSON.stringify({ ...s, impls: ['concurrent'], levels: s.levels.map((l) => ({ ...l, impl: 'concurrent' })) }));
  const r = gathered(root);
  assert.equal(r.mix, undefined);
  assert.deepEqual([r.levels, r.runs.length], [[1], 1]);
});

test('MIX knobs: a mix is parsed by the bench parser; LEVELS beside it, an unknown model, PROTOCOL=seed, fractional VUs each stop with one line', () => {
  assert.deepEqual(reportConfig({ MIX: 'd0:4, d2:0.5' }).mix, { streams: [{ model: 'd0', value: 4 }, { model: 'd2', value: 0.5 }], loop: 'open' });
  assert.equal(reportConfig({}).mix, null);
  assert.throws(() => reportConfig({ MIX: 'd0:4', LEVELS: '1,4' }), /^ConfigError: MIX=d0:4 with LEVELS=1,4: a report runs either a traffic mix \(its columns the models\) or a LEVELS sweep; drop one of them$/);
  assert.throws(() => reportConfig({ MIX: 'd0:4,d9:1' }), /^ConfigError: MIX=d0:4,d9:1 is not valid: expected a comma list of model:number, each model once \(models d0, d1, d2\), e\.g\. d0:6,d2:0\.5$/);
  assert.throws(() => reportConfig({ MIX: 'd0:4', PROTOCOL: 'seed' }), /^ConfigError: MIX=d0:4 with PROTOCOL=seed: the seed API runs every model on each request, so it cannot serve a stream of one model; use PROTOCOL=native or v2$/);
  assert.throws(() => reportConfig({ MIX: 'd0:0.5', MIX_LOOP: 'closed' }), /^ConfigError: MIX=d0:0\.5 with MIX_LOOP=closed: each stream's number is its VUs, a whole number/);
});

test("reproduce commands of a mix: MIX and MIX_LOOP in the report line, every bench line SCENARIO=mix, each peer's in its own protocol", () => {
  const cfg = reportConfig({ IMPL: 'concurrent', MIX: 'd0:4,d2:0.5', DURATION: '10s', REPEATS: '1' });
  const peer = (row: string, name: PeerRow['peer']): PeerRow => ({ row, peer: name, url: 'http://127.0.0.1:1', metricsUrl: 'http://127.0.0.1:2/metrics', pid: 1, stack: name, stop: async () => {} });
  const peers = [peer('triton-instances', 'triton'), peer('fastapi', 'fastapi'), peer('torchserve', 'torchserve')];
  const rows = ['concurrent', ...peers.map((p) => p.row)];
  const c = reproduceCommands(cfg, rows, schedule(rows, 1), { PEERS: 'triton,fastapi,torchserve', TRITON_MODEL_SETS: 'instances' }, 'r', peers);
  assert.equal(c.report, 'make report IMPL=concurrent PEERS=triton,fastapi,torchserve TRITON_MODEL_SETS=instances MIX=d0:4,d2:0.5 MIX_LOOP=open DURATION=10s REPEATS=1');
  // A peer's run is two lines: start the peer in another shell, then the bench.
  const benches = c.runs.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('make bench'));
  assert.equal(benches.length, 2 * rows.length, c.runs.join('\n'));
  for (const l of benches) assert.match(l, /^make bench SCENARIO=mix IMPL=\S+ .*MIX=d0:4,d2:0\.5 MIX_LOOP=open DURATION=\S+ .*ACCURACY=[01]/);
  assert.ok(!c.runs.some((l) => l.includes('LEVELS=')), c.runs.join('\n'));
  const of = (row: string) => benches.filter((l) => l.includes(`IMPL=${row} `));
  assert.ok(of('triton-instances').every((l) => l.includes('PROTOCOL=v2') && l.includes('V2_MODELS=d0,d1,d2')));
  assert.ok(of('fastapi').every((l) => l.includes('PROTOCOL=native')));
  assert.ok(of('torchserve').every((l) => l.includes('PROTOCOL=torchserve')));
  assert.ok(of('concurrent').every((l) => l.includes('TARGET=http://127.0.0.1:8000') && !l.includes('PROTOCOL')));
});

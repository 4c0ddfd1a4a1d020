// Turns the report's data into files: three SVG charts (through the one chart-spec builder),
// report.md (tables a team can act on) and report.json (the same data, for machines).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as vega from 'vega';
import { lineChartSpec, renderSvg, type ChartPoint } from './charts.ts';
import { minSamplesFor } from '../../lib/confidence.ts';
import { mixText } from './config.ts';
import { BASELINE, INVALID_IMPL, type EnvJson, type LevelResult, type Report, type RoundsEnvelope } from './model.ts';
import { rowImpl } from './rows.ts';
import { formatRatio, type RatioOverRounds, type Spread } from './stats.ts';

interface ChartFile {
  file: string;
  title: string;
  spec: vega.Spec;
}

const whisker = (s: Spread | null) => (s && s.n > 1 ? { lo: s.min, hi: s.max } : {});
/** A ratio's whisker is its 95 % interval (none with too few rounds for one). */
const intervalWhisker = (r: RatioOverRounds | null) => (r && r.lower !== null && r.upper !== null ? { lo: r.lower, hi: r.upper } : {});

/** How the report's columns read: a sweep's concurrency levels, or a mix's models (its streams). */
function columnWords(r: Report): { head: string; axis: string; against: string; goodputAgainst: string; run: string } {
  if (!r.mix) return { head: 'concurrency', axis: 'concurrency (VUs, closed loop)', against: 'against concurrency', goodputAgainst: 'against offered load', run: 'sweep' };
  return { head: 'model', axis: `model (its stream of ${r.mix.varied ? 'the mix' : `MIX=${mixText(r.mix.streams)}`}, ${r.mix.loop} loop)`, against: 'per model', goodputAgainst: 'per model', run: 'mix run' };
}

/** The report's charts: requests/s and p99 against concurrency (a mix: per model, dots with no
 * line between models), and speedup over baseline. */
function reportCharts(r: Report): ChartFile[] {
  const c = columnWords(r);
  const rounds = Math.max(0, ...r.results.map((x) => x.rounds));
  const spreadNote = rounds > 1 ? `median of ${rounds} rounds, whiskers min-max` : 'one round';
  const rpsPoints: ChartPoint[] = r.results.map((x) => ({ series: x.impl, x: x.level, y: x.rps.median, ...whisker(x.rps) }));
  const p99Points: ChartPoint[] = r.results.map((x) => ({ series: x.impl, x: x.level, y: x.p99_ms.median, ...whisker(x.p99_ms) }));
  // The stub's "speedup" is the harness ceiling (tens of x): it would flatten every real strategy, so
  // it stays in the tables and out of this chart; the reference row is the dashed line at 1.
  const ref = r.comparisons.reference ?? BASELINE;
  const speedupPoints: ChartPoint[] = r.speedups.filter((s) => s.rps && rowImpl(s.impl) !== INVALID_IMPL).map((s) => ({ series: s.impl, x: s.level, y: s.rps!.estimate, ...intervalWhisker(s.rps) }));
  const common = { xTitle: c.axis, xValues: r.levels, connect: !r.mix };
  // Goodput against offered load: in a closed loop the offered load is the level (VUs).
  const goodputPoints: ChartPoint[] = r.results.flatMap((x) => (x.goodput_rps ? [{ series: x.impl, x: x.level, y: x.goodput_rps.median, ...whisker(x.goodput_rps) }] : []));
  return [
    { file: 'rps.svg', title: `Requests/s ${c.against} (${spreadNote})`, spec: lineChartSpec({ ...common, title: `Requests/s ${c.against} (${spreadNote})`, yTitle: 'requests/s (log scale)', yScale: 'log', series: r.impls, points: rpsPoints }) },
    { file: 'p99.svg', title: `p99 latency ${c.against} (${spreadNote})`, spec: lineChartSpec({ ...common, title: `p99 latency ${c.against} (${spreadNote})`, yTitle: 'p99 ms (log scale)', yScale: 'log', series: r.impls, points: p99Points }) },
    ...(goodputPoints.length > 0
      ? [{ file: 'goodput.svg', title: `Goodput (accepted, on time, correct) ${c.goodputAgainst} (${spreadNote})`, spec: lineChartSpec({ ...common, title: `Goodput ${c.goodputAgainst} (${spreadNote})`, yTitle: 'good answers/s', series: r.impls, points: goodputPoints }) }]
      : []),
    {
      file: 'speedup.svg',
      title: `Speedup over ${ref}, requests/s (paired ratio, whiskers its 95 % interval; ${INVALID_IMPL} left out)`,
      spec: lineChartSpec({ ...common, title: `Speedup over ${ref} (requests/s, paired per round, 95 % interval)`, yTitle: `requests/s / ${ref}'s`, series: r.impls, points: speedupPoints, reference: { y: 1, label: ref } }),
    },
  ];
}

const f = (n: number | null | undefined, digits = 1): string => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));
const g = (n: number | null | undefined): string => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : Number(n.toPrecision(3)).toString());
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const yesNo = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'yes' : '**no**');

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

const range = (s: Spread, digits = 1): string => (s.n > 1 ? `${f(s.median, digits)} (${f(s.min, digits)}-${f(s.max, digits)})` : f(s.median, digits));

/** v rounded outward (down for a lower bound, up for an upper one) to three significant digits. */
function outward(v: number, mode: 'floor' | 'ceil'): string {
  if (!(v > 0) || !Number.isFinite(v)) return String(v);
  const e = Math.floor(Math.log10(v)) - 2;
  const k = mode === 'floor' ? Math.floor(v / 10 ** e + 1e-9) : Math.ceil(v / 10 ** e - 1e-9);
  return (k * 10 ** e).toFixed(Math.max(0, -e));
}

/** The rounds' own intervals of a percentile: "[7.85, 28.8]" (every round's lies within), or the
 * bound there is and why the other is missing. */
function envelopeCell(e: RoundsEnvelope | null | undefined, p: number): string {
  if (!e) return '-';
  const lo = e.lower === null ? null : outward(e.lower, 'floor');
  const hi = e.upper === null ? null : outward(e.upper, 'ceil');
  const why = (side: string) => `no ${side} bound: ${e.n_min} requests in a round, ${minSamplesFor(p, e.confidence)} needed`;
  if (lo !== null && hi !== null) return `[${lo}, ${hi}]`;
  if (lo !== null) return `>= ${lo} (${why('upper')})`;
  if (hi !== null) return `<= ${hi} (${why('lower')})`;
  return `unbounded (${why('upper or lower')})`;
}

function resultsTable(r: Report): string {
  const ref = r.comparisons.reference;
  const withIntervals = r.results.some((x) => x.latency_intervals);
  const withGoodput = r.results.some((x) => x.goodput_rps);
  const rows = r.results.map((x) => {
    const sp = r.speedups.find((s) => s.impl === x.impl && s.level === x.level);
    const intervals = withIntervals ? [envelopeCell(x.latency_intervals?.p50, 0.5), envelopeCell(x.latency_intervals?.p99, 0.99)] : [];
    return [x.impl, String(x.level), String(x.rounds), String(x.requests), range(x.rps, 2), ...(withGoodput ? [x.goodput_rps ? range(x.goodput_rps, 2) : 'n/a'] : []), range(x.p50_ms), range(x.p99_ms), ...intervals, f(x.min_ms), f(x.max_ms), x.impl === ref ? '1 (reference)' : formatRatio(sp?.rps ?? null)];
  });
  // A p99 needs about 100 requests per round to be more than the slowest one.
  const thin = r.results.filter((x) => x.requests / x.rounds < 100);
  const notes = [
    ...(withIntervals ? ["_p50 and p99 95 % intervals: each round's own distribution-free interval of its percentile, as its summary.json gives it; every round's interval lies within the range shown, so a narrow range means the rounds' percentiles were both precise and alike._"] : []),
    ...(withGoodput ? ['_good/s: goodput, the answers accepted, on time (within the level\'s SLO) and correct per second (docs/bounds.md#goodput); n/a for rounds written before it._'] : []),
    ...(thin.length > 0 ? [`_${thin.length} of ${r.results.length} rows rest on fewer than 100 requests per round: their p99 is close to their max; raise DURATION for a p99 worth comparing._`] : []),
  ];
  const head = ['implementation', columnWords(r).head, 'rounds', 'requests', 'req/s median (min-max)', ...(withGoodput ? ['good/s median (min-max)'] : []), 'p50 ms', 'p99 ms', ...(withIntervals ? ['p50 ms, rounds\' 95 % intervals', 'p99 ms, rounds\' 95 % intervals'] : []), 'min ms', 'max ms', `speedup (req/s over ${ref ?? BASELINE}, 95 % interval)`];
  const align: ('l' | 'r')[] = [...head.map((): 'l' | 'r' => 'r')];
  align[0] = 'l';
  align[head.length - 1] = 'l';
  return table(head, rows, align) + notes.map((n) => `\n\n${n}`).join('');
}

/** A mix report's tables, one per figure: a row per implementation or peer, a column per model. */
function mixTables(r: Report): string {
  const mix = r.mix!;
  const ref = r.comparisons.reference;
  const at = (impl: string, level: Report['levels'][number]) => r.results.find((x) => x.impl === impl && x.level === level);
  const pivot = (caption: string, cellOf: (x: LevelResult) => string, impls = r.impls) =>
    [`**${caption}**`, '', table(['implementation', ...r.levels.map(String)], impls.map((impl) => [impl, ...r.levels.map((l) => { const x = at(impl, l); return x ? cellOf(x) : '-'; })]))].join('\n');
  const offered = (x: LevelResult) => (x.stream?.offered == null ? '' : mix.loop === 'open' ? ` of ${g(x.stream.offered)}` : ` (${g(x.stream.offered)} VU${x.stream.offered === 1 ? '' : 's'})`);
  // The fewest requests behind one round's percentile (the interval's sample).
  const latency = (x: LevelResult, key: 'p50' | 'p99') => {
    const e = x.latency_intervals?.[key];
    const figure = range(key === 'p50' ? x.p50_ms : x.p99_ms);
    return e ? `${figure} ${envelopeCell(e, key === 'p50' ? 0.5 : 0.99)}, n ${e.rounds > 1 ? '>= ' : ''}${e.n_min}` : figure;
  };
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const open = mix.loop === 'open';
  const withGoodput = r.results.some((x) => x.goodput_rps);
  const ratio = (key: 'rps' | 'p50' | 'p99') => (x: LevelResult) => formatRatio(r.speedups.find((s) => s.impl === x.impl && s.level === x.level)?.[key] ?? null);
  const others = r.impls.filter((i) => i !== ref);
  const parts = [
    `${mix.varied ? `The gathered runs ran different mixes (the first MIX=${mixText(mix.streams)}; each cell's offered load is the median of its own runs'), each` : `Each row ran MIX=${mixText(mix.streams)}`} (${open ? 'open loop: each model\'s stream at its own rate in req/s, all at once, arrivals on a schedule whatever the answers' : 'closed loop: each model\'s stream its own VUs, each sending its next request when the last is answered'}); a column per model is that stream alone. Medians over rounds, min-max in parentheses.`,
    '',
    pivot(`Accepted req/s${open ? ' of offered req/s' : ' (VUs of the stream)'}`, (x) => `${range(x.rps, 2)}${offered(x)}`),
    '',
    pivot("p50 ms, the rounds' 95 % intervals, requests behind each", (x) => latency(x, 'p50')),
    '',
    pivot("p99 ms, the rounds' 95 % intervals, requests behind each", (x) => latency(x, 'p99')),
    '',
    pivot(`${withGoodput ? 'Goodput (good answers/s)' : 'Accepted req/s'}${open ? ', missed share of scheduled arrivals (dropped, or answered later than the SLO)' : ''}`, (x) => [withGoodput ? (x.goodput_rps ? range(x.goodput_rps, 2) : 'n/a') : range(x.rps, 2), ...(open ? [`missed ${x.stream?.missed_ratio ? pct(x.stream.missed_ratio.median) : 'n/a'}`] : [])].join(', ')),
    '',
    pivot('Refused and failed (summed over rounds; never in req/s or latency)', (x) => (x.stream ? `${x.stream.refused} refused, ${x.stream.failed} failed (${pct(x.stream.lost_ratio)})` : 'n/a')),
  ];
  if (ref !== null && others.length > 0) {
    const ratios: ['rps' | 'p50' | 'p99', string][] = [['p50', 'p50'], ['p99', 'p99'], ...(open ? [] : [['rps', 'req/s'] as ['rps', string]])];
    for (const [key, words] of ratios) {
      parts.push('', pivot(`${words} over ${ref}${key === 'rps' ? '' : ' (< 1 = faster)'}, paired per round, 95 % interval`, ratio(key), others));
    }
    if (open) parts.push('', `_An open loop offers every row the same req/s, so req/s over ${ref} is about 1 wherever both keep up: the latencies and the missed share tell the rows apart (all ratios under Speedup)._`);
  }
  return parts.join('\n');
}

/** TUNE: where the tuned rows come from, the knobs each ran with, and our tuned row over Triton's. */
function tunedSection(r: Report): string {
  const t = r.tune!;
  const out = [
    `From \`${t.dir}\` (make tune of ${t.created}, SCENARIO=${t.scenario}); this report ran ${t.load}. Each stack's best configuration there is a row of its own, its server started with the knobs below (our server's are process-wide, so it is a server apart from the other rows'), measured in the same interleaved rounds as every other row; the tuning's own figure is its probe-and-full run during the search, not a figure of this report.`,
    '',
    table(['row', 'stack', 'knobs its server started with', "the tuning's figure (95 % interval)"], t.rows.map((x) => [x.row, x.stack, `\`${x.knobs}\``, x.tuned]), ['l', 'l', 'l', 'l']),
  ];
  if (t.notes.length > 0) out.push('', ...t.notes.map((n) => `- ${n}`));
  const ratios = r.tuned_ratios ?? [];
  if (ratios.length > 0) {
    const ours = ratios[0]!.impl;
    const over = ratios[0]!.over;
    out.push('', `**${ours} over ${over}**, paired by round (${r.comparisons.method}):`, '', table([columnWords(r).head, `req/s over ${over}`, `p50 over ${over} (< 1 = faster)`, `p99 over ${over} (< 1 = faster)`, 'rounds paired'], ratios.map((s) => [String(s.level), formatRatio(s.rps), formatRatio(s.p50), formatRatio(s.p99), s.rounds.join(', ') || '-']), ['r', 'l', 'l', 'l', 'l']));
  }
  return out.join('\n');
}

function speedupTable(r: Report): string {
  const ref = r.comparisons.reference;
  if (ref === null) return '_No speedups: nothing was measured._';
  const rows = r.speedups.map((s) => [s.impl, String(s.level), formatRatio(s.rps), formatRatio(s.p50), formatRatio(s.p99), s.rounds.join(', ') || '-']);
  if (rows.length === 0) return `_No row besides ${ref} was measured._`;
  const verdicts = r.speedups.flatMap((s) => [s.rps, s.p50, s.p99]).filter((x): x is RatioOverRounds => x !== null);
  const count = (v: RatioOverRounds['verdict']) => verdicts.filter((x) => x.verdict === v).length;
  const tally = `Of ${verdicts.length} ratios: ${count('faster')} faster, ${count('slower')} slower, ${count('not distinguishable')} not distinguishable${count('no interval') > 0 ? `, ${count('no interval')} without an interval (too few rounds)` : ''}.`;
  return [
    `Each row over **${ref}**${rowImpl(ref) === BASELINE ? '' : ` (the first row of IMPL: ${BASELINE} was not measured)`}: ${r.comparisons.method}. "faster" means more requests/s, or less latency, than ${ref}.`,
    '',
    table(['implementation', columnWords(r).head, `req/s over ${ref}`, `p50 over ${ref} (< 1 = faster)`, `p99 over ${ref} (< 1 = faster)`, 'rounds paired'], rows, ['l', 'r', 'l', 'l', 'l', 'l']),
    '',
    tally,
  ].join('\n');
}

function boundsSection(r: Report): string {
  const b = r.bounds;
  const stats = (x: { rps: number; p50_ms: number; p99_ms: number } | null) => (x ? [f(x.rps, 2), f(x.p50_ms), f(x.p99_ms)] : ['n/a', 'n/a', 'n/a']);
  const out = [
    `Measured in this report (medians over rounds): **${BASELINE}** is the upper bound (every implementation must reach its requests/s and stay under its p99), **${INVALID_IMPL}** the lower bound (HTTP, decoding and serialisation with no model; a p50 below it means work was skipped).`,
    '',
    table([columnWords(r).head, `${BASELINE} req/s`, `${BASELINE} p50 ms`, `${BASELINE} p99 ms`, `${INVALID_IMPL} req/s`, `${INVALID_IMPL} p50 ms`, `${INVALID_IMPL} p99 ms`], b.levels.map((l) => [String(l.level), ...stats(l.upper), ...stats(l.lower)])),
  ];
  if (b.calibration_created) {
    const c = (s: { rps: number; p50_ms: number; p99_ms: number } | undefined) => (s ? [f(s.rps, 2), f(s.p50_ms), f(s.p99_ms)] : ['n/a', 'n/a', 'n/a']);
    out.push('', `Host bounds in force for \`make bench\` (\`make host-bounds\` of ${b.calibration_created}; ${b.calibration_tolerance_note}):`, '');
    out.push(table([columnWords(r).head, `${BASELINE} req/s`, `${BASELINE} p50 ms`, `${BASELINE} p99 ms`, `${INVALID_IMPL} req/s`, `${INVALID_IMPL} p50 ms`, `${INVALID_IMPL} p99 ms`], b.levels.map((l) => [String(l.level), ...c(l.calibration?.baseline), ...c(l.calibration?.invalid)])));
  } else out.push('', '_No host bounds (results/host-bounds.json): `make bench` gates against the SLO defaults only (run `make host-bounds`)._');
  if (b.checks.length > 0) {
    out.push('', 'Each implementation against the bounds measured here (medians):', '');
    out.push(table(['implementation', columnWords(r).head, `req/s >= ${BASELINE}`, `p99 <= ${BASELINE}`, `p50 >= ${INVALID_IMPL}`], b.checks.map((c) => [c.impl, String(c.level), yesNo(c.rps_at_least_baseline), yesNo(c.p99_at_most_baseline), yesNo(c.p50_at_least_stub)])));
  }
  return out.join('\n');
}

function accuracySection(r: Report): string {
  const inRunOnly = r.in_run_only.map((x) => `- ${x.impl}: no replay (a v2-only server has no native API to replay over); in-run output checks of its accuracy pass ${x.ok ? 'passed' : `**FAILED**: ${x.failed.join(', ')}`} (${x.run})`);
  const tail = inRunOnly.length > 0 ? `\n\n${inRunOnly.join('\n')}` : '';
  return accuracyTables(r) + tail;
}

function accuracyTables(r: Report): string {
  if (r.accuracy.length === 0) return '_No accuracy.json in these runs (ACCURACY=0, or the accuracy post-processing did not run)._';
  const inRun = (a: (typeof r.accuracy)[number]) => (a.in_run === null ? 'not run' : a.in_run.ok ? 'passed' : '**FAILED**');
  const rows = r.accuracy.map((a) => [a.impl, a.lossless ? 'lossless' : 'lossy', a.passed ? 'passed' : '**FAILED**', inRun(a), String(a.images), String(a.reference_detections), String(a.matched), String(a.unmatched), g(a.boxes_mse), g(a.scores_mse), g(a.labels_accuracy), g(a.mean_iou), a.mode, a.run]);
  const expected = (a: (typeof r.accuracy)[number]) => (a.impl === INVALID_IMPL ? ' (expected: the stub returns no detections)' : '');
  const failed = [
    ...r.accuracy.filter((a) => !a.passed).map((a) => `- ${a.impl}: broken replay gates ${a.failed_gates.join(', ') || '(none listed)'}${expected(a)}; bounds: ${a.bounds_source}`),
    ...r.accuracy.filter((a) => a.in_run && !a.in_run.ok).map((a) => `- ${a.impl}: failed in-run checks ${a.in_run!.failed.join(', ')}${expected(a)}`),
  ];
  return [
    'Replay gates: every reference image sent once, sequentially, and compared with the baseline reference (class-aware matching, greedy by score, IoU >= 0.5). In-run checks: k6 compared each response of the load run with the reference of the image it sent (output_match), which catches answers mixed up between concurrent requests. Figures over D0, D1 and D2 on every replayed image of each implementation\'s accuracy run (detections counted over all three models).',
    '',
    table(['implementation', 'kind', 'replay gates', 'in-run checks', 'images', 'reference detections', 'matched', 'unmatched', 'boxes MSE px^2', 'scores MSE', 'labels accuracy', 'mean IoU', 'mode', 'run'], rows, ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l']),
    ...(failed.length > 0 ? ['', ...failed] : []),
  ].join('\n');
}

function stacksSection(r: Report): string {
  if (!r.stacks || r.stacks.length === 0) return '';
  return table(['server', 'rows', 'stack and versions'], r.stacks.map((x) => [x.server, x.rows.join(', '), x.stack]), ['l', 'l', 'l']);
}

function serverSideSection(r: Report): string {
  if (r.server_side.length === 0) return '_No server metrics in these runs (server-metrics.before.prom / server-metrics.prom)._';
  const rows = r.server_side.map((x) => [x.impl, String(x.runs), String(x.requests), f(x.request_ms), f(x.queue_ms), f(x.compute_ms), f(x.overhead_ms), x.mean_batch === null ? 'n/a' : f(x.mean_batch, 2)]);
  return [
    'From each server\'s own /metrics, scraped before and after every timed run (Triton\'s and ours carry the same names: nv_inference_request_duration_us, nv_inference_queue_duration_us, nv_inference_compute_{input,infer,output}_duration_us, nv_inference_exec_count, nv_inference_count): per request the time queued, computing and the rest (overhead: HTTP, decode, (de)serialisation, copies to and from the backend), which add up to the request time. Computing is, for our server, the critical path of the request\'s model jobs (nv_inference_compute_critical_path_duration_us: models that ran side by side count once), for Triton input + infer + output (one model per request); see docs/server.md. Over a whole sweep (every level together), the mean per request over all timed runs. A request is what the server counts: one per image over the native API, one per model over v2 with per-model tensors. Triton starts a request\'s clock after its HTTP frontend has parsed it, so its overhead leaves out the HTTP parse; ours starts at the route, so ours includes it (and the v2 tensor decoding). TorchServe has names of its own: ts_inference_latency_microseconds (its job, queue included) and ts_queue_latency_microseconds from its frontend, ts_handler_compute_microseconds (the onnxruntime run), ts_handler_execution_count and ts_handler_image_count from the peer\'s handler; its clock too starts after the HTTP parse, and its overhead is the worker\'s socket round trip and (de)serialisation.',
    '',
    table(['implementation', 'runs', 'requests', 'request ms', 'queue ms', 'compute ms', 'overhead ms', 'mean batch (images / execution)'], rows),
  ].join('\n');
}

function serversCpuSection(r: Report): string {
  if (r.servers_cpu.length === 0) return '';
  const servers = [...new Set(r.servers_cpu.flatMap((x) => Object.keys(x.cpu_s)))];
  const rows = r.servers_cpu.map((x) => [x.measured, String(x.runs), f(x.wall_s), ...servers.map((k) => f(x.cpu_s[k], 2))]);
  return [
    'CPU seconds each server process tree used during a run (utime + stime of the process and its descendants, from /proc/<pid>/stat, median over rounds), by the row being measured: the server measured works, the others idle and must stay near zero (no onnxruntime spinning, no polling backend), or they would take CPU from the one measured.',
    '',
    table(['measured', 'runs', 'run wall s', ...servers.map((k) => `${k} CPU s`)], rows),
  ].join('\n');
}

function environmentSection(r: Report): string {
  const e = r.environment.env as EnvJson | null;
  if (!e) return '_No env.json in these runs._';
  const rows: [string, string][] = [
    ['CPU', `${e.cpu?.model ?? '?'} (${e.cpu?.cores ?? '?'} cores)`],
    ['memory', `${e.memory_gb ?? '?'} GB`],
    ['OS', `${e.os?.type ?? '?'} ${e.os?.release ?? ''} ${e.os?.arch ?? ''}`.trim()],
    ['Node', String(e.node ?? '?')],
    ['onnxruntime-node', String(e.onnxruntime_node ?? '?')],
    ['k6', String(e.k6 ?? '?')],
    ['execution provider', String(e.ep ?? '?')],
    ['server version', String(e.server_version ?? '?')],
    ['git commit', `${e.git?.sha ?? '?'}${e.git?.dirty ? ' (working tree had uncommitted changes)' : ''}`],
  ];
  if (r.server.settings) rows.push(['server settings', JSON.stringify(r.server.settings)]);
  const out = [`From env.json of ${r.environment.first_run}.`, '', table(['', ''], rows.map(([k, v]) => [k, v]), ['l', 'l'])];
  out.push('', r.environment.differences.length === 0 ? 'All runs agree on machine, versions, provider and commit.' : `**Runs disagree** (compare with care):\n${r.environment.differences.map((d) => `- ${d}`).join('\n')}`);
  return out.join('\n');
}

function runsSection(r: Report): string {
  const rows = r.runs.map((x, i) => [
    String(i + 1),
    x.impls.join(','),
    String(x.round),
    x.exit_code === null ? '-' : String(x.exit_code),
    x.thresholds_ok ? 'ok' : `FAIL ${x.failed_thresholds.length}`,
    x.postprocess.map((p) => `${p.name}: ${p.passed ? 'ok' : 'FAIL'}`).join('; ') || '-',
    x.server_peak_mb === null ? '-' : `${x.server_peak_mb} (${x.memory_device})`,
    `\`${x.name}\``,
  ]);
  return [
    'Thresholds and gates are those of `make bench` (host bounds or SLO defaults); a failed one does not remove a run from the figures, it is shown here. Server peak memory is since the bench reset it before k6 started; with a shared server it is the whole process, every loaded implementation included. Exit 98 = a post-processing gate failed (the stub always fails accuracy), 99 = k6 thresholds failed.',
    '',
    table(['#', 'implementation', 'round', 'exit', 'k6 thresholds', 'post-processing', 'server peak MB', 'folder (runs/)'], rows, ['r', 'l', 'r', 'r', 'l', 'l', 'r', 'l']),
  ].join('\n');
}

export function reportMarkdown(r: Report): string {
  const c = r.config;
  const w = columnWords(r);
  const rounds = Math.max(0, ...r.results.map((x) => x.rounds));
  const load = r.mix
    ? `Traffic mix ${r.mix.varied ? `(gathered runs of different mixes, the first MIX=${mixText(r.mix.streams)})` : `MIX=${mixText(r.mix.streams)}`} (${r.mix.loop} loop, every model's stream at once), measured for ${c.duration} per run`
    : `Closed-loop concurrency sweep at levels ${r.levels.join(', ')}, measured for ${c.duration} per level`;
  const lines = [
    `# Serving strategies compared: ${r.impls.join(', ')}`,
    '',
    `Created ${r.created} (${r.mode === 'run' ? `${r.runs.length} runs made by this report` : `gathered from ${r.runs.length} existing run folder(s)`}). ${load}; each figure is the median of ${rounds > 1 ? `${rounds} rounds` : 'one round'}${rounds > 1 ? ' with its min-max range in parentheses' : ''}, each ratio with its 95 % interval in square brackets. Warm-up requests are excluded from every figure.`,
    '',
    '## How it was measured',
    '',
    `- Fairness: ${r.mode === 'run' ? `implementations were interleaved in one session, round-robin: each round ran one ${w.run} per implementation, and the starting implementation rotated from round to round so none always ran first (or right after another); ${c.repeats} round(s).` : 'runs gathered from existing folders; the k-th run of an implementation is its round k, paired with the baseline\'s k-th run (oldest first).'}`,
    `- Speedup = a row's requests/s (or p50, p99) divided by the reference row's (${r.comparisons.reference ?? BASELINE}) **in the same round** (runs next to each other in time), with a 95 % interval over the rounds (how: under Speedup).`,
    `- Server: ${r.server.statement}`,
    `- Accuracy: ${r.mode === 'run' ? (c.accuracy ? `a separate pass per implementation before the timed rounds (${r.mix ? 'a short run of the same mix' : 'a short sweep at the highest level'} with k6's in-run output checks, then the sequential replay); the timed rounds ran without in-run checks (ACCURACY=0), so the checks' CPU cost, which differs per implementation, is in no timed figure.` : 'not measured (ACCURACY=0).') : 'from the accuracy.json of the gathered runs (the report\'s accuracy pass when present, else the newest run that has one).'}`,
    '',
    ...(r.tune ? ["## Tuned rows (make tune's best)", '', tunedSection(r), ''] : []),
    '## Charts',
    '',
    ...r.charts.flatMap((ch) => [`![${ch.title}](${ch.file})`, '']),
    ...(r.mix ? ['## Per implementation and model', '', mixTables(r), '', '### Every figure per implementation and model', ''] : ['## Requests/s and latency per implementation and level', '']),
    resultsTable(r),
    '',
    `## Speedup over ${r.comparisons.reference === null || rowImpl(r.comparisons.reference) === BASELINE ? 'the baseline' : r.comparisons.reference}`,
    '',
    speedupTable(r),
    '',
    ...(r.harness
      ? ['## The harness itself', '', `What the load generator costs on this host, from the latest \`make harness\` (${r.harness.file}); it was measured apart from this report's rounds.`, '', r.harness.text.trimEnd(), '']
      : ['## The harness itself', '', 'No `make harness` run found under results/harness/: run it to see what k6 costs against an independent load generator here.', '']),
    '## Server-side time per request',
    '',
    serverSideSection(r),
    '',
    ...(r.servers_cpu.length > 0 ? ['## Servers\' CPU time during each run', '', serversCpuSection(r), ''] : []),
    '## Bounds',
    '',
    boundsSection(r),
    '',
    '## Accuracy',
    '',
    accuracySection(r),
    '',
    '## Environment',
    '',
    ...(r.stacks && r.stacks.length > 0 ? [stacksSection(r), ''] : []),
    environmentSection(r),
    '',
    '## Runs',
    '',
    runsSection(r),
    '',
    '## Reproduce',
    '',
    'This report:',
    '',
    '```sh',
    r.commands.report,
    '```',
    '',
    'Re-render it from the same run folders without measuring again:',
    '',
    '```sh',
    r.commands.reuse,
    '```',
    '',
    ...(r.commands.runs.length > 0 ? ['The runs one by one, in the order they ran:', '', '```sh', ...r.commands.runs, '```', ''] : []),
  ];
  return lines.join('\n');
}

/** Writes report.md, report.json and the SVG charts into `dir`; returns the paths written. */
export async function writeReport(dir: string, report: Report): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const charts = reportCharts(report);
  const written: string[] = [];
  for (const ch of charts) {
    writeFileSync(join(dir, ch.file), await renderSvg(ch.spec));
    written.push(join(dir, ch.file));
  }
  const withCharts: Report = { ...report, charts: charts.map((c) => ({ file: c.file, title: c.title })) };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(withCharts, null, 2) + '\n');
  writeFileSync(join(dir, 'report.md'), reportMarkdown(withCharts));
  written.push(join(dir, 'report.json'), join(dir, 'report.md'));
  return written;
}

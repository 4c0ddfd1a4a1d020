// The harness's arithmetic on fixed runs: medians over rounds, k6/vegeta ratios, the cost of output
// checks, and the served baseline against the in-process sum of the models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harnessConfig } from '../../tools/harness/config.ts';
import { harnessTable, summarise, type HarnessRun } from '../../tools/harness/report.ts';
import { vegetaWindow } from '../../tools/harness/generators.ts';

const cfg = harnessConfig({ IMPL: 'invalid,baseline', LEVELS: '1', GENERATORS: 'k6,k6+checks,vegeta', ROUNDS: '2' });

function run(round: number, impl: string, generator: HarnessRun['generator'], rps: number, p50: number, cpuMs: number): HarnessRun {
  return { round, impl, level: 1, generator, requests: rps * 10, rps, p50_ms: p50, p99_ms: p50 * 2, failed_ratio: 0, cpu_s: 1, cpu_requests: rps * 10, steady_cpu_ms_per_request: cpuMs, server_cpu_s: 2 };
}

test("summarise: k6's engine alone (k6-bare) against vegeta, and what the suite's script costs over it", () => {
  const runs = [
    run(1, 'invalid', 'k6-bare', 190, 4.2, 0.25), run(2, 'invalid', 'k6-bare', 194, 4.4, 0.27),
    run(1, 'invalid', 'k6', 160, 4.5, 0.4), run(1, 'invalid', 'vegeta', 200, 4, 0.2),
  ];
  const r = summarise({ created: 'now', host: { cpu: 'x', cores: 2, node: 'v20' }, config: harnessConfig({ IMPL: 'invalid', LEVELS: '1', ROUNDS: '2' }), image: 'img', runs, models: [] });
  const c = r.comparisons[0]!;
  assert.equal(c.by['k6-bare']!.rps, 192);
  assert.equal(c.bare_rps_ratio, 0.96);
  assert.equal(c.bare_p50_ratio, 1.075);
  assert.equal(c.rps_ratio, 0.8);
  assert.equal(c.suite_cpu_ms, 0.14);
  assert.equal(c.output_checks_cpu_ms, null, 'no k6+checks run');
  const text = harnessTable(r);
  assert.match(text, /\| k6-bare\/vegeta req\/s \| k6-bare\/vegeta p50 \| k6\/vegeta req\/s \| k6\/vegeta p50 \|/);
  assert.match(text, /\| invalid \| 1 \| 192\.0 \| 4\.30 \| 160\.0 \| 4\.50 \| n\/a \| n\/a \| 200\.0 \| 4\.00 \| 0\.960 \| 1\.075 \| 0\.800 \| 1\.125 \|/);
  assert.match(text, /\| invalid \| 1 \| 0\.260 \| 0\.400 \| n\/a \| 0\.200 \| 1\.000 \| 0\.140 \| n\/a \|/);
});

test('summarise: medians over rounds, k6/vegeta ratios, output-check cost and HTTP overhead', () => {
  const runs = [
    run(1, 'invalid', 'k6', 150, 5, 1.0), run(2, 'invalid', 'k6', 170, 4, 1.2),
    run(1, 'invalid', 'k6+checks', 100, 7, 3.0), run(2, 'invalid', 'k6+checks', 120, 6, 3.4),
    run(1, 'invalid', 'vegeta', 200, 4, 0.2), run(2, 'invalid', 'vegeta', 200, 4, 0.2),
    run(1, 'baseline', 'k6', 1.2, 820, 2), run(2, 'baseline', 'vegeta', 1.25, 800, 1),
  ];
  const r = summarise({ created: 'now', host: { cpu: 'x', cores: 2, node: 'v20' }, config: cfg, image: 'img', runs, models: [{ model: 'd0', median_ms: 100, letterbox_ms: 5 }, { model: 'd1', median_ms: 200, letterbox_ms: 10 }, { model: 'd2', median_ms: 400, letterbox_ms: 15 }] });
  const inv = r.comparisons.find((c) => c.impl === 'invalid')!;
  assert.equal(inv.by.k6!.rps, 160);
  assert.equal(inv.by.k6!.p50_ms, 4.5);
  assert.equal(inv.rps_ratio, 0.8);
  assert.equal(inv.p50_ratio, 1.125);
  assert.equal(inv.output_checks_cpu_ms, 2.1);
  assert.equal(inv.by.vegeta!.rounds, 2);
  const h = r.http_overhead!;
  assert.equal(h.inprocess_ms, 700);
  assert.equal(h.overhead_ms.vegeta, 100);
  assert.equal(h.overhead_pct.k6, 17.143);
  assert.equal(h.inprocess_pipeline_ms, 730);
  assert.equal(h.pipeline_overhead_ms.vegeta, 70);
  assert.equal(h.pipeline_overhead_pct.vegeta, 9.589);
  const text = harnessTable(r);
  assert.match(text, /\| invalid \| 1 \| 160\.0 \| 4\.50 \|/);
  assert.match(text, /in-process limit .* = 700\.0 ms/);
  assert.match(text, /models \+ letterboxes = 730\.0 ms/);
  assert.match(text, /over the models alone 100\.0 ms \(14\.3%\), over models \+ letterboxes 70\.0 ms \(9\.6%\)/);
});

test('summarise: the served baseline against the baseline implementation run in-process (what HTTP adds)', () => {
  const runs = [run(1, 'baseline', 'k6', 1.2, 820, 2), run(1, 'baseline', 'vegeta', 1.25, 800, 1)];
  const models = [{ model: 'd0', median_ms: 100, letterbox_ms: 5 }, { model: 'd1', median_ms: 200, letterbox_ms: 10 }, { model: 'd2', median_ms: 400, letterbox_ms: 15 }];
  const inProcess = { impl: 'baseline', runs: 20, median_ms: 790, p90_ms: 800, decode_ms: 1, infer_ms: 789, letterbox_ms: 28 };
  const r = summarise({ created: 'now', host: { cpu: 'x', cores: 2, node: 'v20' }, config: harnessConfig({ IMPL: 'baseline', LEVELS: '1', GENERATORS: 'k6,vegeta' }), image: 'img', runs, models, inProcess });
  const q = r.http_overhead!.request!;
  assert.equal(r.http_overhead!.inprocess_ms, 700, 'the models-alone limit is unchanged');
  assert.equal(q.overhead_ms.vegeta, 10);
  assert.equal(q.overhead_ms.k6, 30);
  assert.equal(q.overhead_pct.vegeta, 1.266);
  const text = harnessTable(r);
  assert.match(text, /in-process baseline request \(the implementation itself, decode \+ infer, no HTTP; 20 runs\): median 790\.0 ms \(decode 1\.0, infer 789\.0, of which letterboxes 28\.0\)/);
  assert.equal(q.letterbox_ms, 28, "the implementation's own letterbox time is kept");
  assert.match(text, /\(vegeta\): 800\.0 ms; .* over the in-process request 10\.0 ms \(1\.3%\)/);
  assert.equal(summarise({ created: 'now', host: { cpu: 'x', cores: 2, node: 'v20' }, config: harnessConfig({ IMPL: 'baseline', LEVELS: '1', GENERATORS: 'k6,vegeta' }), image: 'img', runs, models }).http_overhead!.request, undefined);
});

test('harness knobs: bad values stop with the variable and what is allowed', () => {
  assert.throws(() => harnessConfig({ GENERATORS: 'k6,wrk' }), /GENERATORS=k6,wrk is not valid: expected a comma list of k6-bare, k6, k6\+checks, vegeta/);
  assert.throws(() => harnessConfig({ LEVELS: '1,0' }), /LEVELS=1,0 is not valid/);
  assert.throws(() => harnessConfig({ ROUNDS: '0' }), /ROUNDS=0 is not valid/);
});

test("vegeta's figures count the answers that arrived within the window, as k6's do", () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const r = (startMs: number, latencyMs: number, code = 200, error = '') => ({ timestamp: at(startMs), code, latency: latencyMs * 1e6, error });
  const w = vegetaWindow([r(0, 400), r(400, 400), r(800, 300), r(1100, 400), r(1500, 3000), r(900, 50, 503, '503 Service Unavailable')], 2);
  // The request sent at 1.5 s answers at 4.5 s, after the 2 s window: vegeta's own report counts it.
  assert.equal(w.answered, 5);
  assert.equal(w.ok, 4);
  assert.equal(w.p50_ms, 400);
  assert.equal(w.p99_ms, 400);
  assert.deepEqual(vegetaWindow([], 2), { answered: 0, ok: 0, p50_ms: 0, p99_ms: 0 });
});

// Results-folder compatibility: summary.json and env.json keep their shape. The fixtures are a real
// `make report` run's files (test/fixtures/report/, written before the knob registry and the renames);
// today's code must rebuild each summary.json from the k6 data it holds, field for field, and
// env.json must still carry every field the fixture has (new ones may be added).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { planFor } from '../../lib/scenarios.ts';
import { buildSummary, junitXml, summaryText, type K6SummaryData, type Summary } from '../../lib/summary.ts';
import { envInfo } from '../../tools/bench/env-info.ts';

const FIXTURES = 'test/fixtures/report';
const read = <T>(name: string): T => JSON.parse(readFileSync(`${FIXTURES}/${name}`, 'utf8')) as T;

/**
 * k6's handleSummary data of that run, rebuilt from the summary: the recorded metric values, the
 * latency trends of each row (the fixture keeps their figures in levels/warmup), and the threshold
 * verdicts on the metrics they were set on.
 */
function k6DataOf(s: Summary): K6SummaryData {
  const metrics: K6SummaryData['metrics'] = {};
  const trend = (l: NonNullable<Summary['warmup']['latency_ms']>) => ({ min: l.min, avg: l.avg, med: l.p50, 'p(90)': l.p90, 'p(95)': l.p95, 'p(99)': l.p99, max: l.max });
  for (const r of s.levels) if (r.latency_ms) metrics[`http_req_duration{impl:${r.impl},level:${r.level},phase:measure}`] = { type: 'trend', values: trend(r.latency_ms) };
  if (s.warmup.latency_ms) metrics['http_req_duration{phase:warmup}'] = { type: 'trend', values: trend(s.warmup.latency_ms) };
  for (const [key, values] of Object.entries(s.metrics)) metrics[key] = { type: 'counter', values };
  // Today's script selects the measured figures on accepted answers (expected_response:true); every
  // request of the recorded run was accepted, so its measured sub-metrics are those.
  for (const [key, m] of Object.entries({ ...metrics })) {
    // (values only: the recorded thresholds stay on the selectors they were set on)
    if (/^http_req(s|_duration)\{.*phase:measure\}$/.test(key)) metrics[key.replace(/\}$/, ',expected_response:true}')] = { type: m.type, values: m.values };
  }
  for (const t of s.thresholds) {
    const m = (metrics[t.metric] ??= { type: 'rate', values: {} });
    m.thresholds = { ...m.thresholds, [t.expression]: { ok: t.ok } };
  }
  return { metrics, state: { testRunDurationMs: s.test_duration_s * 1000 } };
}

/** `v` cut down to the keys `like` has (recursively; arrays element by element). */
function projectOnto(v: unknown, like: unknown): unknown {
  if (Array.isArray(like) && Array.isArray(v)) return v.map((x, i) => projectOnto(x, like[i] ?? like[0]));
  if (like && typeof like === 'object' && v && typeof v === 'object' && !Array.isArray(like)) {
    return Object.fromEntries(Object.keys(like).filter((k) => k in (v as object)).map((k) => [k, projectOnto((v as Record<string, unknown>)[k], (like as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Every key path of a JSON value with its type (arrays by their first element). */
function shape(v: unknown, at = '$', out = new Map<string, string>()): Map<string, string> {
  const type = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  out.set(at, type);
  if (Array.isArray(v) && v.length > 0) shape(v[0], `${at}[]`, out);
  else if (type === 'object') for (const [k, x] of Object.entries(v as object)) shape(x, `${at}.${k}`, out);
  return out;
}

describe('results folder compatibility', () => {
  for (const impl of ['baseline', 'invalid']) {
    it(`${impl}.summary.json: rebuilt field for field by today's buildSummary`, () => {
      const recorded = read<Summary>(`${impl}.summary.json`);
      // The fixture run: make report LEVELS=1 DURATION=2s WARMUP=2 (one sweep level).
      const plan = planFor(recorded.scenario, { LEVELS: recorded.levels.map((l) => l.level).join(','), DURATION: `${recorded.levels[0]!.duration_s}s`, WARMUP: String(recorded.warmup.requests) });
      const rebuilt = buildSummary(k6DataOf(recorded), plan, recorded.impls);
      rebuilt.postprocess.push(...recorded.postprocess);
      const { metrics: rebuiltMetrics, ...rest } = rebuilt;
      const { metrics: recordedMetrics, ...recordedRest } = recorded;
      // Field for field: every recorded field is rebuilt with its value (today's may add fields, e.g. refused).
      assert.deepEqual(projectOnto(rest, recordedRest), recordedRest);
      for (const [key, values] of Object.entries(recordedMetrics)) assert.deepEqual(rebuiltMetrics[key], values, key);
      // The recorded run's two warm-up bounds (count>=0, max>=0) only expose sub-metrics: shown, not counted, no junit case.
      const verdicts = recorded.thresholds.filter((t) => !['count>=0', 'max>=0'].includes(t.expression));
      assert.equal(verdicts.length, recorded.thresholds.length - 2);
      assert.match(summaryText(rebuilt), new RegExp(`thresholds: ${verdicts.filter((t) => t.ok).length}/${verdicts.length} passed \\(2 informational sub-metrics not counted\\)`));
      assert.equal((junitXml(rebuilt).match(/<testcase /g) ?? []).length, verdicts.length + recorded.postprocess.length);
    });
  }

  it("env.json keeps every field of the recorded one, and its knob record names the run's knobs", () => {
    const recorded = read<Record<string, unknown>>('baseline.env.json');
    const knobs = recorded['knobs'] as Record<string, string>;
    const info = envInfo({ k6: '/nonexistent/k6', ep: 'cpu', serverVersion: 'x', k6Command: ['k6', 'run'], target: 'http://127.0.0.1:1', serverStarted: false, env: knobs }) as { knobs: Record<string, string>; command: { make: string } };
    const now = {
      ...info,
      scenario: 'sweep', impls: ['baseline'], server_ready_ms: null, // these three are added by tools/bench/run.ts
    };
    const want = shape(recorded);
    const got = shape(now);
    for (const [path, type] of want) {
      if (path.startsWith('$.knobs.')) continue; // checked by value below
      assert.ok(got.has(path), `env.json lost ${path}`);
      if (!['$.k6', '$.git.sha'].includes(path)) assert.equal(got.get(path), type, `${path} changed type`);
    }
    assert.deepEqual(now.knobs, knobs, 'the same knobs recorded from the same environment');
    assert.match(now.command.make, /^make bench SCENARIO=sweep IMPL=baseline .*LEVELS=1/);
  });
});

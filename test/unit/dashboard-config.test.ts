// The web dashboard's Streams tab (tools/bench/dashboard-config.ts): a section per implementation and
// stream, each series selecting exactly a sub-metric the thresholds declare (else k6's dashboard would
// have nothing to draw), inserted after k6's overview tab; our tab alone without k6's default config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BOUNDS, resolveBounds, selector, thresholdsFor } from '../../lib/bounds.ts';
import { planFor } from '../../lib/scenarios.ts';
import { streamsTab, subMetricQuery, writeDashboardConfig } from '../../tools/bench/dashboard-config.ts';

test('subMetricQuery: the first tag of the sorted selector is the key, the rest its value (as the dashboard parses names)', () => {
  assert.equal(subMetricQuery('http_req_duration', { phase: 'measure', level: 'd0', impl: 'concurrent', expected_response: 'true' }, ['med', 'p99']), "http_req_duration[?tags.expected_response=='true,impl:concurrent,level:d0,phase:measure' && (med || p99)]");
  assert.equal(subMetricQuery('output_match', { impl: 'x' }, ['rate']), "output_match[?tags.impl=='x' && (rate)]");
});

test('the Streams tab of a mix: a section per stream, every series a sub-metric the run declares a threshold for', () => {
  const plan = planFor('mix', { MIX: 'd0:4,d2:1', DURATION: '10s' });
  const tab = streamsTab(plan, ['concurrent']);
  assert.equal(tab.title, 'Streams');
  assert.deepEqual(tab.sections.map((s) => s.title), ['concurrent stream d0', 'concurrent stream d2']);
  // The in-run output checks' thresholds (lib/k6/output-check.ts outputThresholds, k6-side): match rate per impl, MSE per model.
  const outputs = [selector('output_match', { impl: 'concurrent' }), ...['d0', 'd1', 'd2'].map((model) => selector('output_boxes_mse', { impl: 'concurrent', model }))];
  const declared = new Set([...Object.keys(thresholdsFor(plan, [resolveBounds(DEFAULT_BOUNDS, plan, 'concurrent')])), ...outputs]);
  const asSelector = (q: string) => {
    const m = /^(\w+)\[\?tags\.(\w+)=='([^']*)' && /.exec(q)!;
    return `${m[1]}{${m[2]}:${m[3]}}`;
  };
  const queries = tab.sections.flatMap((s) => s.panels.flatMap((p) => p.series.map((x) => x.query)));
  assert.equal(queries.length, 2 * 6);
  for (const q of queries) assert.ok(declared.has(asSelector(q)), `${asSelector(q)} is not a declared sub-metric`);
  assert.equal(streamsTab(planFor('sweep', { LEVELS: '1,4' }), ['baseline']).title, 'Levels');
});

test('writeDashboardConfig: our tab after the overview of k6\'s own config; alone without it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-'));
  const plan = planFor('mix', { MIX: 'd1:2', DURATION: '5s' });
  const base = { title: 'k6', tabs: [{ id: 'tab-0', title: 'Overview', summary: '', sections: [] }, { id: 'tab-1', title: 'Timings', summary: '', sections: [] }] };
  const withBase = writeDashboardConfig(dir, plan, ['baseline'], base);
  assert.equal(withBase.withDefaults, true);
  assert.deepEqual((JSON.parse(readFileSync(withBase.path, 'utf8')) as typeof base).tabs.map((t) => t.title), ['Overview', 'Streams', 'Timings']);
  const alone = writeDashboardConfig(dir, plan, ['baseline'], null);
  assert.deepEqual([alone.withDefaults, (JSON.parse(readFileSync(alone.path, 'utf8')) as typeof base).tabs.map((t) => t.title)], [false, ['Streams']]);
});

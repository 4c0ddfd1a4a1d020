// The web dashboard's Streams tab (tools/bench/dashboard-config.ts): a section per stream, each series
// one of the dashboard's own sub-metrics (a metric split by one of DASHBOARD_TAGS, which the bench
// passes to k6 as K6_WEB_DASHBOARD_TAGS), inserted after k6's overview tab; our tab alone without k6's
// default configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFor } from '../../lib/scenarios.ts';
import { DASHBOARD_TAGS, streamsTab, subMetricQuery, writeDashboardConfig } from '../../tools/bench/dashboard-config.ts';

test('subMetricQuery: a metric split by one dashboard tag, refused for a tag the dashboard does not split by', () => {
  assert.equal(subMetricQuery('http_req_duration', 'model', 'd0', ['med', 'p99']), "http_req_duration[?tags.model=='d0' && (med || p99)]");
  assert.throws(() => subMetricQuery('http_reqs', 'impl', 'x', ['rate']), /splits metrics by group, level, model only, not impl/);
});

test('the Streams tab of a mix: a section per stream by its model tag, output checks per model; Levels elsewhere, by level', () => {
  const tab = streamsTab(planFor('mix', { MIX: 'd0:4,d2:1', DURATION: '10s' }));
  assert.equal(tab.title, 'Streams');
  assert.deepEqual(tab.sections.map((s) => s.title), ['stream d0', 'stream d2']);
  const queries = tab.sections.flatMap((s) => s.panels.flatMap((p) => p.series.map((x) => x.query)));
  assert.equal(queries.length, 2 * 6);
  for (const q of queries) {
    const m = /^(\w+)\[\?tags\.(\w+)=='(d[02])' && \(/.exec(q);
    assert.ok(m && DASHBOARD_TAGS.includes(m[2]!), q);
  }
  assert.ok(queries.includes("output_boxes_mse[?tags.model=='d2' && (max)]"));
  const sweep = streamsTab(planFor('sweep', { LEVELS: '1,4' }));
  assert.equal(sweep.title, 'Levels');
  assert.deepEqual(sweep.sections[1]!.panels[1]!.series[0]!.query, "http_req_duration[?tags.level=='4' && (med || p99)]");
});

test('writeDashboardConfig: our tab after the overview of k6\'s own config; alone without it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-'));
  const plan = planFor('mix', { MIX: 'd1:2', DURATION: '5s' });
  const base = { title: 'k6', tabs: [{ id: 'tab-0', title: 'Overview', summary: '', sections: [] }, { id: 'tab-1', title: 'Timings', summary: '', sections: [] }] };
  const withBase = writeDashboardConfig(dir, plan, base);
  assert.equal(withBase.withDefaults, true);
  assert.deepEqual((JSON.parse(readFileSync(withBase.path, 'utf8')) as typeof base).tabs.map((t) => t.title), ['Overview', 'Streams', 'Timings']);
  const alone = writeDashboardConfig(dir, plan, null);
  assert.deepEqual([alone.withDefaults, (JSON.parse(readFileSync(alone.path, 'utf8')) as typeof base).tabs.map((t) => t.title)], [false, ['Streams']]);
});

// k6's web dashboard with a tab of our own: per stream (a mix's model; any plan's level) the accepted
// request rate, the median and p99 of accepted requests, the refused and failed shares and the in-run
// output checks, over time. k6 (v2.2) replaces its whole UI configuration with the JSON file named by
// XK6_DASHBOARD_CONFIG, so the file is k6's own default configuration (read from the pinned
// xk6-dashboard-assets module k6 was built with) with our tab inserted after the overview; without
// that module (a k6 built elsewhere) the file holds our tab alone. The HTML export keeps it.
//
// The dashboard parses a sub-metric's name `m{k1:v1,k2:v2}` into one tag: k1 -> "v1,k2:v2", so a
// series selects `m[?tags.k1=='v1,k2:v2' && agg]`, built here from the thresholds' own selectors
// (lib/bounds.ts selector): a panel shows exactly the sub-metric a threshold judges.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selector } from '../../lib/bounds.ts';
import type { Plan } from '../../lib/scenarios.ts';

interface Series {
  query: string;
  legend?: string;
}
interface Panel {
  id: string;
  title: string;
  kind: 'chart';
  summary: string;
  series: Series[];
}
interface Section {
  id: string;
  title: string;
  summary?: string;
  panels: Panel[];
}
export interface Tab {
  id: string;
  title: string;
  summary: string;
  sections: Section[];
}
export interface DashboardConfig {
  title: string;
  tabs: Tab[];
}

/** The dashboard's query of one sub-metric (as a threshold names it) and the aggregates to draw. */
export function subMetricQuery(metric: string, tags: Record<string, string>, aggregates: string[]): string {
  const name = selector(metric, tags);
  const at = name.indexOf('{');
  const inner = name.slice(at + 1, -1);
  const colon = inner.indexOf(':');
  const key = inner.slice(0, colon);
  const value = inner.slice(colon + 1);
  return `${metric}[?tags.${key}=='${value}' && (${aggregates.join(' || ')})]`;
}

/** Our tab: a section per implementation and level (a mix: per model's stream). */
export function streamsTab(plan: Pick<Plan, 'kind' | 'levels'>, impls: readonly string[]): Tab {
  const title = plan.kind === 'mix' ? 'Streams' : 'Levels';
  const sections: Section[] = [];
  for (const impl of impls) {
    for (const level of plan.levels) {
      const id = `streams.${impl}.${level.tag}`;
      const tags = { impl, level: level.tag, phase: 'measure' };
      const accepted = { ...tags, expected_response: 'true' };
      const panels: Panel[] = [
        { id: `${id}.rate`, title: 'Accepted requests/s', kind: 'chart', summary: 'Accepted (2xx) measured requests per second of this stream.', series: [{ query: subMetricQuery('http_reqs', accepted, ['rate']), legend: 'accepted/s' }] },
        { id: `${id}.latency`, title: 'Latency of accepted requests', kind: 'chart', summary: 'Median and p99 of the accepted requests, per period.', series: [{ query: subMetricQuery('http_req_duration', accepted, ['med', 'p99']) }] },
        {
          id: `${id}.lost`, title: 'Refused and failed', kind: 'chart', summary: 'Share of the measured requests refused (503) and failed otherwise.',
          series: [{ query: subMetricQuery('requests_refused', tags, ['rate']), legend: 'refused' }, { query: subMetricQuery('requests_failed', tags, ['rate']), legend: 'failed' }],
        },
        {
          id: `${id}.outputs`, title: 'Output checks', kind: 'chart', summary: "Share of answers whose outputs matched the reference (in-run checks; empty without REFERENCE), and this model's worst box MSE.",
          series: [{ query: subMetricQuery('output_match', { impl }, ['rate']), legend: 'outputs matched' }, ...(level.models?.length === 1 ? [{ query: subMetricQuery('output_boxes_mse', { impl, model: level.models[0]! }, ['max']), legend: `${level.models[0]} boxes MSE max` }] : [])],
        },
      ];
      sections.push({ id, title: `${impl} ${plan.kind === 'mix' ? `stream ${level.tag}` : `level ${level.tag}`}`, panels });
    }
  }
  return { id: 'streams', title, summary: `Per ${plan.kind === 'mix' ? 'stream (model)' : 'level'}: rate, latency, refused and failed, output checks`, sections };
}

/** k6's default dashboard configuration, from the xk6-dashboard-assets module of the pinned k6 build; null without it. */
export function defaultDashboardConfig(goModuleDir = 'tools/go/k6'): DashboardConfig | null {
  try {
    const dir = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/grafana/xk6-dashboard-assets'], { cwd: goModuleDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, GOFLAGS: '-mod=mod' } }).trim();
    const file = join(dir, 'packages', 'config', 'dist', 'config.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DashboardConfig) : null;
  } catch {
    return null;
  }
}

/** Writes the configuration with our tab (after k6's first, the overview) and returns its path and whether k6's own tabs are in it. */
export function writeDashboardConfig(runDir: string, plan: Pick<Plan, 'kind' | 'levels'>, impls: readonly string[], base: DashboardConfig | null = defaultDashboardConfig()): { path: string; withDefaults: boolean } {
  const ours = streamsTab(plan, impls);
  const tabs = base ? [...base.tabs.slice(0, 1), ours, ...base.tabs.slice(1)] : [ours];
  const path = join(runDir, 'dashboard-config.json');
  writeFileSync(path, JSON.stringify({ title: base?.title ?? 'k6 web dashboard', tabs }, null, 2) + '\n');
  return { path, withDefaults: base !== null };
}

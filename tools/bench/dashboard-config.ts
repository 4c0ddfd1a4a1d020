// k6's web dashboard with a tab of our own: per stream (a mix's model; any plan's level) the accepted
// request rate, the median and p99 of accepted requests, the refused and failed shares and the in-run
// output checks, over time. k6 (v2.2) replaces its whole UI configuration with the JSON file named by
// XK6_DASHBOARD_CONFIG, so the file is k6's own default configuration (read from the pinned
// xk6-dashboard-assets module k6 was built with) with our tab inserted after the overview; without
// that module (a k6 built elsewhere) the file holds our tab alone. The HTML export keeps it.
//
// The dashboard keeps its own sub-metrics, one per value of each tag named in K6_WEB_DASHBOARD_TAGS
// (k6's default: group), not the thresholds' multi-tag ones: DASHBOARD_TAGS adds `level` and `model`,
// so a series selects `m[?tags.model=='d0' && agg]`. One tag at a time: a stream's figures there are
// all its requests (warm-up ones carry another level; refused ones are in the latency too), the
// verdicts stay with summary.txt.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../lib/scenarios.ts';

/** K6_WEB_DASHBOARD_TAGS: the tags the dashboard splits every metric by (k6's default is group). */
export const DASHBOARD_TAGS = ['group', 'level', 'model'];

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

/** The dashboard's query of one of its own sub-metrics (metric split by one tag) and the aggregates to draw. */
export function subMetricQuery(metric: string, tag: string, value: string, aggregates: string[]): string {
  if (!DASHBOARD_TAGS.includes(tag)) throw new Error(`the dashboard splits metrics by ${DASHBOARD_TAGS.join(', ')} only, not ${tag}`);
  return `${metric}[?tags.${tag}=='${value}' && (${aggregates.join(' || ')})]`;
}

/** Our tab: a section per level (a mix: per model's stream, by its `model` tag). */
export function streamsTab(plan: Pick<Plan, 'kind' | 'levels'>): Tab {
  const mix = plan.kind === 'mix';
  const sections: Section[] = plan.levels.map((level) => {
    const id = `streams.${level.tag}`;
    // A stream's requests carry its model; other plans' requests their level.
    const [tag, value] = mix ? ['model', level.models!.join('+')] : ['level', level.tag];
    const q = (metric: string, aggregates: string[]) => subMetricQuery(metric, tag, value, aggregates);
    const model = level.models?.length === 1 ? level.models[0]! : undefined;
    const panels: Panel[] = [
      { id: `${id}.rate`, title: 'Requests/s', kind: 'chart', summary: 'Requests per second of this stream, accepted or not (summary.txt counts the accepted).', series: [{ query: q('http_reqs', ['rate']), legend: 'requests/s' }] },
      { id: `${id}.latency`, title: 'Latency', kind: 'chart', summary: "Median and p99 of this stream's requests, per period.", series: [{ query: q('http_req_duration', ['med', 'p99']) }] },
      { id: `${id}.lost`, title: 'Refused and failed', kind: 'chart', summary: 'Share of the requests refused (503) and failed otherwise.', series: [{ query: q('requests_refused', ['rate']), legend: 'refused' }, { query: q('requests_failed', ['rate']), legend: 'failed' }] },
      ...(model
        ? [{ id: `${id}.outputs`, title: 'Output checks', kind: 'chart' as const, summary: "Share of this model's answers that matched the reference (in-run checks; empty without REFERENCE), and its worst box MSE.", series: [{ query: subMetricQuery('output_match', 'model', model, ['rate']), legend: 'outputs matched' }, { query: subMetricQuery('output_boxes_mse', 'model', model, ['max']), legend: 'boxes MSE max' }] }]
        : []),
    ];
    return { id, title: mix ? `stream ${level.tag}` : `level ${level.tag}`, panels };
  });
  return { id: 'streams', title: mix ? 'Streams' : 'Levels', summary: `Per ${mix ? 'stream (model)' : 'level'}: rate, latency, refused and failed${mix ? ', output checks' : ''}`, sections };
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
export function writeDashboardConfig(runDir: string, plan: Pick<Plan, 'kind' | 'levels'>, base: DashboardConfig | null = defaultDashboardConfig()): { path: string; withDefaults: boolean } {
  const ours = streamsTab(plan);
  const tabs = base ? [...base.tabs.slice(0, 1), ours, ...base.tabs.slice(1)] : [ours];
  const path = join(runDir, 'dashboard-config.json');
  writeFileSync(path, JSON.stringify({ title: base?.title ?? 'k6 web dashboard', tabs }, null, 2) + '\n');
  return { path, withDefaults: base !== null };
}

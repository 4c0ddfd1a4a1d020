// `make region`: the capacity region of each row (our implementations, peers) under per-model SLOs.
// For each mix direction (REGION_DIRECTIONS: each model alone, balanced, skewed), the highest total
// rate at which every model stays within its REGION_SLO bound (tools/region/search.ts), probe by probe
// (tools/region/probe.ts: a SCENARIO=mix bench run each). Writes region.json (the frontier and every
// probe), region.txt and region.svg (the frontier in the plane of two models' rates). Exit 0 when every
// search ended (within the budget or not: region.json says how each ended).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import type { MixStream } from '../../lib/scenarios.ts';
import type { ModelName } from '../../lib/model-contract.ts';
import { BenchError, note } from '../common/progress.ts';
import { renderSvg } from '../report/charts.ts';
import { regionConfig, type RegionConfig } from './config.ts';
import { runProbe, writeSloFile, type ProbeResult } from './probe.ts';
import { mixText, searchDirection, splitRate, type DirectionResult } from './search.ts';
import { forEachRow } from './rows.ts';
import { regionChartSpec, type FrontierPoint } from './chart.ts';
import { budget, toolDir } from './output.ts';

export interface RegionDirection extends DirectionResult {
  direction: string;
  /** Each model's rate at the frontier (the highest total rate that passed). */
  frontier: MixStream[];
  probes: ProbeResult[];
}

export interface RegionReport {
  created: string;
  host: { cpu: string; cores: number };
  config: { directions: string[]; slo: Partial<Record<ModelName, number>>; duration_s: number; start: number; max: number; precision: number; budget_s: number };
  rows: { row: string; stack: string; directions: RegionDirection[] }[];
  /** Rows that could not start, and why (the others were measured). */
  failed: { row: string; why: string }[];
  elapsed_s: number;
}

const ENDS: Record<DirectionResult['end'], string> = { bracketed: '', max: ' (every rate up to REGION_MAX passed)', min: ' (none passed down to the lowest rate)', budget: ' (REGION_BUDGET spent)' };

export function regionTable(r: RegionReport): string {
  const lines = [`capacity region ${r.created}: highest total req/s with every model within its p99 bound (${Object.entries(r.config.slo).map(([m, v]) => `${m} ${v} ms`).join(', ')}), probes of ${r.config.duration_s} s, bracketed within ${r.config.precision * 100}%`];
  lines.push(['row', 'direction', 'frontier req/s', 'per model at the frontier', 'first over', 'probes'].join(' | '));
  for (const row of r.rows) {
    for (const d of row.directions) {
      const over = d.steps.find((s) => !s.pass && s.total_rps === d.hi);
      lines.push([row.row, d.direction, `${d.lo} .. ${d.hi ?? '>'}${ENDS[d.end]}`, d.lo > 0 ? mixText(d.frontier) : '-', over ? `${over.total_rps}: ${over.why}` : '-', String(d.steps.length)].join(' | '));
    }
  }
  for (const f of r.failed) lines.push(`${f.row}: not measured: ${f.why}`);
  return lines.join('\n') + '\n';
}

/** The two models whose plane the chart draws: the first two the directions name. */
function chartAxes(directions: MixStream[][]): [ModelName, ModelName] | null {
  const named = [...new Set(directions.flat().map((s) => s.model))];
  return named.length >= 2 ? [named[0]!, named[1]!] : null;
}

export async function regionSvg(r: RegionReport, directions: MixStream[][]): Promise<string | null> {
  const axes = chartAxes(directions);
  if (!axes) return null;
  const points: FrontierPoint[] = [];
  for (const row of r.rows) {
    for (const d of row.directions) {
      if (d.lo <= 0) continue;
      const at = (m: ModelName) => d.frontier.find((s) => s.model === m)?.value ?? 0;
      points.push({ row: row.row, direction: d.direction, x: at(axes[0]), y: at(axes[1]), order: Math.atan2(at(axes[1]), at(axes[0])) });
    }
  }
  const others = [...new Set(directions.flat().map((s) => s.model))].filter((m) => !axes.includes(m));
  const title = `Capacity region: ${axes[0]} and ${axes[1]} req/s within every p99 bound${others.length ? ` (${others.join(', ')} not drawn)` : ''}`;
  return renderSvg(regionChartSpec(points, axes, r.rows.map((x) => x.row), title));
}

export async function makeRegion(env: NodeJS.ProcessEnv = process.env, cfg: RegionConfig = regionConfig(env)): Promise<{ dir: string; report: RegionReport }> {
  const out = toolDir(cfg.resultsRoot, 'region');
  const clock = budget(cfg.budget_s);
  const sloFile = writeSloFile(out.dir, cfg.slo);
  const texts = cfg.directions.map(mixText);
  note(`region: rows ${cfg.impls.join(', ')}${env['PEERS'] ? ` + PEERS=${env['PEERS']}` : ''}; directions ${texts.join('; ')}; probes of ${cfg.duration_s} s from ${cfg.start} req/s, budget ${Math.round(cfg.budget_s)} s -> ${out.dir}`);
  const report: RegionReport = {
    created: new Date().toISOString(),
    host: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    config: { directions: texts, slo: cfg.slo, duration_s: cfg.duration_s, start: cfg.start, max: cfg.max, precision: cfg.precision, budget_s: cfg.budget_s },
    rows: [],
    failed: [],
    elapsed_s: 0,
  };
  let probeNo = 0;
  // Written after every row, so a later failure keeps what was measured.
  const save = async (): Promise<string> => {
    report.elapsed_s = Math.round(clock.elapsed_s());
    writeFileSync(join(out.dir, 'region.json'), JSON.stringify(report, null, 2) + '\n');
    const table = regionTable(report);
    writeFileSync(join(out.dir, 'region.txt'), table);
    const svg = await regionSvg(report, cfg.directions);
    if (svg) writeFileSync(join(out.dir, 'region.svg'), svg);
    out.link();
    return table;
  };
  await forEachRow(cfg.impls, out.dir, env, async (row) => {
    const directions: RegionDirection[] = [];
    for (const [i, direction] of cfg.directions.entries()) {
      const probes: ProbeResult[] = [];
      const result = await searchDirection(
        async (total) => {
          const streams = splitRate(direction, total);
          const p = await runProbe({ streams, rowEnv: row.env, slo: cfg.slo, sloFile, duration_s: cfg.duration_s, warmup: cfg.warmup, resultsRoot: join(out.dir, 'probes', row.row, `direction-${i}`) });
          probes.push(p);
          note(`region: probe ${++probeNo} ${row.row} ${texts[i]} at ${+total.toFixed(3)} req/s (${p.mix}): ${p.pass ? 'within' : `over: ${p.why}`} [${clock.text()}]`);
          return p;
        },
        { start: cfg.start, max: cfg.max, min: cfg.start / 16, precision: cfg.precision, withinBudget: clock.left },
      );
      directions.push({ ...result, direction: texts[i]!, frontier: result.lo > 0 ? splitRate(direction, result.lo) : [], probes });
      note(`region: ${row.row} ${texts[i]}: frontier ${result.lo} .. ${result.hi ?? '>'} req/s${ENDS[result.end]}`);
    }
    report.rows.push({ row: row.row, stack: row.stack, directions });
    await save();
  }, (row, why) => {
    report.failed.push({ row, why });
    note(`region: row ${row} not measured: ${why}`);
  });
  const table = await save();
  console.log(`\n${table}`);
  note(`region: results in ${out.dir} (region.json, region.txt, region.svg; probes/ holds every run) after ${report.elapsed_s} s`);
  return { dir: out.dir, report };
}

/** Exit 1 when a row could not be measured (region.json says which and why), else 0. */
if (isMain(import.meta.url)) runMain('region', async () => ((await makeRegion()).report.failed.length > 0 ? 1 : 0), { expected: [BenchError] });

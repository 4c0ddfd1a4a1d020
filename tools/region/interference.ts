// `make interference`: which model hurts which. For each row and each ordered pair of
// INTERFERENCE_MODELS (victim, aggressor), the victim runs at a light fixed rate (INTERFERENCE_LIGHT)
// while the aggressor's rate grows through INTERFERENCE_RATES (to saturation); the victim's p99 at each
// step over its p99 alone. Writes interference.json, interference.txt and interference.svg (the heat
// map: the ratio at the aggressor's highest rate). Each step is a SCENARIO=mix probe (probe.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import type { ModelName } from '../../lib/model-contract.ts';
import { BenchError, note } from '../common/progress.ts';
import { renderSvg } from '../report/charts.ts';
import { regionConfig, type RegionConfig } from './config.ts';
import { runProbe, writeSloFile, type StreamFigures } from './probe.ts';
import { forEachRow } from './rows.ts';
import { heatmapSpec, type HeatCell } from './chart.ts';
import { budget, toolDir } from './output.ts';

export interface InterferenceStep {
  aggressor_rps: number;
  victim: StreamFigures;
  aggressor: StreamFigures;
  /** Victim p99 over its p99 alone (null: either has no p99). */
  p99_ratio: number | null;
  runDir: string;
}

export interface InterferencePair {
  victim: ModelName;
  aggressor: ModelName;
  alone: StreamFigures;
  steps: InterferenceStep[];
}

export interface InterferenceReport {
  created: string;
  host: { cpu: string; cores: number };
  config: { models: ModelName[]; light_rps: number; rates: number[]; duration_s: number; budget_s: number };
  rows: { row: string; stack: string; pairs: InterferencePair[]; skipped: string[] }[];
  /** Rows that could not start, and why (the others were measured). */
  failed: { row: string; why: string }[];
  elapsed_s: number;
}

const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 100) / 100 : null);
const ms = (x: number | null): string => (x === null ? 'n/a' : `${Math.round(x)}`);

export function interferenceTable(r: InterferenceReport): string {
  const lines = [`interference ${r.created}: victim at ${r.config.light_rps} req/s, aggressor at ${r.config.rates.join(', ')} req/s; victim p99 ms (x its p99 alone), probes of ${r.config.duration_s} s`];
  lines.push(['row', 'victim', 'alone p99', ...r.config.rates.map((x) => `aggressor @${x}`)].join(' | '));
  for (const row of r.rows) {
    for (const p of row.pairs) {
      lines.push([row.row, `${p.victim} vs ${p.aggressor}`, ms(p.alone.p99_ms), ...r.config.rates.map((x) => {
        const s = p.steps.find((t) => t.aggressor_rps === x);
        return s ? `${ms(s.victim.p99_ms)} (${s.p99_ratio ?? 'n/a'}x; ${p.aggressor} ${s.aggressor.rps.toFixed(1)}/s${s.aggressor.within ? '' : ' over'})` : 'not run';
      })].join(' | '));
    }
    for (const s of row.skipped) lines.push(`${row.row}: ${s}`);
  }
  for (const f of r.failed) lines.push(`${f.row}: not measured: ${f.why}`);
  return lines.join('\n') + '\n';
}

export function heatCells(r: InterferenceReport): (HeatCell & { row: string })[] {
  return r.rows.flatMap((row) => row.pairs.map((p) => ({ row: row.row, victim: p.victim, aggressor: p.aggressor, ratio: p.steps.length > 0 ? p.steps[p.steps.length - 1]!.p99_ratio : null })));
}

export async function makeInterference(env: NodeJS.ProcessEnv = process.env, cfg: RegionConfig = regionConfig(env, 'interference')): Promise<{ dir: string; report: InterferenceReport }> {
  const out = toolDir(cfg.resultsRoot, 'interference');
  const clock = budget(cfg.budget_s);
  const sloFile = writeSloFile(out.dir, cfg.slo);
  note(`interference: rows ${cfg.impls.join(', ')}${env['PEERS'] ? ` + PEERS=${env['PEERS']}` : ''}; models ${cfg.models.join(', ')}; victim at ${cfg.light} req/s, aggressor at ${cfg.rates.join(', ')} req/s; budget ${Math.round(cfg.budget_s)} s -> ${out.dir}`);
  const report: InterferenceReport = {
    created: new Date().toISOString(),
    host: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    config: { models: cfg.models, light_rps: cfg.light, rates: cfg.rates, duration_s: cfg.duration_s, budget_s: cfg.budget_s },
    rows: [],
    failed: [],
    elapsed_s: 0,
  };
  let n = 0;
  // Written after every row, so a later failure keeps what was measured.
  const save = async (): Promise<string> => {
    report.elapsed_s = Math.round(clock.elapsed_s());
    writeFileSync(join(out.dir, 'interference.json'), JSON.stringify(report, null, 2) + '\n');
    const table = interferenceTable(report);
    writeFileSync(join(out.dir, 'interference.txt'), table);
    writeFileSync(join(out.dir, 'interference.svg'), await renderSvg(heatmapSpec(heatCells(report), `Interference: victim p99 beside the aggressor at ${cfg.rates[cfg.rates.length - 1]} req/s, over its p99 alone`)));
    out.link();
    return table;
  };
  await forEachRow(cfg.impls, out.dir, env, async (row) => {
    const pairs: InterferencePair[] = [];
    const skipped: string[] = [];
    const probe = (streams: { model: ModelName; value: number }[], name: string) =>
      runProbe({ streams, rowEnv: row.env, slo: cfg.slo, sloFile, duration_s: cfg.duration_s, warmup: cfg.warmup, resultsRoot: join(out.dir, 'probes', row.row, name) });
    for (const victim of cfg.models) {
      if (!clock.left()) {
        skipped.push(`victim ${victim}: not run (REGION_BUDGET spent)`);
        continue;
      }
      const alone = await probe([{ model: victim, value: cfg.light }], `${victim}-alone`);
      const a = alone.streams[0]!;
      note(`interference: probe ${++n} ${row.row} ${victim} alone at ${cfg.light} req/s: p99 ${ms(a.p99_ms)} ms [${clock.text()}]`);
      for (const aggressor of cfg.models.filter((m) => m !== victim)) {
        const steps: InterferenceStep[] = [];
        for (const rate of cfg.rates) {
          if (!clock.left()) {
            skipped.push(`${victim} vs ${aggressor} at ${rate} req/s and up: not run (REGION_BUDGET spent)`);
            break;
          }
          const p = await probe([{ model: victim, value: cfg.light }, { model: aggressor, value: rate }], `${victim}-vs-${aggressor}-${rate}`);
          const v = p.streams.find((s) => s.model === victim)!;
          const g = p.streams.find((s) => s.model === aggressor)!;
          steps.push({ aggressor_rps: rate, victim: v, aggressor: g, p99_ratio: ratio(v.p99_ms, a.p99_ms), runDir: p.runDir });
          note(`interference: probe ${++n} ${row.row} ${victim} beside ${aggressor} at ${rate} req/s: ${victim} p99 ${ms(v.p99_ms)} ms (${ratio(v.p99_ms, a.p99_ms) ?? 'n/a'}x alone), ${aggressor} ${g.rps.toFixed(1)} req/s [${clock.text()}]`);
        }
        pairs.push({ victim, aggressor, alone: a, steps });
      }
    }
    report.rows.push({ row: row.row, stack: row.stack, pairs, skipped });
    await save();
  }, (row, why) => {
    report.failed.push({ row, why });
    note(`interference: row ${row} not measured: ${why}`);
  });
  const table = await save();
  console.log(`\n${table}`);
  note(`interference: results in ${out.dir} (interference.json, .txt, .svg; probes/ holds every run) after ${report.elapsed_s} s`);
  return { dir: out.dir, report };
}

/** Exit 1 when a row could not be measured (interference.json says which and why), else 0. */
if (isMain(import.meta.url)) runMain('interference', async () => ((await makeInterference()).report.failed.length > 0 ? 1 : 0), { expected: [BenchError] });

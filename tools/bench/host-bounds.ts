// `make host-bounds`: measures this host's bounds with the sweep scenario - baseline (the upper bound
// every implementation must beat) and invalid (the lower bound: HTTP, decoding, serialisation, no
// model) at each concurrency level - and writes results/host-bounds.json (HOST_BOUNDS_FILE), which
// lib/bounds.ts turns into per-level thresholds for later runs. ("Calibration" is the int8 step's word.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import type { HostBounds, LevelStats } from '../../lib/bounds.ts';
import { readKnob } from '../../lib/knobs.ts';
import { CONCURRENCY_LEVELS, SCENARIO_KNOBS } from '../../lib/scenarios.ts';
import { textTable } from '../../lib/text-table.ts';
import { benchConfig } from './config.ts';
import { BenchError, note } from '../common/progress.ts';
import { runBench } from './run.ts';
import { getJson } from '../../lib/node/server-api.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';

const HOST_BOUNDS_IMPLS = ['baseline', 'invalid'] as const;

export async function measureHostBounds(env: NodeJS.ProcessEnv = process.env): Promise<HostBounds> {
  // The sweep's LEVELS knob, with every closed-loop level as the default here.
  const levels = readKnob(SCENARIO_KNOBS.levels, env, {}, [...CONCURRENCY_LEVELS]).join(',');
  const base = benchConfig({ ...env, SCENARIO: 'sweep' });
  const out: HostBounds = {
    version: 1,
    created: new Date().toISOString(),
    host: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, ep: base.server.ep },
    duration_s: 0,
    levels: {},
  };
  for (const impl of HOST_BOUNDS_IMPLS) {
    note(`host-bounds: sweep over ${levels} on ${impl}`);
    // Old host bounds must not bound the new ones; accuracy is not a timing question.
    const result = await runBench({ ...base, impl, useHostBounds: false, accuracy: false }, { LEVELS: levels });
    if (!result.summary) throw new BenchError(`host-bounds: the ${impl} sweep wrote no summary (k6 exit ${result.k6Code}); see ${result.runDir}`);
    if (result.exitCode !== 0) note(`host-bounds: ${impl} sweep broke an SLO default (exit ${result.exitCode}); its figures are recorded anyway`);
    for (const row of result.summary.levels) {
      if (!row.latency_ms || row.requests === 0) throw new BenchError(`host-bounds: ${impl} level ${row.level} has no measured requests; raise DURATION`);
      const stats: LevelStats = { p50_ms: row.latency_ms.p50, p99_ms: row.latency_ms.p99, rps: row.rps, requests: row.requests };
      (out.levels[row.level] ??= {})[impl] = stats;
      out.duration_s = row.duration_s;
    }
    if (base.target) out.host.ep = (await getJson<{ ep: string }>(`${base.target}/health`)).ep;
  }
  mkdirSync(dirname(base.hostBoundsFile), { recursive: true });
  writeFileSync(base.hostBoundsFile, JSON.stringify(out, null, 2) + '\n');
  note(`host bounds written to ${base.hostBoundsFile}`);
  console.log(hostBoundsTable(out));
  return out;
}

function hostBoundsTable(c: HostBounds): string {
  const rows = [['level', 'impl', 'req/s', 'p50 ms', 'p99 ms', 'requests']];
  for (const [level, byImpl] of Object.entries(c.levels).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    for (const [impl, s] of Object.entries(byImpl)) rows.push([level, impl, String(s.rps), String(s.p50_ms), String(s.p99_ms), String(s.requests)]);
  }
  return textTable(rows, 'rl').join('\n');
}

if (isMain(import.meta.url)) runMain('host-bounds', async () => void (await measureHostBounds()), { expected: [BenchError] });

// `make report PEERS=triton`: peer servers measured beside ours in the same rounds. A peer is a
// set of rows (Triton: one per model set), each a running server the report starts, benches over
// the Open Inference Protocol and stops. Also the CPU time of every server process tree during
// each run, from /proc: an idle server must take none while another one is measured.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knob, list, oneOf, readKnob, readKnobs } from '../../lib/knobs.ts';
import { V2_KNOBS } from '../../lib/v2/config.ts';
import { readTritonEnv, startTriton, stopTriton, TRITON_MODEL_SETS, type StartedTriton, type TritonModelSet } from '../../peers/triton/driver.ts';
import { treeCpuSeconds } from '../../lib/node/proc-cpu.ts';

export const PEER_NAMES = ['triton'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/** One report row served by a peer. */
export interface PeerRow {
  /** The row's name in the report (and the bench's IMPL label), e.g. triton-instances. */
  row: string;
  peer: PeerName;
  url: string;
  metricsUrl: string;
  /** Root of the server's process tree (for its CPU time). */
  pid: number;
  /** The server's stack and versions, in words. */
  stack: string;
  stop(): Promise<void>;
}

/** PEERS: empty (ours only) or a comma list of PEER_NAMES; TRITON_MODEL_SETS: which Triton rows. */
export const PEERS_KNOBS = {
  peers: knob<PeerName[]>({ env: 'PEERS', tier: 'expert', default: [], defaultText: '-', ...list(oneOf(PEER_NAMES), `a comma list of ${PEER_NAMES.join(', ')}`), doc: '`triton`: add the Triton peer\'s rows, interleaved in the same rounds' }),
  tritonSets: knob<TritonModelSet[]>({ env: 'TRITON_MODEL_SETS', tier: 'expert', default: [...TRITON_MODEL_SETS], ...list(oneOf(TRITON_MODEL_SETS), `a comma list of ${TRITON_MODEL_SETS.join(', ')}`), doc: 'which Triton model sets become rows (`triton-instances`, `triton-dynamic`)' }),
};

export function peersConfig(env: NodeJS.ProcessEnv): { peers: PeerName[]; tritonSets: TritonModelSet[] } {
  return readKnobs(PEERS_KNOBS, env);
}

export const tritonRow = (set: TritonModelSet): string => `triton-${set}`;

function tritonStack(set: TritonModelSet): string {
  const e = readTritonEnv();
  const v = e?.versions ?? {};
  const config = set === 'dynamic' ? 'dynamic batcher' : 'instance groups, no batching';
  return `Triton Inference Server 2.51.0 (tritonserver of nvidia-pytriton ${v['nvidia-pytriton'] ?? '?'}), Python backend (Python ${e?.python_version ?? '?'}) running onnxruntime ${v['onnxruntime'] ?? '?'} CPU; model set ${set} (${config}; peers/triton/serve.py)`;
}

/** Starts every peer row (all at once: they idle while others are measured); stops them all if one fails. */
export async function startPeers(cfg: ReturnType<typeof peersConfig>, logsDir: string, readyTimeout_s: number, say: (line: string) => void): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  try {
    for (const peer of cfg.peers) {
      for (const set of cfg.tritonSets) {
        const t0 = performance.now();
        const triton: StartedTriton = await startTriton({ modelSet: set, logFile: join(logsDir, `${tritonRow(set)}.log`), readyTimeout_s });
        say(`peer ${tritonRow(set)} ${triton.url} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (metrics ${triton.metricsUrl}, log ${triton.logFile})`);
        rows.push({ row: tritonRow(set), peer, url: triton.url, metricsUrl: triton.metricsUrl, pid: triton.pid, stack: tritonStack(set), stop: async () => void (await stopTriton(triton)) });
      }
    }
    return rows;
  } catch (e) {
    await stopPeers(rows);
    throw e;
  }
}

export async function stopPeers(rows: PeerRow[]): Promise<void> {
  for (const r of rows) await r.stop();
}

/**
 * What a bench run of a peer row needs: the peer as TARGET over v2 (per-model tensors, the same
 * bytes our v2 models take), its metrics endpoint, the row's label as IMPL and the version to ask.
 */
export function peerBenchEnv(row: PeerRow, env: NodeJS.ProcessEnv): Record<string, string> {
  // Triton's version numbers are integers: version 1 of each model; IMPL stays the row's label.
  return { TARGET: row.url, TARGET_METRICS: row.metricsUrl, PROTOCOL: 'v2', V2_MODELS: peerV2Models(env), IMPL: row.row, V2_VERSION: '1' };
}

/** The per-model v2 models a peer row is measured on: V2_MODELS's list, else all three (a peer has no pipeline model). */
export function peerV2Models(env: NodeJS.ProcessEnv): string {
  const v2 = readKnob(V2_KNOBS.v2Models, env);
  return v2.kind === 'models' ? v2.models.join(',') : 'd0,d1,d2';
}

export const SERVERS_CPU_FILE = 'servers-cpu.json';

/** CPU seconds each long-lived server tree used during one run (ours as `ours`, peers by row). */
export interface ServersCpu {
  wall_s: number;
  cpu_s: Record<string, number>;
}

/** Runs `fn` (one bench run) and books each server tree's CPU time across it into the run folder
 * (servers-cpu.json) and the returned record. */
export async function withServersCpu<T extends { dir: string; serversCpu?: ServersCpu }>(servers: Record<string, number>, fn: () => Promise<T | null>): Promise<T | null> {
  const sample = () => Object.fromEntries(Object.entries(servers).map(([name, pid]) => [name, treeCpuSeconds(pid)]));
  const before = sample();
  const t0 = performance.now();
  const out = await fn();
  const after = sample();
  if (!out || Object.keys(servers).length === 0) return out;
  const cpu: ServersCpu = { wall_s: Math.round((performance.now() - t0) / 100) / 10, cpu_s: Object.fromEntries(Object.keys(servers).map((k) => [k, Math.round((after[k]! - before[k]!) * 100) / 100])) };
  writeFileSync(join(out.dir, SERVERS_CPU_FILE), JSON.stringify(cpu, null, 2) + '\n');
  return { ...out, serversCpu: cpu };
}

/** Our server's stack in words (the report names every server's). */
export function ourStack(serverVersion: string): string {
  const version = (name: string) => {
    try {
      return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return `multidet-bench server ${serverVersion}: Express ${version('express')} on Node ${process.version}, onnxruntime-node ${version('onnxruntime-node')} CPU in worker threads`;
}

/** The reproduce lines of a peer row: start it, then the bench run against it. */
export function peerCommands(row: PeerRow, benchArgs: string[]): string[] {
  const set = row.row.replace(/^triton-/, '');
  return [`make triton TRITON_MODEL_SET=${set} TRITON_PORT=8100 TRITON_METRICS_PORT=8102  # in another shell`, ['make', 'bench', 'SCENARIO=sweep', `IMPL=${row.row}`, 'TARGET=http://127.0.0.1:8100', 'TARGET_METRICS=http://127.0.0.1:8102/metrics', 'PROTOCOL=v2', 'V2_VERSION=1', ...benchArgs].join(' ')];
}

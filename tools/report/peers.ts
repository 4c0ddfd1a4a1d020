// `make report PEERS=triton,fastapi`: peer servers measured beside ours in the same rounds. This is
// the registry: each peer is one ReportPeer (tools/report/peers/<name>.ts) that says its rows, how
// to start and stop each row's server, its stack and the bench knobs of its runs; the report only
// goes through the functions below. Also the CPU time of every server process tree during each run,
// from /proc: an idle server must take none while another one is measured.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knob, list, oneOf, readKnobs } from '../../lib/knobs.ts';
import { treeCpuSeconds } from '../../lib/node/proc-cpu.ts';
import type { PeerRunArgs, ReportPeer } from './peers/peer.ts';
import { fastapiPeer } from './peers/fastapi.ts';
import { torchservePeer } from './peers/torchserve.ts';
import { TRITON_PEER_KNOBS, tritonPeer } from './peers/triton.ts';

export type { ReportPeer } from './peers/peer.ts';
export { tritonRow } from './peers/triton.ts';

/** Every peer PEERS may name, in the order their rows join the report. */
const PEERS_REGISTRY = [tritonPeer, fastapiPeer, torchservePeer] as const satisfies readonly ReportPeer[];

export const PEER_NAMES = PEERS_REGISTRY.map((p) => p.name);
export type PeerName = (typeof PEERS_REGISTRY)[number]['name'];

function peerNamed(name: string): ReportPeer {
  const peer = PEERS_REGISTRY.find((p) => p.name === name);
  if (!peer) throw new Error(`no peer named ${name}: expected one of ${PEER_NAMES.join(', ')}`);
  return peer as ReportPeer;
}

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

/** PEERS: empty (ours only) or a comma list of PEER_NAMES; then each peer's own report knobs (TRITON_MODEL_SETS: which Triton rows). */
export const PEERS_KNOBS = {
  peers: knob<PeerName[]>({ env: 'PEERS', tier: 'expert', default: [], defaultText: '-', ...list(oneOf(PEER_NAMES), `a comma list of ${PEER_NAMES.join(', ')}`), doc: `add these peers' rows, interleaved in the same rounds: ${PEERS_REGISTRY.map((p) => p.doc).join('; ')}` }),
  ...TRITON_PEER_KNOBS,
};

export function peersConfig(env: NodeJS.ProcessEnv) {
  return readKnobs(PEERS_KNOBS, env);
}

/** Starts every peer row (all at once: they idle while others are measured); stops them all if one fails. */
export async function startPeers(cfg: ReturnType<typeof peersConfig>, logsDir: string, readyTimeout_s: number, say: (line: string) => void): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  try {
    for (const name of cfg.peers) {
      const peer = peerNamed(name);
      for (const row of peer.rows(peer.config(process.env))) {
        const t0 = performance.now();
        const started = await peer.start(row, { logFile: join(logsDir, `${row}.log`), readyTimeout_s });
        say(`peer ${row} ${started.url} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (metrics ${started.metricsUrl}, log ${started.logFile})`);
        rows.push({ row, peer: name, url: started.url, metricsUrl: started.metricsUrl, pid: started.pid, stack: peer.stack(row), stop: started.stop });
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
 * What a bench run of a peer row needs: the peer as TARGET, its metrics endpoint, the row's label as
 * IMPL, and the peer's own protocol knobs (Triton: v2 with per-model tensors, version 1).
 */
export function peerBenchEnv(row: PeerRow, env: NodeJS.ProcessEnv): Record<string, string> {
  return { TARGET: row.url, TARGET_METRICS: row.metricsUrl, ...peerNamed(row.peer).benchEnv(row.row, env), IMPL: row.row };
}

/** The `make report` knobs that say which peer rows run (PEERS and each peer's own), for the reproduce line. */
export function peerReportKnobs(rows: PeerRow[], env: NodeJS.ProcessEnv): string[] {
  if (rows.length === 0) return [];
  const names = [...new Set(rows.map((p) => p.peer))];
  const own = names.flatMap((n) => peerNamed(n).reproduceKnobs).filter((k) => env[k] !== undefined && env[k] !== '');
  return [`PEERS=${names.join(',')}`, ...own.map((k) => `${k}=${env[k]}`)];
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

/** The reproduce lines of a peer row: start it, then the bench run against it (the peer's protocol knobs its own). */
export function peerCommands(row: PeerRow, args: PeerRunArgs, env: NodeJS.ProcessEnv): string[] {
  return peerNamed(row.peer).commands(row.row, args, env);
}

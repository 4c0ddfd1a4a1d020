// CPU_PLACEMENT: where the server under test and the load generator run when both are on this machine.
//
// Why: on a small host they share every core, so the generator's CPU is taken from the server (and the
// other way round): a figure then measures both. Pinning them to disjoint cores (Linux affinity, set
// by `taskset -c` before exec, so every thread the process starts inherits it: onnxruntime's pools,
// libuv's, Go's) makes the server's figures its own, at the price of the cores the generator holds.
// `make harness` measures k6 against vegeta under the same placement (docs/harness.md).
//
//   shared   no pinning (the default)
//   split    the generator on the last quarter of the cores (at least one), the server on the rest
//   S/L      explicit taskset lists, e.g. 1/0 or 0-2/3: the server on S, the generator on L
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import type { Env } from '../../lib/env.ts';
import { INVALID, knob, readKnob, type Parser } from '../../lib/knobs.ts';
import { BenchError } from './progress.ts';

export type PlacementSetting = { mode: 'shared' } | { mode: 'split' } | { mode: 'explicit'; server: string; loadgen: string };

/** A taskset CPU list: 0, 0-2, 0,2,4-5. */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

const placementParser: Parser<PlacementSetting> = {
  allowed: 'shared, split, or SERVER_CPUS/LOADGEN_CPUS as taskset lists (e.g. 1/0 or 0-2/3)',
  parse: (raw) => {
    const v = raw.trim().toLowerCase();
    if (v === 'shared' || v === 'split') return { mode: v };
    const [server, loadgen, ...rest] = v.split('/');
    if (rest.length > 0 || !server || !loadgen || !CPU_LIST.test(server) || !CPU_LIST.test(loadgen)) return INVALID;
    return { mode: 'explicit', server, loadgen };
  },
};

export const CPU_PLACEMENT_KNOB = knob<PlacementSetting>({
  env: 'CPU_PLACEMENT', tier: 'expert', default: { mode: 'shared' }, defaultText: 'shared', ...placementParser,
  doc: 'when the server runs on this machine: shared (no pinning), split (the load generator on the last quarter of the cores, at least one, the server on the rest) or S/L taskset lists',
});

export function readPlacement(env: Env): PlacementSetting {
  return readKnob(CPU_PLACEMENT_KNOB, env);
}

/** The placement a run used, as env.json records it. null: not pinned. */
export interface Placement {
  mode: PlacementSetting['mode'];
  /** Cores this process may use (its affinity). */
  cores: number;
  server_cpus: string | null;
  loadgen_cpus: string | null;
}

/** `a-b` for a run of cores, `a` for one. */
const span = (from: number, to: number): string => (from === to ? String(from) : `${from}-${to}`);

/**
 * The CPU lists of a placement on a host with `cores` cores. split: the generator on the last
 * max(1, floor(cores / 4)) cores (on 2 cores: the server on 0, the generator on 1). Stops with one
 * line where it cannot be: split on one core, or taskset missing.
 */
export function resolvePlacement(setting: PlacementSetting, cores = availableParallelism()): Placement {
  if (setting.mode === 'shared') return { mode: 'shared', cores, server_cpus: null, loadgen_cpus: null };
  if (setting.mode === 'split' && cores < 2) throw new BenchError(`CPU_PLACEMENT=split needs 2 or more cores; this process may use ${cores}: set CPU_PLACEMENT=shared`);
  const probe = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new BenchError(`CPU_PLACEMENT=${setting.mode === 'split' ? 'split' : `${setting.server}/${setting.loadgen}`} needs taskset (Debian: apt-get install util-linux); or set CPU_PLACEMENT=shared`);
  if (setting.mode === 'explicit') return { mode: 'explicit', cores, server_cpus: setting.server, loadgen_cpus: setting.loadgen };
  const loadgen = Math.max(1, Math.floor(cores / 4));
  return { mode: 'split', cores, server_cpus: span(0, cores - loadgen - 1), loadgen_cpus: span(cores - loadgen, cores - 1) };
}

/** The command line that runs `argv` on `cpus` (taskset execs it: the pid is the command's own). */
export function pinned(argv: readonly string[], cpus: string | null): string[] {
  return cpus ? ['taskset', '-c', cpus, ...argv] : [...argv];
}

/** For progress lines: "server on CPU 0, load generator on CPU 1 (split of 2)". */
export function describePlacement(p: Placement): string {
  if (!p.server_cpus && !p.loadgen_cpus) return `shared: server and load generator on all ${p.cores} cores`;
  return `${p.mode}: server on CPU ${p.server_cpus ?? '(not started here)'}, load generator on CPU ${p.loadgen_cpus} (of ${p.cores})`;
}

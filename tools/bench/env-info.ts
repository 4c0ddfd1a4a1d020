// env.json: what a reader needs to trust or reproduce a run (machine, versions, provider, commit, command).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setKnobs } from '../../lib/knobs.ts';
import { K6_KNOBS } from '../../lib/k6-config.ts';
import { SCENARIO_KNOBS } from '../../lib/scenarios.ts';
import { SERVER_KNOBS } from '../../server/index.ts';
import { BENCH_KNOBS } from './config.ts';
import { k6VersionLine } from '../common/k6.ts';

function quiet(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}


function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Knobs worth recording: every variable the suite reads, from the registries that declare them (the
 * bench's, the k6 script's load and client knobs, and the server's, which reach the server the bench
 * starts through the same environment), so the record cannot miss one.
 */
export const KNOB_REGISTRIES = [BENCH_KNOBS, SCENARIO_KNOBS, K6_KNOBS, SERVER_KNOBS] as const;
export const KNOBS: readonly string[] = [...new Set(KNOB_REGISTRIES.flatMap((r) => Object.values(r).map((k) => k.env)))];

/** `env`: the environment the run really used (host-bounds sets IMPL/SCENARIO/LEVELS itself), so the recorded command reproduces it. */
export function envInfo(args: { k6: string; ep: string; serverVersion: string; k6Command: string[]; target: string; serverStarted: boolean; env?: NodeJS.ProcessEnv }): Record<string, unknown> {
  const cpus = os.cpus();
  const env = args.env ?? process.env;
  const knobs = setKnobs(env, ...KNOB_REGISTRIES);
  const makeVars = Object.entries(knobs).filter(([k]) => !['CI'].includes(k)).map(([k, v]) => `${k}=${v}`);
  return {
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: { type: os.type(), release: os.release(), platform: os.platform(), arch: os.arch() },
    node: process.version,
    onnxruntime_node: packageVersion('onnxruntime-node'),
    k6: k6VersionLine(args.k6),
    ep: args.ep,
    server_version: args.serverVersion,
    target: args.target,
    server_started_by_bench: args.serverStarted,
    git: { sha: quiet('git', ['rev-parse', 'HEAD']) || 'unknown', dirty: quiet('git', ['status', '--porcelain', '--untracked-files=no']) !== '' },
    command: {
      argv: process.argv,
      // Re-running this reproduces the run (same knobs; the timestamped folder differs).
      make: ['make', 'bench', ...makeVars].join(' '),
      k6: args.k6Command,
    },
    knobs,
  };
}

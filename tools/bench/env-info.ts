// env.json: what a reader needs to trust or reproduce a run (machine, versions, provider, commit, command).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function quiet(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function k6Version(k6: string): string {
  return quiet(k6, ['version']).split('\n')[0] ?? '';
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Knobs worth recording: every variable the suite reads, when set. */
export const KNOBS = ['SCENARIO', 'IMPL', 'DURATION', 'WARMUP', 'TARGET', 'TARGET_METRICS', 'PROTOCOL', 'V2_MODELS', 'V2_VERSION', 'DATASET_DIR', 'MAX_IMAGES', 'EP', 'HOST', 'PORT', 'MODELS_DIR', 'LEVELS', 'RATE', 'RATES', 'STEP', 'BATCHES', 'VUS', 'MAX_VUS', 'LEVEL_GAP', 'REQUESTS', 'SMOKE_REQUESTS', 'MODELS', 'BOUNDS_FILE', 'CALIBRATION', 'CALIBRATION_FILE', 'DASHBOARD', 'DASHBOARD_PORT', 'CI', 'MEMORY_INTERVAL', 'ACCURACY', 'READY_TIMEOUT',
  // server knobs: they reach the server the bench starts through the same environment
  'WORKERS', 'THREADS', 'GRAPH_OPT', 'PARALLEL_WORKERS', 'PARALLEL_THREADS', 'BATCH_MAX_SIZE', 'BATCH_MAX_DELAY_US', 'SPINNING', 'MAX_BODY_MB', 'MAX_PIXELS', 'MAX_BATCH'];

/** `env`: the environment the run really used (calibrate sets IMPL/SCENARIO/LEVELS itself), so the recorded command reproduces it. */
export function envInfo(args: { k6: string; ep: string; serverVersion: string; k6Command: string[]; target: string; serverStarted: boolean; env?: NodeJS.ProcessEnv }): Record<string, unknown> {
  const cpus = os.cpus();
  const env = args.env ?? process.env;
  const knobs = Object.fromEntries(KNOBS.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const makeVars = Object.entries(knobs).filter(([k]) => !['CI'].includes(k)).map(([k, v]) => `${k}=${v}`);
  return {
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: { type: os.type(), release: os.release(), platform: os.platform(), arch: os.arch() },
    node: process.version,
    onnxruntime_node: packageVersion('onnxruntime-node'),
    k6: k6Version(args.k6),
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

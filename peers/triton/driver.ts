// The Triton peer's driver. Run as a command (`make triton`), it reads the Triton knobs
// (peers/triton/config.ts), a bad value stopping with one line, and runs peers/triton/serve.py in
// the peer's venv with them as flags, passing SIGTERM/SIGINT on and exiting with serve.py's code. As
// a module, it starts and stops `make triton` from Node: the e2e test and `make report PEERS=triton`
// use it. The peer is a separate Python process tree; nothing here imports it.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../../lib/node/cli.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { BenchError } from '../../tools/common/progress.ts';
import { servePython, startMakeTarget, stopMakeTarget, type StoppedTarget } from '../make-target.ts';
import { serveArgs, tritonConfig, type TritonModelSet } from './config.ts';

export { TRITON_MODEL_SETS, type TritonModelSet } from './config.ts';

/** The peer's Python (the venv `make triton-env` makes). */
const TRITON_PYTHON = join('build', 'triton', 'venv', 'bin', 'python');

export interface StartedTriton {
  /** HTTP endpoint (v2 REST). */
  url: string;
  /** Prometheus endpoint, ".../metrics". */
  metricsUrl: string;
  modelSet: TritonModelSet;
  /** tritonserver's pid (its Python-backend stubs are its children). */
  pid: number;
  /** The `make triton` process. */
  child: ChildProcess;
  logFile: string;
  ready_ms: number;
}

export interface TritonEnv {
  versions: Record<string, string>;
  python_version: string;
}

/** What `make triton-env` installed (build/triton/env.json), for env.json and the report. */
export function readTritonEnv(root = '.'): TritonEnv | undefined {
  try {
    return JSON.parse(readFileSync(`${root}/build/triton/env.json`, 'utf8')) as TritonEnv;
  } catch {
    return undefined;
  }
}

const READY_LINE = /^ready (\S+) metrics=(\S+) grpc=\S+ set=(\S+) pid=(\d+)$/m;

/**
 * Runs `make triton` (installing the venv on first use) with `env` (TRITON_* knobs, MODELS, ...)
 * and resolves on its `ready` line; rejects with the log's tail if it exits first or times out.
 */
export async function startTriton(opts: { modelSet: TritonModelSet; logFile: string; readyTimeout_s: number; env?: Record<string, string> }): Promise<StartedTriton> {
  const s = await startMakeTarget({ target: 'triton', env: { ...opts.env, TRITON_MODEL_SET: opts.modelSet }, logFile: opts.logFile, readyTimeout_s: opts.readyTimeout_s, readyLine: READY_LINE });
  const m = s.ready;
  return { url: m[1]!, metricsUrl: m[2]!, modelSet: m[3] as TritonModelSet, pid: Number(m[4]), child: s.child, logFile: s.logFile, ready_ms: s.ready_ms };
}

export type StoppedTriton = StoppedTarget;

/** SIGTERM to `make triton` (make passes it on; the script stops the server); SIGKILL after grace. */
export function stopTriton(server: StartedTriton, grace_ms = 40_000): Promise<StoppedTriton> {
  return stopMakeTarget(server, /^triton: stopped \(tritonserver exit code 0\)$/m, grace_ms);
}

/** `make triton`: serve.py with the knobs as flags; its exit code is this one's. */
function serve(): Promise<number> {
  return servePython({ python: TRITON_PYTHON, script: join('peers', 'triton', 'serve.py'), args: serveArgs(tritonConfig(process.env)), installTarget: 'triton-env' });
}

if (isMain(import.meta.url)) runMain('triton', serve, { expected: [BenchError] });

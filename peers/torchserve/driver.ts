// The TorchServe peer's driver. Run as a command (`make torchserve`), it reads the TorchServe knobs
// (peers/torchserve/config.ts), a bad value stopping with one line, and runs peers/torchserve/serve.py
// in the peer's venv with them as flags, passing SIGTERM/SIGINT on and exiting with serve.py's code.
// As a module, it starts and stops `make torchserve` from Node: the e2e test and `make report
// PEERS=torchserve` use it. The peer is a separate Java + Python process tree; nothing here imports it.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../../lib/node/cli.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { BenchError } from '../../tools/common/progress.ts';
import { servePython, startMakeTarget, stopMakeTarget, type StoppedTarget } from '../make-target.ts';
import { serveArgs, torchserveConfig } from './config.ts';

/** The peer's Python (the venv `make torchserve-env` makes). */
const TORCHSERVE_PYTHON = join('build', 'torchserve', 'venv', 'bin', 'python');

export interface StartedTorchServe {
  /** Inference API endpoint (POST /predictions/{model}). */
  url: string;
  /** Prometheus endpoint, ".../metrics". */
  metricsUrl: string;
  managementUrl: string;
  /** The java frontend's pid (its Python workers are its children). */
  pid: number;
  /** The `make torchserve` process. */
  child: ChildProcess;
  logFile: string;
  ready_ms: number;
}

export interface TorchServeEnv {
  versions: Record<string, string>;
  python_version: string;
  java_version: string;
}

/** What `make torchserve-env` installed (build/torchserve/env.json), for the report. */
export function readTorchServeEnv(root = '.'): TorchServeEnv | undefined {
  try {
    return JSON.parse(readFileSync(`${root}/build/torchserve/env.json`, 'utf8')) as TorchServeEnv;
  } catch {
    return undefined;
  }
}

const READY_LINE = /^ready (\S+) metrics=(\S+) management=(\S+) pid=(\d+)$/m;

/**
 * Runs `make torchserve` (installing the venv on first use) with `env` (TORCHSERVE_* knobs, MODELS,
 * ...) and resolves on its `ready` line; rejects with the log's tail if it exits first or times out.
 */
export async function startTorchServe(opts: { logFile: string; readyTimeout_s: number; env?: Record<string, string> }): Promise<StartedTorchServe> {
  const s = await startMakeTarget({ target: 'torchserve', env: { ...opts.env }, logFile: opts.logFile, readyTimeout_s: opts.readyTimeout_s, readyLine: READY_LINE });
  const m = s.ready;
  return { url: m[1]!, metricsUrl: m[2]!, managementUrl: m[3]!, pid: Number(m[4]), child: s.child, logFile: s.logFile, ready_ms: s.ready_ms };
}

export type StoppedTorchServe = StoppedTarget;

/** SIGTERM to `make torchserve` (make passes it on; the script stops the server); SIGKILL after grace. */
export function stopTorchServe(server: StartedTorchServe, grace_ms = 40_000): Promise<StoppedTorchServe> {
  return stopMakeTarget(server, /^torchserve: stopped \(java exit code (0|143)\)$/m, grace_ms);
}

/** `make torchserve`: serve.py with the knobs as flags; its exit code is this one's. */
function serve(): Promise<number> {
  return servePython({ python: TORCHSERVE_PYTHON, script: join('peers', 'torchserve', 'serve.py'), args: serveArgs(torchserveConfig(process.env)), installTarget: 'torchserve-env' });
}

if (isMain(import.meta.url)) runMain('torchserve', serve, { expected: [BenchError] });

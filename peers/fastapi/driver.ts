// The FastAPI + onnxruntime peer's driver. Run as a command (`make fastapi`), it reads the knobs
// (peers/fastapi/config.ts), a bad value stopping with one line, and runs peers/fastapi/server.py in
// the peer's venv with them as flags, passing SIGTERM/SIGINT on and exiting with server.py's code.
// As a module, it starts and stops `make fastapi` from Node: the e2e test and `make report
// PEERS=fastapi` use it. The peer is a separate Python process tree; nothing here imports it.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../../lib/node/cli.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { BenchError } from '../../tools/common/progress.ts';
import { servePython, startMakeTarget, stopMakeTarget, type StoppedTarget } from '../make-target.ts';
import { fastapiConfig, serverArgs, type FastapiApi } from './config.ts';

/** The peer's Python (the venv `make fastapi-env` makes). */
const FASTAPI_PYTHON = join('build', 'fastapi', 'venv', 'bin', 'python');

export interface StartedFastapi {
  url: string;
  /** Prometheus endpoint, ".../metrics" (summed over the workers). */
  metricsUrl: string;
  api: FastapiApi;
  workers: number;
  /** The uvicorn supervisor's pid (its workers are its children). */
  pid: number;
  /** The `make fastapi` process. */
  child: ChildProcess;
  logFile: string;
  ready_ms: number;
}

export interface FastapiEnv {
  versions: Record<string, string>;
  python_version: string;
}

/** What `make fastapi-env` installed (build/fastapi/env.json), for the report's stack line. */
export function readFastapiEnv(root = '.'): FastapiEnv | undefined {
  try {
    return JSON.parse(readFileSync(`${root}/build/fastapi/env.json`, 'utf8')) as FastapiEnv;
  } catch {
    return undefined;
  }
}

const READY_LINE = /^ready (\S+) metrics=(\S+) api=(\S+) workers=(\d+) pid=(\d+)$/m;

/**
 * Runs `make fastapi` (installing the venv on first use) with `env` (FASTAPI_* knobs, MODELS, ...)
 * and resolves on its `ready` line; rejects with the log's tail if it exits first or times out.
 */
export async function startFastapi(opts: { logFile: string; readyTimeout_s: number; env?: Record<string, string> }): Promise<StartedFastapi> {
  const s = await startMakeTarget({ target: 'fastapi', env: { ...opts.env }, logFile: opts.logFile, readyTimeout_s: opts.readyTimeout_s, readyLine: READY_LINE });
  const m = s.ready;
  return { url: m[1]!, metricsUrl: m[2]!, api: m[3] as FastapiApi, workers: Number(m[4]), pid: Number(m[5]), child: s.child, logFile: s.logFile, ready_ms: s.ready_ms };
}

export type StoppedFastapi = StoppedTarget;

/** SIGTERM to `make fastapi` (make passes it on; the script stops the server); SIGKILL after grace. */
export function stopFastapi(server: StartedFastapi, grace_ms = 40_000): Promise<StoppedFastapi> {
  return stopMakeTarget(server, /^fastapi: stopped \(uvicorn exit code 0\)$/m, grace_ms);
}

/** `make fastapi`: server.py with the knobs as flags; its exit code is this one's. */
function serve(): Promise<number> {
  return servePython({ python: FASTAPI_PYTHON, script: join('peers', 'fastapi', 'server.py'), args: serverArgs(fastapiConfig(process.env)), installTarget: 'fastapi-env' });
}

if (isMain(import.meta.url)) runMain('fastapi', serve, { expected: [BenchError] });

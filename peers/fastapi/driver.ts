// The FastAPI + onnxruntime peer's driver. Run as a command (`make fastapi`), it reads the knobs
// (peers/fastapi/config.ts), a bad value stopping with one line, and runs peers/fastapi/server.py in
// the peer's venv with them as flags, passing SIGTERM/SIGINT on and exiting with server.py's code.
// As a module, it starts and stops `make fastapi` from Node: the e2e test and `make report
// PEERS=fastapi` use it. The peer is a separate Python process tree; nothing here imports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { durationText } from '../../lib/knobs.ts';
import { runMain } from '../../lib/node/cli.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { BenchError } from '../../tools/common/progress.ts';
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
  const env = { ...process.env, ...opts.env, READY_TIMEOUT: durationText(opts.readyTimeout_s) };
  const started = performance.now();
  const child = spawn('make', ['--no-print-directory', 'fastapi'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(opts.logFile);
  child.stderr!.pipe(log);
  let out = '';
  return new Promise((resolve, reject) => {
    // The first install downloads ~60 MB; the venv's time is not the server's start-up.
    const timer = setTimeout(() => fail(`no ready line after ${opts.readyTimeout_s}s`), (opts.readyTimeout_s + 600) * 1000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      const tail = (out + safeRead(opts.logFile)).trim().split('\n').slice(-5).join(' | ');
      reject(new BenchError(`make fastapi: ${why} (log ${opts.logFile}: ${tail}); run 'make fastapi' to see why`));
    };
    child.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      out += d.toString();
      const m = READY_LINE.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.pipe(log);
      resolve({ url: m[1]!, metricsUrl: m[2]!, api: m[3] as FastapiApi, workers: Number(m[4]), pid: Number(m[5]), child, logFile: opts.logFile, ready_ms: Math.round(performance.now() - started) });
    });
    child.once('exit', (code) => fail(`exited with code ${code} before it was ready`));
  });
}

export interface StoppedFastapi {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** server.py said uvicorn returned after the SIGTERM. */
  clean: boolean;
}

/** SIGTERM to `make fastapi` (make passes it on; uvicorn finishes in-flight requests); SIGKILL after grace. */
export async function stopFastapi(server: StartedFastapi, grace_ms = 40_000): Promise<StoppedFastapi> {
  const { child } = server;
  child.removeAllListeners('exit');
  const done = (): StoppedFastapi => ({ code: child.exitCode, signal: child.signalCode, clean: /^fastapi: stopped \(uvicorn exit code 0\)$/m.test(safeRead(server.logFile)) });
  if (child.exitCode !== null || child.signalCode !== null) return done();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), grace_ms);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
  return done();
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** `make fastapi`: server.py with the knobs as flags; server.py's exit code is this one's. */
async function serve(): Promise<number> {
  const cfg = fastapiConfig(process.env);
  const child = spawn(FASTAPI_PYTHON, [join('peers', 'fastapi', 'server.py'), ...serverArgs(cfg)], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new BenchError(`${FASTAPI_PYTHON}: ${e.message}; run 'make fastapi-env'`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

if (isMain(import.meta.url)) runMain('fastapi', serve, { expected: [BenchError] });

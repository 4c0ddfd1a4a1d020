// The TorchServe peer's driver. Run as a command (`make torchserve`), it reads the TorchServe knobs
// (peers/torchserve/config.ts), a bad value stopping with one line, and runs peers/torchserve/serve.py
// in the peer's venv with them as flags, passing SIGTERM/SIGINT on and exiting with serve.py's code.
// As a module, it starts and stops `make torchserve` from Node: the e2e test and `make report
// PEERS=torchserve` use it. The peer is a separate Java + Python process tree; nothing here imports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { durationText } from '../../lib/knobs.ts';
import { runMain } from '../../lib/node/cli.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { BenchError } from '../../tools/common/progress.ts';
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
  const env = { ...process.env, ...opts.env, READY_TIMEOUT: durationText(opts.readyTimeout_s) };
  const started = performance.now();
  const child = spawn('make', ['--no-print-directory', 'torchserve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      reject(new BenchError(`make torchserve: ${why} (log ${opts.logFile}: ${tail}); run 'make torchserve' to see why`));
    };
    child.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      out += d.toString();
      const m = READY_LINE.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.pipe(log);
      resolve({ url: m[1]!, metricsUrl: m[2]!, managementUrl: m[3]!, pid: Number(m[4]), child, logFile: opts.logFile, ready_ms: Math.round(performance.now() - started) });
    });
    child.once('exit', (code) => fail(`exited with code ${code} before it was ready`));
  });
}

export interface StoppedTorchServe {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** serve.py said java exited after the SIGTERM (its shutdown hook ran). */
  clean: boolean;
}

/** SIGTERM to `make torchserve` (make passes it on; serve.py stops java); SIGKILL after grace. */
export async function stopTorchServe(server: StartedTorchServe, grace_ms = 40_000): Promise<StoppedTorchServe> {
  const { child } = server;
  child.removeAllListeners('exit');
  const done = (): StoppedTorchServe => ({ code: child.exitCode, signal: child.signalCode, clean: /^torchserve: stopped \(java exit code (0|143)\)$/m.test(safeRead(server.logFile)) });
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

/** `make torchserve`: serve.py with the knobs as flags; serve.py's exit code is this one's. */
async function serve(): Promise<number> {
  const cfg = torchserveConfig(process.env);
  const child = spawn(TORCHSERVE_PYTHON, [join('peers', 'torchserve', 'serve.py'), ...serveArgs(cfg)], { stdio: 'inherit' });
  // make passes SIGTERM on to this process; serve.py stops java on either signal.
  const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new BenchError(`${TORCHSERVE_PYTHON}: ${e.message}; run 'make torchserve-env'`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

if (isMain(import.meta.url)) runMain('torchserve', serve, { expected: [BenchError] });

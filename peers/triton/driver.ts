// The Triton peer's driver. Run as a command (`make triton`), it reads the Triton knobs
// (peers/triton/config.ts), a bad value stopping with one line, and runs peers/triton/serve.py in
// the peer's venv with them as flags, passing SIGTERM/SIGINT on and exiting with serve.py's code. As
// a module, it starts and stops `make triton` from Node: the e2e test and `make report PEERS=triton`
// use it. The peer is a separate Python process tree; nothing here imports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { durationText } from '../../lib/knobs.ts';
import { runMain } from '../../lib/node/cli.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { BenchError } from '../../tools/common/progress.ts';
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
  const env = { ...process.env, ...opts.env, TRITON_MODEL_SET: opts.modelSet, READY_TIMEOUT: durationText(opts.readyTimeout_s) };
  const started = performance.now();
  const child = spawn('make', ['--no-print-directory', 'triton'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(opts.logFile);
  child.stderr!.pipe(log);
  let out = '';
  return new Promise((resolve, reject) => {
    // The first install downloads ~250 MB; the venv's time is not the server's start-up.
    const timer = setTimeout(() => fail(`no ready line after ${opts.readyTimeout_s}s`), (opts.readyTimeout_s + 600) * 1000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      const tail = (out + safeRead(opts.logFile)).trim().split('\n').slice(-5).join(' | ');
      reject(new BenchError(`make triton: ${why} (log ${opts.logFile}: ${tail}); run 'make triton' to see why`));
    };
    child.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      out += d.toString();
      const m = READY_LINE.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.pipe(log);
      resolve({ url: m[1]!, metricsUrl: m[2]!, modelSet: m[3] as TritonModelSet, pid: Number(m[4]), child, logFile: opts.logFile, ready_ms: Math.round(performance.now() - started) });
    });
    child.once('exit', (code) => fail(`exited with code ${code} before it was ready`));
  });
}

export interface StoppedTriton {
  /** make's own exit: it re-raises the SIGTERM it passed on, so code null and signal SIGTERM. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** serve.py said tritonserver exited 0 after the SIGTERM. */
  clean: boolean;
}

/** SIGTERM to `make triton` (make passes it on; serve.py stops tritonserver); SIGKILL after grace. */
export async function stopTriton(server: StartedTriton, grace_ms = 40_000): Promise<StoppedTriton> {
  const { child } = server;
  child.removeAllListeners('exit');
  const done = (): StoppedTriton => ({ code: child.exitCode, signal: child.signalCode, clean: /^triton: stopped \(tritonserver exit code 0\)$/m.test(safeRead(server.logFile)) });
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

/** `make triton`: serve.py with the knobs as flags; serve.py's exit code is this one's. */
async function serve(): Promise<number> {
  const cfg = tritonConfig(process.env);
  const child = spawn(TRITON_PYTHON, [join('peers', 'triton', 'serve.py'), ...serveArgs(cfg)], { stdio: 'inherit' });
  // make passes SIGTERM on to this process; serve.py stops tritonserver cleanly on either signal.
  const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new BenchError(`${TRITON_PYTHON}: ${e.message}; run 'make triton-env'`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

if (isMain(import.meta.url)) runMain('triton', serve, { expected: [BenchError] });

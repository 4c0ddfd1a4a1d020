// What every peer's driver does the same way (peers/triton, peers/fastapi, peers/torchserve): from Node,
// run `make <peer>` (which installs the peer's venv on first use) until its `ready ...` line, and stop
// it with SIGTERM (make passes the signal on) and SIGKILL after a grace period; as the `make <peer>`
// command itself, run the peer's Python script in its venv with the knobs as flags, passing
// SIGTERM/SIGINT on and exiting with its code. Each driver keeps only its ready line, its clean-stop
// line and the fields it reads off them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { durationText } from '../lib/knobs.ts';
import { BenchError } from '../tools/common/progress.ts';

export interface StartedTarget {
  /** The ready line, matched: the driver reads its URLs and pid off it. */
  ready: RegExpExecArray;
  /** The `make <target>` process. */
  child: ChildProcess;
  logFile: string;
  ready_ms: number;
}

/**
 * Runs `make <target>` with `env` (the peer's knobs) and resolves on the first stdout line matching
 * `readyLine`; rejects with the log's tail if it exits first or gives no such line within
 * readyTimeout_s (plus 10 minutes for a first install, which is not the server's start-up).
 */
export function startMakeTarget(o: { target: string; env?: Record<string, string>; logFile: string; readyTimeout_s: number; readyLine: RegExp }): Promise<StartedTarget> {
  const env = { ...process.env, ...o.env, READY_TIMEOUT: durationText(o.readyTimeout_s) };
  const started = performance.now();
  const child = spawn('make', ['--no-print-directory', o.target], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(o.logFile);
  child.stderr!.pipe(log);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`no ready line after ${o.readyTimeout_s}s`), (o.readyTimeout_s + 600) * 1000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      const tail = (out + safeRead(o.logFile)).trim().split('\n').slice(-5).join(' | ');
      reject(new BenchError(`make ${o.target}: ${why} (log ${o.logFile}: ${tail}); run 'make ${o.target}' to see why`));
    };
    child.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      out += d.toString();
      const m = o.readyLine.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.pipe(log);
      resolve({ ready: m, child, logFile: o.logFile, ready_ms: Math.round(performance.now() - started) });
    });
    child.once('exit', (code) => fail(`exited with code ${code} before it was ready`));
  });
}

export interface StoppedTarget {
  /** make's own exit: it re-raises the SIGTERM it passed on, so code null and signal SIGTERM. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The peer's script logged its clean stop (`cleanLine`). */
  clean: boolean;
}

/** SIGTERM to `make <target>`; SIGKILL after `grace_ms`; clean when the log holds `cleanLine`. */
export async function stopMakeTarget(server: Pick<StartedTarget, 'child' | 'logFile'>, cleanLine: RegExp, grace_ms = 40_000): Promise<StoppedTarget> {
  const { child } = server;
  child.removeAllListeners('exit');
  const done = (): StoppedTarget => ({ code: child.exitCode, signal: child.signalCode, clean: cleanLine.test(safeRead(server.logFile)) });
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

/** `make <peer>`: its Python script with the knobs as flags; the script's exit code is this one's. */
export function servePython(o: { python: string; script: string; args: string[]; installTarget: string }): Promise<number> {
  const child = spawn(o.python, [o.script, ...o.args], { stdio: 'inherit' });
  // make passes SIGTERM on to this process; the script stops its server cleanly on either signal.
  const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new BenchError(`${o.python}: ${e.message}; run 'make ${o.installTarget}'`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

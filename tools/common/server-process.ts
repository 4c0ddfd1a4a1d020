// Lifecycle of a server the bench starts itself (unless TARGET names a running one), and the
// scrapes of /health, /metrics and /vram around the load run.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { MEASURE_WINDOW, type MemoryResponse } from '../../lib/types.ts';
import { getJson } from '../../lib/node/server-api.ts';
import { memoryOf } from '../../lib/seed.ts';
import { BenchError } from './progress.ts';
import { waitReady } from './ready.ts';
import { pinned } from './cpu-placement.ts';
import { SERVER_ENTRY, SERVER_NODE_ARGS } from '../../lib/node/server-launch.ts';

export interface StartedServer {
  url: string;
  child: ChildProcess;
  logFile: string;
  /** Spawn to /health ready. */
  ready_ms: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <SERVER_NODE_ARGS> server/main.ts` on a free loopback port, logging to `logFile`, and waits
 * until it is ready (stopping it if it never is). `env` overrides this process's environment for the server (e.g. IMPL: which implementations it loads).
 */
export async function startServer(opts: { host: string; port: number; ep: string; modelsDir: string; logFile: string; readyTimeout_s: number; env?: Record<string, string>; cpus?: string | null }): Promise<StartedServer> {
  const port = opts.port || (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, HOST: opts.host, PORT: String(port), EP: opts.ep };
  if (opts.modelsDir) env['MODELS_DIR'] = opts.modelsDir;
  // The server writes its log straight into the file: relayed through a pipe, every access-log line
  // woke this process too, CPU taken from the server and the load generator on the same host.
  const log = openSync(opts.logFile, 'w');
  const started = performance.now();
  let child: ChildProcess;
  try {
    // CPU_PLACEMENT (cpu-placement.ts): `cpus` pins the server and every thread it starts.
    const [cmd, ...args] = pinned([process.execPath, ...SERVER_NODE_ARGS, SERVER_ENTRY], opts.cpus ?? null);
    child = spawn(cmd!, args, { env, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  const url = `http://${opts.host}:${port}`;
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const server: StartedServer = { url, child, logFile: opts.logFile, ready_ms: 0 };
  try {
    await waitReady(url, opts.readyTimeout_s, () => {
      if (exited === undefined) return;
      const tail = safeRead(opts.logFile).trim().split('\n').slice(-5).join(' | ');
      throw new BenchError(`server exited with code ${exited} before it was ready (log ${opts.logFile}: ${tail}); run 'make server' to see why`);
    });
  } catch (err) {
    // Never leave a half-started server behind: it would hold its sessions, its port and the CPU.
    await stopServer(server);
    throw err;
  }
  server.ready_ms = Math.round(performance.now() - started);
  return server;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** SIGTERM, then SIGKILL after `grace_ms`; resolves when the process is gone. */
export async function stopServer(server: StartedServer, grace_ms = 10_000): Promise<number | null> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), grace_ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

export interface MemorySample extends MemoryResponse {
  t_s: number;
}

/** Samples GET /vram every interval until stopped; misses are skipped, not fatal. */
export function sampleMemory(url: string, interval_s: number): { stop(): Promise<MemorySample[]>; measureStartedAt(): number | undefined } {
  const samples: MemorySample[] = [];
  const t0 = performance.now();
  let busy: Promise<void> = Promise.resolve();
  const tick = () => {
    // memoryOf: our /vram as it is, or a foreign target's (the seed API's field names) in our shape.
    busy = getJson<unknown>(`${url}/vram`, 2000)
      .then((json) => {
        const m = memoryOf(json);
        if (m) samples.push({ t_s: Math.round(performance.now() - t0) / 1000, ...m });
      })
      .catch(() => {});
  };
  tick();
  const timer = setInterval(tick, Math.max(100, interval_s * 1000));
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      return samples;
    },
    /** performance.now() of the first sample in k6's measured window (the warm-up is over by then). */
    measureStartedAt() {
      const first = samples.find((s) => s.window === MEASURE_WINDOW);
      return first ? t0 + first.t_s * 1000 : undefined;
    },
  };
}

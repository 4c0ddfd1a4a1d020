// Entry point: config, listen, load, one 'ready' line, graceful shutdown. `make server` runs this.
// It listens before loading so /health can say "loading" (503) while the models warm up.
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { ConfigError, describeConfig, loadConfig, type ServerConfig } from './config.ts';
import { createServerApp, type ServerApp } from './app.ts';
import { createLogger, type Logger } from './log.ts';
import { StartupError } from './runtime/context.ts';
import { isMain } from '../lib/node/is-main.ts';

export interface RunningServer {
  server: Server;
  serverApp: ServerApp;
  url: string;
  /** Stops accepting, lets in-flight requests finish, releases sessions. Idempotent. */
  shutdown(reason?: string): Promise<void>;
}

/** Starts listening, then loads; resolves once ready (the 'ready' line is printed). */
export async function startServer(config: ServerConfig, log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const serverApp = createServerApp(config, log);
  // Slow clients: a request head not complete within HEADERS_TIMEOUT, or a whole request not within
  // REQUEST_TIMEOUT, gets 408 and is closed; the check runs every second (Node's default is 30 s).
  // k6 keeps connections alive; idle ones live longer than its idle timeout.
  const server = createServer(
    { headersTimeout: config.headersTimeoutMs, requestTimeout: Math.max(config.requestTimeoutMs, config.headersTimeoutMs), keepAliveTimeout: 65_000, connectionsCheckingInterval: 1000 },
    serverApp.app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  let closing: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown') => {
    closing ??= (async () => {
      log.info(`${reason}: closing (no new connections; finishing in-flight requests)`);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle once their in-flight response is out: close them as they do,
      // and give busy ones a bounded grace period.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const force = setTimeout(() => server.closeAllConnections(), 15_000);
      force.unref();
      await closed;
      clearInterval(sweep);
      clearTimeout(force);
      await serverApp.close();
      log.info('closed');
    })();
    return closing;
  };

  try {
    log.info(`listening on ${url}, loading models (${describeConfig(config)})`);
    const t0 = performance.now();
    await serverApp.load();
    log.info(`ready ${url} ep=${serverApp.ep} models=${readyModels(serverApp)} load_s=${((performance.now() - t0) / 1000).toFixed(1)}`);
  } catch (err) {
    await shutdown('start-up failed').catch(() => {});
    throw err;
  }
  return { server, serverApp, url, shutdown };
}

function readyModels(serverApp: ServerApp): string {
  // /health holds the same list; keep the ready line greppable: d0:512,d1:640,d2:768.
  return serverApp.models.map((m) => `${m.name}:${m.inputSize}`).join(',');
}

async function main(): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`server: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let running: RunningServer;
  try {
    running = await startServer(config, log);
  } catch (err) {
    const msg = err instanceof StartupError || err instanceof ConfigError ? err.message : err instanceof Error ? `${err.message}` : String(err);
    const code = (err as NodeJS.ErrnoException)?.code;
    console.error(`server: ${code === 'EADDRINUSE' ? `${config.host}:${config.port} is in use; stop the other server or set PORT` : msg.split('\n')[0]}`);
    process.exit(1);
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void running.shutdown(signal).then(
        () => process.exit(0),
        (err) => {
          console.error(`server: shutdown failed: ${String(err)}`);
          process.exit(1);
        },
      );
    });
  }
}

if (isMain(import.meta.url)) void main();

// Helpers for the server integration tests: spawn the real server (node <SERVER_NODE_ARGS> server/main.ts)
// on a free port, wait for its 'ready' line, make test images.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../tools/common/server-process.ts';
import { SERVER_ENTRY, SERVER_NODE_ARGS } from '../../lib/node/server-launch.ts';
import path from 'node:path';
import sharp from 'sharp';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const MODELS_DIR = process.env.MODELS_DIR ?? path.join(REPO, 'build/models');

export { freePort };

export interface Spawned {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts server/main.ts with env overrides; resolves as soon as it listens (before ready). */
export async function spawnServer(env: Record<string, string>, args: string[] = []): Promise<Spawned> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, SERVER_ENTRY, '--port', String(port), ...args], {
    cwd: REPO,
    env: { ...process.env, MODELS_DIR, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, stdout: () => out, stderr: () => err, exited };
}

/** Waits until `predicate` holds on the output, or the process exits, or the timeout passes. */
export async function waitFor(s: Spawned, predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void s.exited.then(() => (exited = true));
  while (!predicate()) {
    if (exited) throw new Error(`server exited while waiting for ${what}:\n${s.stdout()}\n${s.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${s.stdout()}\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A deterministic test picture: coloured rectangles on a gradient, as JPEG. */
export async function testJpeg(width: number, height: number): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inA = x > width * 0.1 && x < width * 0.45 && y > height * 0.2 && y < height * 0.7;
      const inB = x > width * 0.55 && x < width * 0.9 && y > height * 0.4 && y < height * 0.9;
      px[i] = inA ? 220 : inB ? 30 : (x * 255) / width;
      px[i + 1] = inA ? 40 : inB ? 200 : (y * 255) / height;
      px[i + 2] = inA ? 40 : inB ? 60 : 128;
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

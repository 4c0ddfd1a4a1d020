// The k6 binary every tool runs: the one `make k6` resolved (tools/go/k6/resolve.sh writes its path
// to build/k6.path: K6=..., a pinned k6 on PATH, or the one built from the pinned source).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { BenchError } from './progress.ts';

export function k6Binary(): string {
  const path = existsSync('build/k6.path') ? readFileSync('build/k6.path', 'utf8').trim() : '';
  if (!path || !existsSync(path)) throw new BenchError(`no k6 binary (build/k6.path ${path ? `names missing ${path}` : 'is missing'}): run 'make k6'`);
  return path;
}

/** `k6 version`'s first line ('' when it does not answer). */
export function k6VersionLine(k6: string): string {
  try {
    return execFileSync(k6, ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

/** The bare semantic version of a k6 binary (2.2.0), or undefined. */
export function k6Semver(k6: string): string | undefined {
  return /v(\d+\.\d+\.\d+)/.exec(k6VersionLine(k6))?.[1];
}

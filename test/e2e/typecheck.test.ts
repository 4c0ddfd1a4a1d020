// `make typecheck` must catch a type error in a scenario (k6 only strips types, it never checks them),
// and must keep Node APIs out of k6-side code. Runs the real make target on a copy of the sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../helpers/run.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A throwaway copy of what `make typecheck` reads, with node_modules linked, timestamps kept. */
function sourceCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'typecheck-'));
  for (const p of ['Makefile', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'tsconfig.node.json', 'tsconfig.k6.json', 'lib', 'scenarios', 'examples', 'server', 'tools', 'peers', 'test']) {
    cpSync(join(ROOT, p), join(dir, p), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

test('make typecheck passes on the sources as they are', async () => {
  const r = await run('make', ['-s', 'typecheck'], { cwd: sourceCopy() });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('a type error in a scenario makes make typecheck fail and names the file', async () => {
  const dir = sourceCopy();
  writeFileSync(join(dir, 'scenarios', 'broken.ts'), "import http from 'k6/http';\nexport default function (): void { const n: number = http.get('http://x').body; void n; }\n");
  const r = await run('make', ['-s', 'typecheck'], { cwd: dir });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /scenarios\/broken\.ts.*error TS2322/);
});

test('a Node API in k6-side code makes make typecheck fail', async () => {
  const dir = sourceCopy();
  writeFileSync(join(dir, 'scenarios', 'uses-node.ts'), "import { readFileSync } from 'node:fs';\nexport default function (): void { readFileSync('x'); }\n");
  const r = await run('make', ['-s', 'typecheck'], { cwd: dir });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /scenarios\/uses-node\.ts.*error TS2307/);
});

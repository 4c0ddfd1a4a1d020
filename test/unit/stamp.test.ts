// lib/node/stamp.ts: the stamp that lets make's idempotent steps skip their full check holds only for
// the key it was written with and while every file keeps its size and modification time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, stampHolds, writeStamp } from '../../lib/node/stamp.ts';

test('a stamp holds for its key and unchanged files; a rewritten, touched, removed or new file, another key or no stamp voids it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stamp-'));
  const [a, b, missing] = ['a.bin', 'b.bin', 'missing.bin'].map((f) => join(dir, f)) as [string, string, string];
  writeFileSync(a, 'aaaa');
  writeFileSync(b, 'bbbb');
  const stamp = join(dir, '.up-to-date.json');
  const key = { version: '1.0', seed: 7 };
  const files = [a, b, missing];
  assert.equal(stampHolds(stamp, key, files), false, 'no stamp yet');
  writeStamp(stamp, key, files);
  assert.equal(stampHolds(stamp, key, files), true);
  assert.equal(stampHolds(stamp, { ...key, seed: 8 }, files), false, 'another key');
  assert.equal(stampHolds(stamp, key, [a, b]), false, 'another file list');
  writeFileSync(missing, 'now here');
  assert.equal(stampHolds(stamp, key, files), false, 'a file that was missing appeared');
  rmSync(missing);
  assert.equal(stampHolds(stamp, key, files), true, 'back as it was');
  utimesSync(a, new Date(), new Date(Date.now() + 5000));
  assert.equal(stampHolds(stamp, key, files), false, 'touched: same size, new mtime');
  writeStamp(stamp, key, files);
  writeFileSync(b, 'bbbbb');
  assert.equal(stampHolds(stamp, key, files), false, 'rewritten');
  writeStamp(stamp, key, files);
  rmSync(b);
  assert.equal(stampHolds(stamp, key, files), false, 'removed');
  writeFileSync(stamp, '{not json');
  assert.equal(stampHolds(stamp, key, files), false, 'an unreadable stamp never holds');
});

test('digestOf changes with any source file content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stamp-'));
  const f = join(dir, 'src.ts');
  writeFileSync(f, 'export const V = 3;');
  const before = digestOf([f]);
  assert.equal(digestOf([f]), before);
  writeFileSync(f, 'export const V = 4;');
  assert.notEqual(digestOf([f]), before);
});

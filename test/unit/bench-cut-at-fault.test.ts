import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LevelRow } from '../../lib/summary.ts';
import { cutAtFault } from '../../tools/bench/watchdog.ts';

test('a run cut at a fault divides each level by the seconds it ran, and its row stays rps = requests / duration_s', () => {
  const levels = [
    { tag: '1', value: 1, duration_s: 120, start_s: 0 },
    { tag: '2', value: 2, duration_s: 120, start_s: 125 },
  ];
  const row = (level: string, requests: number) => ({ level, requests, duration_s: 120, rps: requests / 120, images_per_request: 1, images_per_s: requests / 120 }) as unknown as LevelRow;
  const rows = [row('1', 6011), row('2', 0)];
  cutAtFault(rows, levels, 6.12345);
  const [first, second] = rows as [LevelRow, LevelRow];
  assert.equal(first.duration_s, 6.123);
  assert.equal(first.rps, Math.round((6011 / 6.123) * 1000) / 1000);
  assert.ok(Math.abs(first.rps - first.requests / first.duration_s) < 0.001, `${first.rps} vs ${first.requests / first.duration_s}`);
  assert.equal(first.images_per_s, first.rps);
  // The fault came before level 2 started: no seconds measured, no rate.
  assert.deepEqual([second.duration_s, second.rps], [0, 0]);
});

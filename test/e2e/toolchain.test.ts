// The threshold plumbing end to end: a TypeScript scenario importing lib/ is bundled by esbuild and run
// by the real k6 through `make k6-run`; a holding threshold exits 0, a broken one exits 99 and make fails.
// And the npm stamp: named by the packages files' content, so only a change to them reinstalls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { bundleScenarios } from '../../tools/build.ts';
import { listen, run } from '../helpers/run.ts';

let target: string;
let server: Server;
let script: string;

before(async () => {
  ({ url: target, server } = await listen((_req, res) => res.end('ok')));
  [script] = await bundleScenarios(['test/fixtures/threshold.k6.ts'], mkdtempSync(join(tmpdir(), 'k6-bundle-')));
});
after(() => server.close());

test('esbuild bundles the scenario as ESM with k6 external and the lib/ code inlined', () => {
  const js = readFileSync(script, 'utf8');
  assert.match(js, /from "k6\/http"/);
  assert.match(js, /function numberEnv/, 'lib/env.ts is bundled in');
  assert.match(js, /sourceMappingURL=data:application\/json/);
  // The map names the .ts sources (k6 maps stack traces with it) without carrying them: half the size.
  const map = JSON.parse(Buffer.from(/sourceMappingURL=data:application\/json;base64,(\S+)/.exec(js)![1]!, 'base64').toString('utf8')) as { sources: string[]; sourcesContent?: unknown };
  assert.ok(map.sources.some((f) => f.endsWith('lib/env.ts')), map.sources.join(', '));
  assert.equal(map.sourcesContent, undefined);
});

test('a threshold that holds: k6 and make exit 0', async () => {
  const r = await run('make', ['-s', 'k6-run', `SCRIPT=${script}`, 'K6_ARGS=--quiet --no-color'], { env: { TARGET: target, MAX_MS: '10000' } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /http_reqs/);
});

test('a threshold that breaks: k6 exits 99 and make exits non-zero', async () => {
  const r = await run('make', ['-s', 'k6-run', `SCRIPT=${script}`, 'K6_ARGS=--quiet --no-color'], { env: { TARGET: target, MAX_MS: '0' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /thresholds on metrics 'http_req_duration' have been crossed/);
  assert.match(r.stderr, /Error 99/, 'make reports k6 exit code 99');
});

test('a missing TARGET stops the script with one line naming the variable', async () => {
  const r = await run('make', ['-s', 'k6-run', `SCRIPT=${script}`, 'K6_ARGS=--quiet --no-color'], { env: { TARGET: '' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /TARGET is not set: set TARGET=/);
});

test('the npm stamp follows the content of package.json + package-lock.json, not their modification times', async () => {
  // make test installed the packages: their stamp is current.
  const stamp = (await run('make', ['-s', '--no-print-directory', '-p', '-n', 'help'])).stdout.match(/^STAMP := (.+)$/m)?.[1];
  if (!stamp?.startsWith('node_modules/.installed-')) assert.fail(`STAMP is named by a hash: ${stamp}`);
  assert.ok(existsSync(stamp), `${stamp} exists after the install`);
  const now = new Date();
  utimesSync('package-lock.json', now, now);
  utimesSync('package.json', now, now);
  const r = await run('make', ['-n', 'deps']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /npm ci/, 'a lockfile newer than the stamp but unchanged reinstalls nothing');
  // Any change to either file names another stamp, which is missing: npm ci then runs.
  const content = Buffer.concat([readFileSync('package.json'), readFileSync('package-lock.json')]);
  assert.equal(stamp, `node_modules/.installed-${createHash('sha256').update(content).digest('hex').slice(0, 16)}`);
});

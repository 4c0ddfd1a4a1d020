// The public k6 entry in use: examples/custom-scenario.ts, written only against lib/k6/index.ts, is
// bundled like the scenarios and run by the real k6 against the real server (real sessions). Also
// the k6 runtime's side of the knob registry: a bad knob value stops the script with the one form.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkLayers, importsOf, readTree } from '../helpers/layers.ts';
import { run } from '../helpers/run.ts';
import type { Summary } from '../../lib/summary.ts';
import { startServer, loadConfig, type RunningServer } from '../../server/index.ts';
import { bundleScenarios, EXAMPLE_DIR, listScenarios } from '../../tools/build.ts';
import { REPO, MODELS_DIR } from '../integration/server-helpers.ts';

const k6 = readFileSync(join(REPO, 'build/k6.path'), 'utf8').trim();
const MANIFEST = join(REPO, 'build/data/synthetic/manifest.json');
let bundle: string;
let server: RunningServer;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

before(async () => {
  const out = mkdtempSync(join(tmpdir(), 'example-'));
  [bundle] = await bundleScenarios(listScenarios(join(REPO, EXAMPLE_DIR)), out);
  server = await startServer(loadConfig({}, [], { port: 0, modelsDir: MODELS_DIR, impls: ['baseline', 'invalid'], logLevel: 'error' }), quiet);
});
after(async () => server?.shutdown());

test('the example imports nothing of the project but the public entry', () => {
  const files = readTree(REPO, ['examples']);
  assert.ok(files.length >= 1);
  for (const f of files) {
    const own = importsOf(f.source).filter((s) => s.startsWith('.'));
    assert.deepEqual(own, ['../lib/k6/index.ts'], `${f.file} imports ${own.join(', ')}`);
  }
  assert.deepEqual(checkLayers(files), []);
});

test('the example runs against the real server: every request answered and checked, thresholds held', async () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'example-run-'));
  const r = await run(k6, ['run', '--quiet', bundle], {
    env: { TARGET: server.url, IMPL: 'baseline,invalid', MODELS: 'd0', ITERATIONS: '2', DATASET_MANIFEST: MANIFEST, RESULTS_DIR: resultsDir, K6_NO_USAGE_REPORT: 'true' },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const summary = JSON.parse(readFileSync(join(resultsDir, 'summary.json'), 'utf8')) as Summary;
  assert.deepEqual(summary.impls, ['baseline', 'invalid']);
  for (const impl of ['baseline', 'invalid']) {
    const row = summary.levels.find((l) => l.impl === impl);
    assert.equal(row?.requests, 2, `${impl}: ${JSON.stringify(row)}`);
  }
  assert.ok(summary.thresholds.length > 0 && summary.thresholds_ok, JSON.stringify(summary.thresholds));
});

test('k6 side: a bad knob value stops the script with NAME=value is not valid: expected ...', async () => {
  for (const [name, value, allowed] of [
    ['HEALTH_WAIT', 'soon', 'a duration such as 30s, 2m, 1m30s or 500ms'],
    ['MODELS', 'd0,d9', 'a comma list of d0, d1, d2'],
    ['ITERATIONS', '2,3', 'an integer >= 1'],
  ] as const) {
    const r = await run(k6, ['run', '--quiet', bundle], { env: { TARGET: server.url, DATASET_MANIFEST: MANIFEST, [name]: value, K6_NO_USAGE_REPORT: 'true' }, timeoutMs: 60_000 });
    assert.notEqual(r.code, 0, `${name}=${value} was accepted`);
    assert.ok((r.stdout + r.stderr).includes(`${name}=${value} is not valid: expected ${allowed}`), `${name}=${value}:\n${r.stdout}${r.stderr}`);
  }
});

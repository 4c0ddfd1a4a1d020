// Accuracy end to end on real ONNX sessions, few images (each baseline pass costs ~0.4 s+ here):
// make reference's tool, the baseline against its own reference (exactly 0 on every metric, in-process
// and over HTTP through the real server), the invalid stub failing the gates by name, and a stale
// reference being rebuilt. `make test` builds models and data first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.ts';
import { readAccuracyFile, runAccuracy, type AccuracyReport } from '../../tools/accuracy/replay.ts';
import { MANIFEST_FILE, type ReferenceManifest } from '../../tools/accuracy/store.ts';
import { loadConfig } from '../../server/config.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import type { AccuracyMetrics } from '../../lib/accuracy/metrics.ts';

const IMAGES = 2;
const DATASET = process.env.DATASET_DIR || 'build/data/synthetic';
const MODELS = process.env.MODELS_DIR || 'build/models';
const root = mkdtempSync(join(tmpdir(), 'accuracy-it-'));
const referenceRoot = join(root, 'reference');
const refDir = join(referenceRoot, 'synthetic');
let server: RunningServer;
const quiet = () => {};
const reportOf = (runDir: string, impl: string): AccuracyReport => readAccuracyFile(runDir)!.impls[impl]!;

before(async () => {
  for (const m of ['d0', 'd1', 'd2']) assert.ok(existsSync(`${MODELS}/efficientdet-${m}.onnx`), `${MODELS}/efficientdet-${m}.onnx is missing: run 'make models'`);
  assert.ok(existsSync(DATASET), `${DATASET} is missing: run 'make data'`);
  // runAccuracy reads REFERENCE_DIR like the CLI does.
  process.env.REFERENCE_DIR = referenceRoot;
  const noop = () => {};
  // Same env as the in-process reference (EP, THREADS, GRAPH_OPT), so outputs are comparable bit for bit.
  server = await startServer(loadConfig(process.env, [], { port: 0, modelsDir: MODELS, logLevel: 'error' }), { debug: noop, info: noop, warn: noop, error: noop });
});
after(async () => {
  await server?.shutdown();
  delete process.env.REFERENCE_DIR;
});

test('make reference: manifest (model sha256, dataset files), detections, raw heads; a second run reuses it', async () => {
  const env = { MAX_IMAGES: String(IMAGES), REFERENCE_DIR: referenceRoot, DATASET_DIR: DATASET, MODELS_DIR: MODELS };
  const first = await run('node', ['--import', 'tsx', 'tools/accuracy/reference.ts'], { env, timeoutMs: 300_000 });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /reference: building .*: no reference in/);
  assert.match(first.stdout, new RegExp(`reference: ${IMAGES}/${IMAGES} images`));
  const manifest = JSON.parse(readFileSync(join(refDir, MANIFEST_FILE), 'utf8')) as ReferenceManifest;
  assert.equal(manifest.dataset.files.length, IMAGES);
  assert.match(manifest.models.d2.sha256, /^[0-9a-f]{64}$/);
  assert.equal(manifest.raw_heads.available, true, manifest.raw_heads.reason);
  for (const m of ['d0', 'd1', 'd2'] as const) {
    const info = manifest.raw_heads.models[m]!;
    assert.equal(statSync(join(refDir, info.file)).size, IMAGES * info.entries_per_image * manifest.raw_heads.record_bytes);
  }
  const detections = JSON.parse(readFileSync(join(refDir, 'detections.json'), 'utf8'));
  assert.equal(detections.images.length, IMAGES);
  assert.ok(detections.images[0].models.d0.boxes.length > 0, 'the baseline detected something');

  const second = await run('node', ['--import', 'tsx', 'tools/accuracy/reference.ts'], { env, timeoutMs: 60_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /is up to date/);
});

function assertExactlyZero(m: AccuracyMetrics, raw: boolean): void {
  assert.ok(m.reference_detections > 0);
  assert.equal(m.matched, m.reference_detections);
  assert.equal(m.unmatched, 0);
  assert.equal(m.boxes_mse, 0);
  assert.equal(m.scores_mse, 0);
  assert.equal(m.labels_accuracy, 1);
  assert.equal(m.mean_iou, 1);
  assert.equal(m.count_diff_mean, 0);
  if (raw) {
    assert.ok(m.class_logits_values > 0);
    assert.equal(m.class_logits_mse, 0);
    assert.equal(m.box_regression_mse, 0);
  }
}

test('baseline against its own reference, in-process: exactly 0 on every metric, raw heads included', async () => {
  const runDir = join(root, 'baseline-inprocess');
  const r = await runAccuracy({ target: undefined, impl: 'baseline', runDir, datasetDir: DATASET, maxImages: IMAGES }, quiet);
  assert.deepEqual(r, { passed: true, lines: [] });
  const report = reportOf(runDir, 'baseline');
  assert.equal(report.reference.rebuilt, false);
  for (const m of ['d0', 'd1', 'd2'] as const) assertExactlyZero(report.models[m]!, true);
  assertExactlyZero(report.overall, true);
  assert.match(readFileSync(join(runDir, 'summary.txt'), 'utf8'), /Accuracy of baseline .*PASSED/);
});

test('baseline over HTTP through the real server: exactly 0, accuracy.json and summary table written', async () => {
  const runDir = join(root, 'baseline-http');
  const r = await runAccuracy({ target: server.url, impl: 'baseline', runDir, datasetDir: DATASET, maxImages: IMAGES }, quiet);
  assert.deepEqual(r, { passed: true, lines: [] });
  const report = reportOf(runDir, 'baseline');
  assert.equal(report.mode, 'http');
  for (const m of ['d0', 'd1', 'd2'] as const) assertExactlyZero(report.models[m]!, false);
  assert.equal(report.raw_heads.compared, false);
});

test('invalid fails the gates, each broken gate named with its value and bound', async () => {
  // Same folder as the baseline run: accuracy.json keeps one report per implementation (smoke runs several).
  const runDir = join(root, 'baseline-http');
  const r = await runAccuracy({ target: server.url, impl: 'invalid', runDir, datasetDir: DATASET, maxImages: IMAGES }, quiet);
  assert.equal(r.passed, false);
  assert.ok(r.lines.some((l) => /^accuracy d0 unmatched_ratio = 1, bound <= 0/.test(l)), r.lines.join('\n'));
  assert.ok(r.lines.some((l) => /^accuracy d2 labels_accuracy = 0, bound >= 1/.test(l)), r.lines.join('\n'));
  assert.ok(r.lines.some((l) => /^accuracy d1 boxes_mse = n\/a \(0 matched/.test(l)), r.lines.join('\n'));
  assert.deepEqual(Object.keys(readAccuracyFile(runDir)!.impls), ['baseline', 'invalid']);
  const report = reportOf(runDir, 'invalid');
  assert.equal(report.overall.matched, 0);
  assert.equal(report.overall.actual_detections, 0);
  assert.match(readFileSync(join(runDir, 'summary.txt'), 'utf8'), /Accuracy of invalid .*FAILED/);
});

test('a reference whose model hash no longer matches is rebuilt, never reused', async () => {
  const path = join(refDir, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as ReferenceManifest;
  manifest.models.d1.sha256 = '0'.repeat(64);
  writeFileSync(path, JSON.stringify(manifest));
  const lines: string[] = [];
  const r = await runAccuracy({ target: undefined, impl: 'baseline', runDir: join(root, 'rebuilt'), datasetDir: DATASET, maxImages: 1 }, (l) => lines.push(l));
  assert.equal(r.passed, true, r.lines.join('\n'));
  assert.ok(lines.some((l) => /reference: building .*model d1 changed/.test(l)), lines.join('\n'));
  const rebuilt = JSON.parse(readFileSync(path, 'utf8')) as ReferenceManifest;
  assert.notEqual(rebuilt.models.d1.sha256, '0'.repeat(64));
});

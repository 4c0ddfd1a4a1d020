// make bench against a server of the seed project's API (PROTOCOL=seed), a fake here (test/helpers/
// fake-seed.ts) answering exactly the seed's JSON: readiness from its /health (no `ready` field), the
// multipart "file", its answers converted (boxes from the 512 x 512 resized input back to the
// original pixels of non-square images, padding dropped, efficientdet_dN names), so the in-run output
// checks, goodput and the accuracy replay judge them; its torch-style /vram recorded as memory. Good
// answers pass (smoke and a closed loop), another image's answers fail with exit 99, and a reference
// recorded from the target's own baseline (REFERENCE_FROM) judges its other implementations.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Summary } from '../../lib/summary.ts';
import { fakeSeed } from '../helpers/fake-seed.ts';
import { runBenchCli } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'seed-target-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const summaryOf = (root: string) => JSON.parse(readFileSync(join(latest(root), 'summary.json'), 'utf8')) as Summary;

/** Two non-square images, so the seed's 512 x 512 boxes are scaled differently on each axis. */
const SIZES = { 'wide-0': { width: 480, height: 320 }, 'tall-1': { width: 288, height: 416 } };
const work = tmp();
const DATASET_DIR = join(work, 'seedset');
/** Our baseline's reference of the two images (built in-process by the first bench that needs it). */
const REFERENCE_DIR = join(work, 'reference');
const reference = () => join(REFERENCE_DIR, 'seedset', 'detections.json');

before(async () => {
  mkdirSync(DATASET_DIR, { recursive: true });
  for (const [id, s] of Object.entries(SIZES)) {
    const px = Buffer.alloc(s.width * s.height * 3);
    for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) px.set([(x * 3) % 256, (y * 5) % 256, ((x ^ y) * 7) % 256], (y * s.width + x) * 3);
    await sharp(px, { raw: { width: s.width, height: s.height, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(DATASET_DIR, `${id}.jpg`));
  }
});

const common = { PROTOCOL: 'seed', DATASET_DIR, REFERENCE_DIR, ACCURACY: '1', WARMUP: '2' };

test('seed API target: smoke and a closed loop pass on good answers (output checks, replay, memory); answers of another image fail with exit 99', async () => {
  const good = await fakeSeed({ reference, loadingPolls: 2 });
  try {
    const root = tmp();
    const smoke = await runBenchCli({ ...common, TARGET: good.url, SCENARIO: 'smoke', SMOKE_REQUESTS: '4', IMPL: 'baseline', RESULTS_ROOT: root });
    const out = smoke.stdout + smoke.stderr;
    assert.equal(smoke.code, 0, out.slice(-4000));
    assert.ok(good.healthPolls() >= 3, 'waited through models_loaded false');
    assert.match(out, /ready \(seed API\)/);
    assert.ok(good.received.length >= 6 && good.received.every((r) => r.field === 'file' && r.impl === 'baseline' && r.filename in SIZES), JSON.stringify(good.received.slice(0, 3)));
    const s = summaryOf(root);
    const match = s.thresholds.find((t) => t.metric === 'output_match{impl:baseline}');
    assert.ok(match?.ok, `in-run output checks ran and passed: ${JSON.stringify(s.thresholds.map((t) => [t.metric, t.ok]))}`);
    assert.deepEqual(s.postprocess.map((p) => [p.name, p.passed]), [['accuracy baseline', true]]);
    const accuracy = JSON.parse(readFileSync(join(latest(root), 'accuracy.json'), 'utf8')) as { impls: Record<string, { mode: string; overall: { matched: number; reference_detections: number; boxes_mse: number } }> };
    const o = accuracy.impls['baseline']!;
    assert.equal(o.mode, 'http');
    assert.ok(o.overall.matched > 0 && o.overall.matched === o.overall.reference_detections && o.overall.boxes_mse < 1e-6, JSON.stringify(o.overall));
    const memory = JSON.parse(readFileSync(join(latest(root), 'memory.json'), 'utf8')) as { device: string; after: { used_mb: number; peak_mb: number } };
    assert.deepEqual([memory.device, memory.after.used_mb, memory.after.peak_mb], ['cuda', 123, 150], '/vram read as memory');

    const loop = await runBenchCli({ ...common, TARGET: good.url, SCENARIO: 'concurrency2', DURATION: '2s', IMPL: 'baseline', RESULTS_ROOT: root });
    assert.equal(loop.code, 0, (loop.stdout + loop.stderr).slice(-4000));
    const row = summaryOf(root).levels[0]!;
    assert.ok(row.requests > 4, `closed loop answered: ${row.requests}`);
    assert.equal(row.good, row.requests, 'every answer correct and on time (goodput counts the converted answers)');
  } finally {
    await good.close();
  }

  const wrong = await fakeSeed({ reference, wrong: 'other-image' });
  try {
    const root = tmp();
    const r = await runBenchCli({ ...common, TARGET: wrong.url, SCENARIO: 'smoke', SMOKE_REQUESTS: '2', IMPL: 'baseline', RESULTS_ROOT: root });
    assert.equal(r.code, 99, (r.stdout + r.stderr).slice(-4000));
    assert.match(r.stdout, /threshold FAILED: output_match\{impl:baseline\}/);
  } finally {
    await wrong.close();
  }
});

test("REFERENCE_FROM=baseline: the reference is recorded from the seed target's own baseline; its invalid fails against it, its baseline passes", async () => {
  const target = await fakeSeed({ source: 'fixed', sizes: SIZES });
  try {
    const root = tmp();
    const refDir = join(root, 'reference');
    const r = await runBenchCli({ ...common, REFERENCE_DIR: refDir, REFERENCE_FROM: 'baseline', TARGET: target.url, SCENARIO: 'smoke', SMOKE_REQUESTS: '2', IMPL: 'baseline,invalid', RESULTS_ROOT: root });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 99, out.slice(-4000));
    assert.match(out, /reference: recording .*seedset@baseline from baseline at http:\/\/127\.0\.0\.1:\d+ \(seed\)/);
    const manifest = JSON.parse(readFileSync(join(refDir, 'seedset@baseline', 'manifest.json'), 'utf8')) as { source: { impl: string; protocol: string } };
    assert.deepEqual([manifest.source.impl, manifest.source.protocol], ['baseline', 'seed']);
    // Recorded in original pixels: the fixed detections' first box of wide-0 spans 0.1-0.7 of its 320 px height.
    const det = JSON.parse(readFileSync(join(refDir, 'seedset@baseline', 'detections.json'), 'utf8')) as { images: { id: string; width: number; models: { d0: { boxes: number[][] } } }[] };
    const wide = det.images.find((i) => i.id === 'wide-0')!;
    assert.equal(wide.width, 480);
    assert.ok(Math.abs(wide.models.d0.boxes[0]![1]! - 32) < 1e-9 && Math.abs(wide.models.d0.boxes[0]![3]! - 224) < 1e-9, JSON.stringify(wide.models.d0.boxes[0]));
    const s = summaryOf(root);
    const verdict = (impl: string) => s.thresholds.find((t) => t.metric === `output_match{impl:${impl}}`)?.ok;
    assert.deepEqual([verdict('baseline'), verdict('invalid')], [true, false]);
    assert.deepEqual(s.postprocess.map((p) => [p.name, p.passed]), [['accuracy baseline', true], ['accuracy invalid', false]]);
  } finally {
    await target.close();
  }
});

test('a scenario whose requests carry several images is refused before any load: the seed takes one "file"', async () => {
  const target = await fakeSeed({ source: 'fixed', sizes: SIZES });
  try {
    const r = await runBenchCli({ ...common, ACCURACY: '0', TARGET: target.url, SCENARIO: 'batch', DURATION: '1s', RESULTS_ROOT: tmp() });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /PROTOCOL=seed sends one image per request \(the seed's POST \/infer\/\{impl\} takes one \\?"file\\?"\), SCENARIO=batch sends up to \d+: use PROTOCOL=native/);
    assert.equal(target.received.length, 0, 'no request was sent');
  } finally {
    await target.close();
  }
});

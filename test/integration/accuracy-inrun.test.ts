// The in-run checks catch answers mixed up between concurrent requests. A test-only fake server
// answers from a hand-made reference: `correct` answers each request with its own image's
// detections; `swapped` pairs up concurrent requests and answers each with the OTHER's detections
// (the bug a broken batcher would have). The real k6 runs lib/k6/output-check.ts against both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server, ServerResponse } from 'node:http';
import { bundleScenarios } from '../../tools/build.ts';
import { listen, run, type Completed } from '../helpers/run.ts';
import { REFERENCE_FORMAT_VERSION, type ReferenceDetectionsFile, type ReferenceImage } from '../../lib/accuracy/reference.ts';
import type { HealthResponse, InferResponse } from '../../lib/types.ts';
import type { DatasetManifest } from '../../lib/dataset.ts';

const IMAGES = 8;

/** The synthetic dataset's manifest (make data): the real k6 suite sends these images. */
const DATASET_MANIFEST = resolve('build/data/synthetic/manifest.json');
const SUITE_IMAGES = 8;

/** Image i has one detection per model at a place and class that depend on i. */
function referenceImage(i: number, id = `img-${String(i).padStart(3, '0')}.jpg`): ReferenceImage {
  const det = (shift: number) => ({
    boxes: [[10 + 40 * i + shift, 20, 40 + 40 * i + shift, 60]] as [number, number, number, number][],
    scores: [0.5 + i / 100], labels: [1 + i], num_detections: 1,
  });
  return { id, width: 512, height: 512, models: { d0: det(0), d1: det(1), d2: det(2) } };
}

const reference: ReferenceDetectionsFile = {
  version: REFERENCE_FORMAT_VERSION, dataset: 'handmade', implementation: 'baseline', models: ['d0', 'd1', 'd2'],
  images: [
    ...Array.from({ length: IMAGES }, (_, i) => referenceImage(i)),
    ...(JSON.parse(readFileSync(DATASET_MANIFEST, 'utf8')) as DatasetManifest).images.slice(0, SUITE_IMAGES).map((img, i) => referenceImage(i, img.id)),
  ],
};
const byId = new Map(reference.images.map((img) => [img.id, img]));

/** Answers with img's detections under the id the request sent (a swap that protocol checks cannot see). */
function answer(res: ServerResponse, impl: string, img: ReferenceImage | undefined, sentId = img?.id): void {
  const body: InferResponse = {
    implementation: impl,
    images: img ? [{ image_id: sentId, width: img.width, height: img.height, models: Object.fromEntries(Object.entries(img.models).map(([m, d]) => [m, { ...d, inference_ms: 1 }])) }] : [],
    timing: { decode_ms: 0, preprocess_ms: 0, queue_ms: 0, infer_ms: 0, total_ms: 0 },
  };
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}

let server: Server;
let target: string;
let script: string;
let suiteScript: string;
let referencePath: string;
let swaps = 0;

before(async () => {
  let waiting: { id: string; res: ServerResponse; timer: NodeJS.Timeout } | undefined;
  ({ server, url: target } = await listen((req, res) => {
    if (req.url === '/health') {
      const health: HealthResponse = { status: 'ok', ready: true, ep: 'cpu', models: [], implementations: ['correct', 'swapped'], uptime_s: 1, version: 'fake' };
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify(health));
    }
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-image-id']);
      const impl = (req.url ?? '').split('/').pop() ?? '';
      if (impl !== 'swapped') return answer(res, impl, byId.get(id));
      if (waiting && waiting.id !== id) {
        const other = waiting;
        waiting = undefined;
        clearTimeout(other.timer);
        swaps++;
        answer(other.res, impl, byId.get(id), other.id);
        answer(res, impl, byId.get(other.id), id);
        return;
      }
      if (waiting) {
        // Same image twice in a row: swapping would be invisible, answer the older one correctly.
        clearTimeout(waiting.timer);
        answer(waiting.res, impl, byId.get(waiting.id));
      }
      const timer = setTimeout(() => {
        if (waiting?.res === res) waiting = undefined;
        answer(res, impl, byId.get(id));
      }, 50);
      waiting = { id, res, timer };
    });
  }));
  const dir = mkdtempSync(join(tmpdir(), 'accuracy-inrun-'));
  referencePath = join(dir, 'detections.json');
  writeFileSync(referencePath, JSON.stringify(reference));
  // One call per folder: esbuild keeps the entries' common path under outdir when they differ.
  [script] = await bundleScenarios(['test/fixtures/output-check.k6.ts'], dir);
  [suiteScript] = await bundleScenarios(['scenarios/concurrency.ts'], dir);
});
after(() => server.close());

const k6 = (impl: string, extraEnv: Record<string, string> = {}) =>
  run('make', ['-s', 'k6-run', `SCRIPT=${script}`, 'K6_ARGS=--quiet --no-color'], {
    env: { TARGET: target, IMPL: impl, REFERENCE: referencePath, VUS: '4', ITERATIONS: '40', ...extraEnv },
  });

test('answers that belong to their request: output_match 100%, thresholds hold, k6 exits 0', async () => {
  const r = await k6('correct');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /output_match[^\n]*100\.00%/);
});

/** Runs k6 against the swapping fake and asserts that output_match, and only it, failed the run. */
async function assertSwapsCaught(runK6: () => Promise<Completed>): Promise<Completed> {
  swaps = 0;
  const r = await runK6();
  assert.ok(swaps > 0, 'the fake server swapped at least one pair');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error 99/, 'k6 exit code 99 (thresholds crossed)');
  // The list names every crossed threshold: ids and shapes look right, so only output_match fails.
  assert.match(r.stderr, /thresholds on metrics 'output_match\{impl:swapped\}' have been crossed/);
  return r;
}

test('answers swapped between concurrent requests: output_match below 100%, k6 exits 99', async () => {
  const r = await assertSwapsCaught(() => k6('swapped'));
  const rate = /output_match[^\n]*?(\d+\.\d+)%/.exec(r.stdout);
  assert.ok(rate && Number(rate[1]) < 100, `output_match rate ${rate?.[1]}`);
});

test('the accuracy bounds make bench resolves (BOUNDS_RESOLVED) are the ones k6 applies', async () => {
  // As if a BOUNDS_FILE declared `swapped` lossy with bounds loose enough to accept any answer: the
  // replay would pass it, so the in-run check must too (before, k6 read only the checked-in file).
  const loose = { boxes_mse_max: 1e12, scores_mse_max: 1e12, labels_accuracy_min: 0, unmatched_max: 1e6, output_match_min: 0 };
  const resolved = [{ scenario: 'test', impl: 'swapped', slo: { http_req_failed_max: 0.01, checks_min: 0.99 }, levels: {}, accuracy: { bounds: loose, source: 'test' } }];
  const path = join(mkdtempSync(join(tmpdir(), 'bounds-resolved-')), 'bounds.json');
  writeFileSync(path, JSON.stringify(resolved));
  swaps = 0;
  const r = await k6('swapped', { BOUNDS_RESOLVED: path });
  assert.ok(swaps > 0, 'the fake server swapped at least one pair');
  assert.equal(r.code, 0, `k6 held swapped to other bounds than BOUNDS_RESOLVED's:\n${r.stdout}${r.stderr}`);
});

/** The real suite (scenarios/concurrency.ts, the request hook in lib/k6/request.ts) with REFERENCE set. */
const suite = (impl: string) =>
  run('make', ['-s', 'k6-run', `SCRIPT=${suiteScript}`, 'K6_ARGS=--quiet --no-color'], {
    env: {
      TARGET: target, IMPL: impl, SCENARIO: 'concurrency4', DURATION: '2s', WARMUP: '4', REFERENCE: referencePath,
      DATASET_MANIFEST, MAX_IMAGES: String(SUITE_IMAGES), RESULTS_DIR: '',
    },
  });

test('the real concurrency suite with REFERENCE: correct answers pass the output thresholds', async () => {
  const r = await suite('correct');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /output_match\{impl:correct\}: rate>=1/);
});

test('the real concurrency suite with REFERENCE: swapped answers fail output_match, k6 exits 99', async () => {
  await assertSwapsCaught(() => suite('swapped'));
});

// The seed API's conversion (lib/seed.ts): padding rows dropped, label base, boxes from the 512 x 512
// resized input to original pixels and back, model names, readiness, /vram shapes, and one clear
// error for each malformed answer; the image-size reader it relies on (lib/image-size.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imageSize } from '../../lib/image-size.ts';
import {
  fromSeedBox, memoryOf, parseSeedAnswer, seedAsInferResponse, seedHealth, seedModelName, seedReady, SeedAnswerError, toSeedAnswer, toSeedBox, SEED_ROWS,
} from '../../lib/seed.ts';
import { ConfigError } from '../../lib/env.ts';
import { accuracyConfig } from '../../tools/accuracy/config.ts';

const size = { width: 1024, height: 256 };

/** A seed answer entry: `rows` real detections then zero padding to 100 rows. */
function entry(model_name: string, rows: { box: number[]; score: number; label: number }[]) {
  const pad = SEED_ROWS - rows.length;
  return {
    model_name,
    boxes: [...rows.map((r) => r.box), ...Array.from({ length: pad }, () => [0, 0, 0, 0])],
    scores: [...rows.map((r) => r.score), ...Array(pad).fill(0)],
    labels: [...rows.map((r) => r.label), ...Array(pad).fill(0)],
    inference_time_ms: 12.5,
  };
}

test('a seed answer: padding dropped, boxes scaled per axis to original pixels, 1-based labels kept 1-based, names mapped', () => {
  const answer = {
    implementation: 'baseline',
    total_inference_time_ms: 40,
    detections: [
      entry('efficientdet_d0', [{ box: [256, 128, 512, 256], score: 0.9, label: 1 }, { box: [0, 0, 51.2, 512], score: 0.3, label: 90 }]),
      entry('EfficientDet-D1', []),
      entry('d2', [{ box: [10, 20, 30, 40], score: 0.5, label: 18 }]),
    ],
  };
  const r = parseSeedAnswer(answer, size);
  assert.equal(r.implementation, 'baseline');
  assert.equal(r.total_ms, 40);
  assert.deepEqual(Object.keys(r.models), ['d0', 'd1', 'd2']);
  // x * 1024/512 = 2x, y * 256/512 = y/2.
  assert.deepEqual(r.models.d0!.boxes, [[512, 64, 1024, 128], [0, 0, 102.4, 256]]);
  assert.deepEqual(r.models.d0!.scores, [0.9, 0.3]);
  assert.deepEqual(r.models.d0!.labels, [1, 90], 'the suite is 1-based too (lib/types.ts): label 1 stays 1');
  assert.equal(r.models.d0!.num_detections, 2);
  assert.equal(r.models.d0!.inference_ms, 12.5);
  assert.deepEqual(r.models.d1, { boxes: [], scores: [], labels: [], num_detections: 0, inference_ms: 12.5 }, 'all padding: no detections');
  assert.deepEqual(r.models.d2!.boxes, [[20, 10, 60, 20]]);
  const native = seedAsInferResponse(r, 'img-1', size);
  assert.deepEqual([native.implementation, native.images.length, native.images[0]!.image_id, native.images[0]!.width], ['baseline', 1, 'img-1', 1024]);
  assert.equal(native.images[0]!.models.d2, r.models.d2);
});

test('boxes both ways: toSeedBox then fromSeedBox gives the original back; a 512 x 512 image is the identity', () => {
  const box = [13.25, 7.5, 900.125, 250];
  const there = toSeedBox(box, size);
  assert.deepEqual(there, [6.625, 15, 450.0625, 500]);
  const back = fromSeedBox(there, size);
  box.forEach((v, i) => assert.ok(Math.abs(back[i]! - v) < 1e-9, `corner ${i}: ${back[i]} vs ${v}`));
  assert.deepEqual(fromSeedBox([1, 2, 3, 4], { width: 512, height: 512 }), [1, 2, 3, 4]);
});

test('toSeedAnswer writes what the seed sends (100 rows, zero padding, efficientdet_dN) and parses back to the same detections', () => {
  const models = { d0: { boxes: [[10, 20, 300, 200]] as [number, number, number, number][], scores: [0.75], labels: [3], inference_ms: 4 }, d1: { boxes: [], scores: [], labels: [] } };
  const seed = toSeedAnswer('invalid', models, size);
  assert.equal(seed.detections.length, 2);
  const d0 = seed.detections[0]!;
  assert.equal(d0.model_name, 'efficientdet_d0');
  assert.deepEqual([d0.boxes.length, d0.scores.length, d0.labels.length], [100, 100, 100]);
  assert.deepEqual(d0.boxes[0], [5, 40, 150, 400]);
  assert.deepEqual([d0.boxes[1], d0.scores[1], d0.labels[1], d0.labels[0]], [[0, 0, 0, 0], 0, 0, 3]);
  const back = parseSeedAnswer(JSON.parse(JSON.stringify(seed)), size);
  assert.deepEqual(back.models.d0!.boxes, [[10, 20, 300, 200]]);
  assert.deepEqual([back.models.d0!.labels, back.models.d1!.num_detections], [[3], 0]);
});

test('model names: efficientdet_d0, efficientdet-d1, D2, EfficientDet_D0 map; others are refused naming the accepted forms', () => {
  assert.deepEqual(['efficientdet_d0', 'efficientdet-d1', 'D2', 'EfficientDet_D0', ' d1 ', 'efficientdetd2'].map(seedModelName), ['d0', 'd1', 'd2', 'd0', 'd1', 'd2']);
  for (const bad of ['efficientdet_d3', 'yolov8', '', 7, undefined]) {
    assert.throws(() => seedModelName(bad), (e: Error) => e instanceof SeedAnswerError && /is not one of efficientdet_d0, efficientdet_d1, efficientdet_d2 \(or efficientdet-dN, dN\)/.test(e.message), String(bad));
  }
});

test('malformed answers fail with one line naming the fault', () => {
  const ok = entry('d0', [{ box: [1, 2, 3, 4], score: 0.5, label: 1 }]);
  const cases: [unknown, RegExp][] = [
    [null, /not a seed answer/],
    [[], /not a seed answer/],
    [{ detections: [] }, /no implementation/],
    [{ implementation: 'baseline' }, /no detections array/],
    [{ implementation: 'b', detections: [{ ...ok, model_name: 'yolo' }] }, /model_name "yolo" is not one of/],
    [{ implementation: 'b', detections: [{ ...ok, scores: ok.scores.slice(1) }] }, /detections\[0\] \(d0\): 100 boxes, 99 scores, 100 labels/],
    [{ implementation: 'b', detections: [{ ...ok, boxes: [[1, 2, 3], ...ok.boxes.slice(1)] }] }, /row 0: box \[1,2,3\] is not 4 numbers/],
    [{ implementation: 'b', detections: [{ ...ok, labels: [0, ...ok.labels.slice(1)] }] }, /row 0: label 0 with score 0.5: the seed's labels are 1-based/],
    [{ implementation: 'b', detections: [{ ...ok, scores: ['x', ...ok.scores.slice(1)] }] }, /row 0: score "x"/],
    [{ implementation: 'b', detections: [ok, { ...ok, model_name: 'efficientdet-d0' }] }, /detections\[1\]: a second entry for d0/],
    [{ implementation: 'b', detections: [3] }, /detections\[0\] is 3, not an object/],
  ];
  for (const [json, re] of cases) assert.throws(() => parseSeedAnswer(json, size), (e: Error) => e instanceof SeedAnswerError && re.test(e.message), `${JSON.stringify(json)?.slice(0, 60)} -> ${re}`);
});

test('readiness: status healthy and models_loaded true; anything else says what it saw', () => {
  assert.deepEqual(seedReady({ status: 'healthy', models_loaded: true, gpu: false }), { ready: true });
  const not = seedReady({ status: 'healthy', models_loaded: false });
  assert.equal(not.ready, false);
  assert.match((not as { why: string }).why, /status "healthy", models_loaded false \(ready = status "healthy" and models_loaded true\)/);
  assert.equal(seedReady({ status: 'ok', ready: true }).ready, false, "our own /health is not the seed's");
  assert.deepEqual(seedHealth({ status: 'healthy', models_loaded: true }, ['baseline']).implementations, ['baseline']);
  assert.deepEqual(seedHealth({ status: 'healthy', models_loaded: true, implementations: ['baseline', 'invalid'] }, ['x']).implementations, ['baseline', 'invalid']);
});

test('/vram: our shape as it is; torch-style, nvidia-style, bytes and device lists in our shape; unknown -> undefined', () => {
  assert.deepEqual(memoryOf({ device: 'host', used_mb: 300, peak_mb: 320, window: 'measure' }), { device: 'host', used_mb: 300, peak_mb: 320, window: 'measure' });
  assert.deepEqual(memoryOf({ allocated_mb: 410, reserved_mb: 600, max_allocated_mb: 512 }), { device: 'cuda', used_mb: 410, peak_mb: 512 });
  assert.deepEqual(memoryOf({ device: 'cpu', rss_mb: 700 }), { device: 'host', used_mb: 700, peak_mb: 700 });
  assert.deepEqual(memoryOf({ device: 'cuda:0', memory_allocated: 3 * 1024 * 1024, max_memory_allocated: 4 * 1024 * 1024 }), { device: 'cuda', used_mb: 3, peak_mb: 4 });
  assert.deepEqual(memoryOf({ gpus: [{ used_mb: 900, total_mb: 16000 }] }), { device: 'cuda', used_mb: 900, peak_mb: 900 });
  assert.equal(memoryOf({ gpu_available: false }), undefined);
  assert.equal(memoryOf('nope'), undefined);
});

test('imageSize reads JPEG, PNG and WebP headers; anything else is undefined', async () => {
  const raw = sharp({ create: { width: 37, height: 23, channels: 3, background: { r: 10, g: 200, b: 30 } } });
  assert.deepEqual(imageSize(await raw.clone().jpeg().toBuffer()), { width: 37, height: 23 });
  assert.deepEqual(imageSize(await raw.clone().jpeg({ progressive: true }).toBuffer()), { width: 37, height: 23 });
  assert.deepEqual(imageSize(await raw.clone().png().toBuffer()), { width: 37, height: 23 });
  assert.deepEqual(imageSize(await raw.clone().webp().toBuffer()), { width: 37, height: 23 });
  assert.deepEqual(imageSize(await raw.clone().webp({ lossless: true }).toBuffer()), { width: 37, height: 23 });
  assert.equal(imageSize(new Uint8Array([1, 2, 3, 4, 5])), undefined);
  assert.equal(imageSize((await raw.clone().jpeg().toBuffer()).subarray(0, 20)), undefined, 'a header cut before the frame');
});

test('REFERENCE_FROM needs TARGET: one line naming both knobs', () => {
  assert.throws(() => accuracyConfig({ REFERENCE_FROM: 'baseline' }), (e: Error) => e instanceof ConfigError && /REFERENCE_FROM=baseline records the reference from a running target: set TARGET \(and PROTOCOL=seed/.test(e.message));
  const cfg = accuracyConfig({ REFERENCE_FROM: 'baseline', TARGET: 'http://h:1/', PROTOCOL: 'seed' });
  assert.deepEqual([cfg.referenceFrom, cfg.target, cfg.protocol], ['baseline', 'http://h:1', 'seed']);
});

// Reference storage: the raw-head subset (top-k, binary round trip) and the freshness rules that
// make a reference rebuild instead of being silently reused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRaw, encodeRaw, gatherRaw, RECORD_BYTES, selectRawSubset } from '../../tools/accuracy/raw.ts';
import { topK } from '../../lib/detection/nms.ts';
import { checkFreshness, fingerprintModels, MANIFEST_FILE, MANIFEST_VERSION, type ReferenceManifest } from '../../tools/accuracy/store.ts';
import { describeDataset } from '../../tools/data/dataset.ts';
import { DETECTIONS_FILE } from '../../lib/accuracy/reference.ts';

describe('raw-head subset', () => {
  it('topK returns the k largest in descending order, lower index first on ties', () => {
    const v = Float32Array.from([0.5, 3, -1, 3, 2, 7, 0]);
    assert.deepEqual([...topK(v, 3)], [5, 1, 3]);
    assert.deepEqual([...topK(v, 10)], [5, 1, 3, 4, 0, 6, 2]);
    assert.deepEqual([...topK(v, 0)], []);
  });

  it('keeps the top entries with their anchor\'s box regression and round-trips through 24-byte records', () => {
    const classes = 3;
    const logits = Float32Array.from([0, 1, 2, /* anchor 1 */ 9, 0, 0, /* anchor 2 */ 0, 5, 0]);
    const boxes = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const s = selectRawSubset(logits, boxes, classes, 2);
    assert.deepEqual([...s.indices], [3, 7]);
    assert.deepEqual([...s.logits], [9, 5]);
    assert.deepEqual([...s.boxes], [5, 6, 7, 8, 9, 10, 11, 12]);
    const buf = encodeRaw(s);
    assert.equal(buf.length, 2 * RECORD_BYTES);
    assert.deepEqual(decodeRaw(buf), s);
    // Another implementation's heads are read at the same entries.
    assert.deepEqual([...gatherRaw(logits.map((x) => x + 1), boxes, classes, s.indices).logits], [10, 6]);
  });
});

describe('reference freshness', () => {
  function setup() {
    const root = mkdtempSync(join(tmpdir(), 'ref-fresh-'));
    const models = join(root, 'models');
    const data = join(root, 'data');
    const ref = join(root, 'ref');
    mkdirSync(models);
    mkdirSync(data);
    mkdirSync(ref);
    for (const m of ['d0', 'd1', 'd2']) writeFileSync(join(models, `efficientdet-${m}.onnx`), `model ${m}`);
    for (const i of [0, 1, 2]) writeFileSync(join(data, `img-${i}.jpg`), `image ${i}`);
    const manifest: ReferenceManifest = {
      version: MANIFEST_VERSION, created: 'now', implementation: 'baseline', ep: 'cpu',
      dataset: { name: 'data', dir: data, files: describeDataset(data) },
      models: fingerprintModels(models), detections_file: DETECTIONS_FILE,
      raw_heads: { available: false, reason: 'test', top_k: 0, record_bytes: RECORD_BYTES, layout: '', classes: 0, models: {} }, build_s: 0,
    };
    writeFileSync(join(ref, MANIFEST_FILE), JSON.stringify(manifest));
    writeFileSync(join(ref, DETECTIONS_FILE), '{}');
    return { models, data, ref };
  }

  it('is fresh for the same models and images, and for a subset of them', () => {
    const { models, data, ref } = setup();
    assert.equal(checkFreshness(ref, describeDataset(data), fingerprintModels(models)).fresh, true);
    assert.equal(checkFreshness(ref, describeDataset(data, 2), fingerprintModels(models)).fresh, true);
  });

  it('is stale when a model file changed, naming the model', () => {
    const { models, data, ref } = setup();
    writeFileSync(join(models, 'efficientdet-d1.onnx'), 'retrained');
    const f = checkFreshness(ref, describeDataset(data), fingerprintModels(models));
    assert.equal(f.fresh, false);
    assert.match(!f.fresh ? f.reason : '', /model d1 changed \(sha256/);
  });

  it('is stale when an image changed or is new, naming the image', () => {
    const { models, data, ref } = setup();
    writeFileSync(join(data, 'img-1.jpg'), 'edited');
    const changed = checkFreshness(ref, describeDataset(data), fingerprintModels(models));
    assert.match(!changed.fresh ? changed.reason : '', /image img-1 changed/);
    writeFileSync(join(data, 'img-1.jpg'), 'image 1');
    writeFileSync(join(data, 'img-3.jpg'), 'new');
    const added = checkFreshness(ref, describeDataset(data), fingerprintModels(models));
    assert.match(!added.fresh ? added.reason : '', /image img-3 is not in the reference/);
  });

  it('is stale when it was made by another decode/letterbox version (one recorded before counts as 1)', () => {
    const { models, data, ref } = setup();
    assert.equal(checkFreshness(ref, describeDataset(data), fingerprintModels(models), 1).fresh, true);
    const f = checkFreshness(ref, describeDataset(data), fingerprintModels(models), 2);
    assert.match(!f.fresh ? f.reason : '', /made with preprocessing version 1, the server now decodes and letterboxes as version 2/);
  });

  it('is stale when nothing was built yet', () => {
    const { models, data } = setup();
    const f = checkFreshness(join(data, 'nowhere'), describeDataset(data), fingerprintModels(models));
    assert.match(!f.fresh ? f.reason : '', /no reference in/);
  });
});

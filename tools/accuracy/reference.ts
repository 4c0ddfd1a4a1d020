// `make reference [MAX_IMAGES=100] [DATASET_DIR=...] [FORCE=1]`: runs the baseline in-process on the
// dataset and stores its outputs in results/reference/<dataset>/ (format: store.ts). A stored
// reference is reused only while it matches the models' sha256 and the dataset files; otherwise it
// is rebuilt and the reason printed.
// REFERENCE_FROM=<impl> (with TARGET, PROTOCOL): the reference is that implementation's answers on the
// running target instead, e.g. a seed server's own baseline, stored in <dataset>@<impl>/ and reused
// while it was recorded from the same target and covers the images (FORCE=1 records it again).
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import { DETECTIONS_FILE, REFERENCE_FORMAT_VERSION, type ReferenceDetectionsFile, type ReferenceImage } from '../../lib/accuracy/reference.ts';
import { accuracyConfig, DEFAULT_REFERENCE_MAX_IMAGES, type AccuracyConfig } from './config.ts';
import { describeDataset, type DatasetFile } from '../data/dataset.ts';
import { encodeRaw, RECORD_BYTES, selectRawSubset } from './raw.ts';
import { startInProcess } from './inprocess.ts';
import { PREPROCESS_VERSION } from '../../server/index.ts';
import {
  checkFreshness, fingerprintModels, MANIFEST_FILE, MANIFEST_VERSION, referenceDir,
  type ReferenceManifest, type RawHeadsInfo,
} from './store.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { checkTargetFreshness, type ReferenceSource } from './store.ts';
import { askTarget } from './http.ts';
import { waitReady, waitReadySeed } from '../common/ready.ts';
import { runMain } from '../../lib/node/cli.ts';

const REFERENCE_IMPL = 'baseline';

interface EnsuredReference {
  dir: string;
  manifest: ReferenceManifest;
  rebuilt: boolean;
}

/** Returns a reference covering the wanted images with the current models, rebuilding it if needed. */
export async function ensureReference(
  cfg: AccuracyConfig,
  wanted: DatasetFile[] = describeDataset(cfg.datasetDir, cfg.maxImages),
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<EnsuredReference> {
  const log = options.log ?? console.log;
  if (cfg.referenceFrom && cfg.target) return ensureTargetReference(cfg, { target: cfg.target, protocol: cfg.protocol, impl: cfg.referenceFrom }, wanted, options.force === true, log);
  const dir = referenceDir(cfg.referenceRoot, cfg.datasetName);
  const models = fingerprintModels(cfg.modelsDir);
  const freshness = options.force ? { fresh: false as const, reason: 'FORCE=1' } : checkFreshness(dir, wanted, models, PREPROCESS_VERSION);
  if (freshness.fresh) {
    log(`reference: ${dir} is up to date (${freshness.manifest.dataset.files.length} images, models ${MODEL_NAMES.map((m) => `${m} ${models[m].sha256.slice(0, 12)}`).join(', ')})`);
    return { dir, manifest: freshness.manifest, rebuilt: false };
  }
  log(`reference: building ${dir}: ${freshness.reason}`);
  const manifest = await buildReference(cfg, dir, wanted, models, log);
  return { dir, manifest, rebuilt: true };
}

/** A reference of `source.impl`'s answers on a running target (REFERENCE_FROM), recorded over HTTP when missing or stale. */
async function ensureTargetReference(cfg: AccuracyConfig, source: ReferenceSource, files: DatasetFile[], force: boolean, log: (line: string) => void): Promise<EnsuredReference> {
  const dir = referenceDir(cfg.referenceRoot, `${cfg.datasetName}@${source.impl}`);
  const freshness = force ? { fresh: false as const, reason: 'FORCE=1' } : checkTargetFreshness(dir, files, source);
  if (freshness.fresh) {
    log(`reference: ${dir} is up to date (${freshness.manifest.dataset.files.length} images of ${source.impl} at ${source.target})`);
    return { dir, manifest: freshness.manifest, rebuilt: false };
  }
  log(`reference: recording ${dir} from ${source.impl} at ${source.target} (${source.protocol}): ${freshness.reason}`);
  const started = performance.now();
  if (source.protocol === 'seed') await waitReadySeed(source.target, 30, [source.impl]);
  else await waitReady(source.target, 30);
  const images: ReferenceImage[] = [];
  for (const file of files) {
    const answer = await askTarget(source.protocol as AccuracyConfig['protocol'], source.target, source.impl, cfg.datasetDir, file.file, file.id).catch((e: Error) => {
      throw new Error(`reference from ${source.impl} at ${source.target}: image ${file.id}: ${e.message}`);
    });
    const entry: ReferenceImage = { id: file.id, width: answer.size.width, height: answer.size.height, models: {} };
    for (const m of MODEL_NAMES) {
      const det = answer.models[m];
      if (det) entry.models[m] = { boxes: det.boxes, scores: det.scores, labels: det.labels, num_detections: det.num_detections };
    }
    if (Object.keys(entry.models).length === 0) throw new Error(`reference from ${source.impl} at ${source.target}: image ${file.id}: the answer has no detections of ${MODEL_NAMES.join(', ')}`);
    images.push(entry);
  }
  const endpoint = `${source.target}/infer/${source.impl}`;
  const manifest: ReferenceManifest = {
    version: MANIFEST_VERSION,
    created: new Date().toISOString(),
    implementation: source.impl,
    ep: 'unknown',
    dataset: { name: cfg.datasetName, dir: resolve(cfg.datasetDir), files },
    // The target's models are its own: the endpoint stands where our files' hashes would.
    models: Object.fromEntries(MODEL_NAMES.map((m) => [m, { file: endpoint, bytes: 0, sha256: `answers of ${endpoint}` }])) as ReferenceManifest['models'],
    detections_file: DETECTIONS_FILE,
    raw_heads: { available: false, reason: 'recorded over HTTP from a target (REFERENCE_FROM)', top_k: 0, record_bytes: RECORD_BYTES, layout: '', classes: 0, models: {} },
    build_s: Math.round(performance.now() - started) / 1000,
    source,
  };
  const models = MODEL_NAMES.filter((m) => images.some((i) => i.models[m]));
  const detections: ReferenceDetectionsFile = { version: REFERENCE_FORMAT_VERSION, dataset: cfg.datasetName, implementation: source.impl, models, images };
  writeReference(dir, detections, manifest, {});
  log(`reference: wrote ${dir} (${files.length} images of ${source.impl} at ${source.target}) in ${manifest.build_s} s`);
  return { dir, manifest, rebuilt: true };
}

/** Written next to the target and renamed into place, so an interrupted build never looks complete. */
function writeReference(dir: string, detections: ReferenceDetectionsFile, manifest: ReferenceManifest, raw: Partial<Record<ModelName, Buffer>>): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'raw'), { recursive: true });
  writeFileSync(join(tmp, DETECTIONS_FILE), JSON.stringify(detections));
  for (const [m, buf] of Object.entries(raw)) writeFileSync(join(tmp, `raw/${m}.bin`), buf);
  writeFileSync(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

async function buildReference(
  cfg: AccuracyConfig,
  dir: string,
  files: DatasetFile[],
  models: ReferenceManifest['models'],
  log: (line: string) => void,
): Promise<ReferenceManifest> {
  const started = performance.now();
  log(`reference: loading ${REFERENCE_IMPL} in-process (models from ${cfg.modelsDir})`);
  const runner = await startInProcess(REFERENCE_IMPL, cfg.modelsDir);
  const images: ReferenceImage[] = [];
  const raw: Partial<Record<ModelName, Buffer[]>> = {};
  const rawInfo: RawHeadsInfo = {
    available: cfg.rawTopK > 0, top_k: cfg.rawTopK, record_bytes: RECORD_BYTES,
    layout: 'per image (manifest order), top_k records sorted by logit descending: uint32 LE anchor*classes+class, float32 LE class logit, float32 LE box_regression[4] of that anchor',
    classes: 0, models: {},
  };
  if (cfg.rawTopK === 0) rawInfo.reason = 'RAW_TOPK=0';
  const loopStart = performance.now();
  try {
    for (const [n, file] of files.entries()) {
      const { width, height, result } = await runner.infer(cfg.datasetDir, file.file, file.id, rawInfo.available);
      const entry: ReferenceImage = { id: file.id, width, height, models: {} };
      for (const m of MODEL_NAMES) {
        const det = result.models[m];
        if (!det) throw new Error(`${REFERENCE_IMPL} returned no ${m} detections for ${file.id}`);
        entry.models[m] = { boxes: det.boxes, scores: det.scores, labels: det.labels, num_detections: det.num_detections };
        if (!rawInfo.available) continue;
        if (!det.raw) {
          rawInfo.available = false;
          rawInfo.reason = `${REFERENCE_IMPL} returned no raw heads`;
          continue;
        }
        const anchors = det.raw.box_regression.length / 4;
        const classes = det.raw.class_logits.length / anchors;
        rawInfo.classes = classes;
        const subset = selectRawSubset(det.raw.class_logits, det.raw.box_regression, classes, cfg.rawTopK);
        rawInfo.models[m] = { anchors, file: `raw/${m}.bin`, entries_per_image: subset.indices.length };
        (raw[m] ??= []).push(encodeRaw(subset));
      }
      images.push(entry);
      const done = n + 1;
      if (done === files.length || done % 10 === 0 || done === 1) {
        const per = (performance.now() - loopStart) / done;
        log(`reference: ${done}/${files.length} images (${(per / 1000).toFixed(2)} s/image, ~${Math.round(((files.length - done) * per) / 1000)} s left)`);
      }
    }
  } finally {
    await runner.close();
  }
  // The sessions were loaded after the hashes were taken: a model rewritten in between (make models
  // running alongside) would put outputs of one file under the hash of another.
  const after = fingerprintModels(cfg.modelsDir);
  const changed = MODEL_NAMES.filter((m) => after[m].sha256 !== models[m].sha256);
  if (changed.length > 0) throw new Error(`model file(s) ${changed.join(', ')} changed while the reference was being built: run 'make reference' again once 'make models' is done`);
  const manifest: ReferenceManifest = {
    version: MANIFEST_VERSION,
    preprocess: PREPROCESS_VERSION,
    created: new Date().toISOString(),
    implementation: REFERENCE_IMPL,
    ep: runner.ep,
    dataset: { name: cfg.datasetName, dir: resolve(cfg.datasetDir), files },
    models,
    detections_file: DETECTIONS_FILE,
    raw_heads: rawInfo.available ? rawInfo : { ...rawInfo, models: {} },
    build_s: Math.round(performance.now() - started) / 1000,
  };
  const detections: ReferenceDetectionsFile = {
    version: REFERENCE_FORMAT_VERSION, dataset: cfg.datasetName, implementation: REFERENCE_IMPL, models: [...MODEL_NAMES], images,
  };
  writeReference(dir, detections, manifest, rawInfo.available ? Object.fromEntries(MODEL_NAMES.map((m) => [m, Buffer.concat(raw[m] ?? [])])) : {});
  log(`reference: wrote ${dir} (${files.length} images, raw heads: ${rawInfo.available ? `top ${cfg.rawTopK} per image and model` : rawInfo.reason}) in ${manifest.build_s} s`);
  return manifest;
}

async function main(): Promise<void> {
  const cfg = accuracyConfig(process.env, { maxImages: DEFAULT_REFERENCE_MAX_IMAGES });
  const wanted = describeDataset(cfg.datasetDir, cfg.maxImages);
  await ensureReference(cfg, wanted, { force: cfg.force });
}

if (isMain(import.meta.url)) runMain('reference', main);

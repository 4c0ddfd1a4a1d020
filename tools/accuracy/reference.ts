// `make reference [MAX_IMAGES=100] [DATASET_DIR=...] [FORCE=1]`: runs the baseline in-process on the
// dataset and stores its outputs in results/reference/<dataset>/ (format: store.ts). A stored
// reference is reused only while it matches the models' sha256 and the dataset files; otherwise it
// is rebuilt and the reason printed.
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
  // Written next to the target and renamed into place, so an interrupted build never looks complete.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'raw'), { recursive: true });
  writeFileSync(join(tmp, DETECTIONS_FILE), JSON.stringify(detections));
  if (rawInfo.available) for (const m of MODEL_NAMES) writeFileSync(join(tmp, `raw/${m}.bin`), Buffer.concat(raw[m] ?? []));
  writeFileSync(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  log(`reference: wrote ${dir} (${files.length} images, raw heads: ${rawInfo.available ? `top ${cfg.rawTopK} per image and model` : rawInfo.reason}) in ${manifest.build_s} s`);
  return manifest;
}

async function main(): Promise<void> {
  const cfg = accuracyConfig(process.env, { maxImages: DEFAULT_REFERENCE_MAX_IMAGES });
  const wanted = describeDataset(cfg.datasetDir, cfg.maxImages);
  await ensureReference(cfg, wanted, { force: cfg.force });
}

if (isMain(import.meta.url)) runMain('reference', main);

// The stored reference, results/reference/<dataset>/:
//   manifest.json    what it was built from (models' sha256, dataset files with sha256) and how
//   detections.json  per image and model: boxes, scores, labels (lib/accuracy/reference.ts; k6 opens it)
//   raw/<model>.bin  top-k raw-head entries per image (see raw.ts), images in manifest order
// A reference is reused only while the model hashes match and it covers the requested images with
// the same contents; anything else is reported as stale (with the reason) and rebuilt.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_FILE, MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';
import { DETECTIONS_FILE, parseReferenceDetections, type ReferenceDetectionsFile } from '../../lib/accuracy/reference.ts';
import { sha256, type DatasetFile } from '../data/dataset.ts';
import { decodeRaw, RECORD_BYTES, type RawSubset } from './raw.ts';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;

interface ModelFingerprint {
  file: string;
  bytes: number;
  sha256: string;
}

export interface RawHeadsInfo {
  available: boolean;
  /** Why there are none (available: false). */
  reason?: string;
  top_k: number;
  record_bytes: number;
  layout: string;
  classes: number;
  /** Per model: anchors A and the file; entries per image = min(top_k, A * classes). */
  models: Partial<Record<ModelName, { anchors: number; file: string; entries_per_image: number }>>;
}

export interface ReferenceManifest {
  version: number;
  created: string;
  implementation: string;
  ep: string;
  dataset: { name: string; dir: string; files: DatasetFile[] };
  models: Record<ModelName, ModelFingerprint>;
  detections_file: string;
  raw_heads: RawHeadsInfo;
  build_s: number;
  /** The server's PREPROCESS_VERSION the reference was made with (absent: before it was recorded). */
  preprocess?: number;
  /** Recorded from a running target (REFERENCE_FROM), not from our baseline in-process: its models are
   * the target's own (unknown here), so `models` names the endpoint and only the images are checked. */
  source?: ReferenceSource;
}

export interface ReferenceSource {
  target: string;
  protocol: string;
  impl: string;
}

export function modelFile(modelsDir: string, model: ModelName): string {
  return join(modelsDir, MODEL_FILE(model));
}

export function fingerprintModels(modelsDir: string): Record<ModelName, ModelFingerprint> {
  const out = {} as Record<ModelName, ModelFingerprint>;
  for (const m of MODEL_NAMES) {
    const file = modelFile(modelsDir, m);
    if (!existsSync(file)) throw new Error(`model ${file} is missing: run 'make models' or set MODELS_DIR`);
    const data = readFileSync(file);
    out[m] = { file, bytes: data.length, sha256: sha256(data) };
  }
  return out;
}

export function referenceDir(root: string, datasetName: string): string {
  return join(root, datasetName);
}

type Freshness = { fresh: true; manifest: ReferenceManifest } | { fresh: false; reason: string };

/** Whether the stored reference can be used for these images with these models. */
export function checkFreshness(dir: string, wanted: DatasetFile[], models: Record<ModelName, ModelFingerprint>, preprocess?: number): Freshness {
  const read = readManifest(dir);
  if (!read.fresh) return read;
  const manifest = read.manifest;
  if (preprocess !== undefined && (manifest.preprocess ?? 1) !== preprocess) {
    return { fresh: false, reason: `made with preprocessing version ${manifest.preprocess ?? 1}, the server now decodes and letterboxes as version ${preprocess}` };
  }
  for (const m of MODEL_NAMES) {
    const had = manifest.models?.[m]?.sha256;
    if (had !== models[m].sha256) return { fresh: false, reason: `model ${m} changed (sha256 ${short(had)} in the reference, ${short(models[m].sha256)} now)` };
  }
  return coversImages(dir, manifest, wanted);
}

/** Whether a reference recorded from a target can be used: the same target, protocol and implementation, covering these images. */
export function checkTargetFreshness(dir: string, wanted: DatasetFile[], source: ReferenceSource): Freshness {
  const read = readManifest(dir);
  if (!read.fresh) return read;
  const manifest = read.manifest;
  const had = manifest.source;
  if (!had || had.target !== source.target || had.protocol !== source.protocol || had.impl !== source.impl) {
    return { fresh: false, reason: `recorded from ${had ? `${had.impl} at ${had.target} (${had.protocol})` : 'our baseline in-process'}, now asked from ${source.impl} at ${source.target} (${source.protocol})` };
  }
  return coversImages(dir, manifest, wanted);
}

/** The manifest of the reference in `dir`, when it exists, parses and has this tool's version. */
function readManifest(dir: string): Freshness {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return { fresh: false, reason: `no reference in ${dir}` };
  let manifest: ReferenceManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as ReferenceManifest;
  } catch (e) {
    return { fresh: false, reason: `${path} is unreadable (${(e as Error).message})` };
  }
  if (manifest.version !== MANIFEST_VERSION) return { fresh: false, reason: `manifest version ${manifest.version}, this tool writes ${MANIFEST_VERSION}` };
  return { fresh: true, manifest };
}

/** Fresh when the reference's detections file exists and it holds every wanted image unchanged. */
function coversImages(dir: string, manifest: ReferenceManifest, wanted: DatasetFile[]): Freshness {
  if (!existsSync(join(dir, manifest.detections_file ?? DETECTIONS_FILE))) return { fresh: false, reason: `${DETECTIONS_FILE} is missing` };
  const stored = new Map(manifest.dataset.files.map((f) => [f.id, f.sha256]));
  for (const f of wanted) {
    const had = stored.get(f.id);
    if (had === undefined) return { fresh: false, reason: `image ${f.id} is not in the reference (it holds ${stored.size} images)` };
    if (had !== f.sha256) return { fresh: false, reason: `image ${f.id} changed (sha256 ${short(had)} in the reference, ${short(f.sha256)} now)` };
  }
  return { fresh: true, manifest };
}

const short = (h: string | undefined): string => (h ? h.slice(0, 12) : 'none');

export function loadDetections(dir: string, manifest: ReferenceManifest): ReferenceDetectionsFile {
  const path = join(dir, manifest.detections_file);
  return parseReferenceDetections(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** The raw-head subset of every image for one model, by image id; empty when the reference has none. */
export function loadRaw(dir: string, manifest: ReferenceManifest, model: ModelName): Map<string, RawSubset> {
  const info = manifest.raw_heads.models[model];
  const out = new Map<string, RawSubset>();
  if (!manifest.raw_heads.available || !info) return out;
  const buf = readFileSync(join(dir, info.file));
  const per = info.entries_per_image * RECORD_BYTES;
  if (buf.length !== per * manifest.dataset.files.length) {
    throw new Error(`${info.file}: ${buf.length} bytes, expected ${per * manifest.dataset.files.length}: run 'make reference' again`);
  }
  manifest.dataset.files.forEach((f, i) => out.set(f.id, decodeRaw(buf.subarray(i * per, (i + 1) * per))));
  return out;
}

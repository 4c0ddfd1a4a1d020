// `make data` (second step): the per-model input tensors the k6 v2 client sends with
// V2_MODELS=d0,d1,d2, made by the server's own decode + letterbox code so that a v2 answer can equal
// the native one. About 15 MB per image for the three models (3 x S x S float32: 3.1 + 4.9 + 7.1 MB),
// so only the first TENSOR_IMAGES (8) images get them. Writes TENSORS_DIR (build/tensors/<dataset>/):
// <id>.<model>.f32 and manifest.json (lib/v2/tensors.ts). Idempotent: a manifest made from the same
// images and model files, whose tensor files all exist, means there is nothing to do.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, type DatasetManifest } from '../../lib/dataset.ts';
import { ConfigError, type Env } from '../../lib/env.ts';
import { int, knob, readKnobs, text } from '../../lib/knobs.ts';
import { DEFAULT_TENSOR_IMAGES, TENSORS_VERSION, type TensorImage, type TensorManifest } from '../../lib/v2/tensors.ts';
import { MODEL_FILE, MODEL_NAMES } from '../../lib/model-contract.ts';
import { imageId, listImages } from './dataset.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { digestOf, stampHolds, writeStamp } from '../../lib/node/stamp.ts';
import { DEFAULT_DIR as SYNTHETIC_DIR } from './synthetic.ts';

/** The server's decode and letterbox, which make the tensors: a change to either voids the stamp (the full check then compares PREPROCESS_VERSION). */
const PREPROCESS_SOURCES = ['decode.ts', 'letterbox.ts'].map((f) => fileURLToPath(new URL(`../../server/runtime/${f}`, import.meta.url)));

export interface TensorsConfig {
  datasetDir: string;
  outDir: string;
  count: number;
  modelsDir: string;
}

export const TENSORS_KNOBS = {
  datasetDir: knob({ env: 'DATASET_DIR', tier: 'essential', default: '', defaultText: 'build/data/synthetic', ...text('folder'), doc: 'the images whose per-model tensors are prepared' }),
  outDir: knob({ env: 'TENSORS_DIR', tier: 'expert', default: '', defaultText: 'build/tensors/<dataset>', ...text('folder'), doc: 'where the prepared tensors and their manifest go' }),
  count: knob({ env: 'TENSOR_IMAGES', tier: 'expert', default: DEFAULT_TENSOR_IMAGES, ...int(1), doc: 'how many images get tensors (about 15 MB per image for D0+D1+D2)' }),
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: '', defaultText: 'build/models', ...text('folder'), doc: 'the models whose input sizes and normalisation the tensors follow' }),
};

export function tensorsConfig(env: Env): TensorsConfig {
  const k = readKnobs(TENSORS_KNOBS, env);
  const datasetDir = k.datasetDir || SYNTHETIC_DIR;
  return {
    datasetDir,
    outDir: k.outDir || join('build', 'tensors', basename(resolve(datasetDir))),
    count: k.count,
    modelsDir: k.modelsDir || join('build', 'models'),
  };
}

/** The images of a dataset folder, in the order the bench sends them (its manifest, else the listing). */
function datasetImages(dir: string, count: number): { name: string; images: { id: string; file: string }[] } {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as DatasetManifest;
    return { name: m.name, images: m.images.slice(0, count).map((i) => ({ id: i.id, file: isAbsolute(i.file) ? i.file : resolve(dir, i.file) })) };
  }
  return { name: basename(resolve(dir)), images: listImages(dir, count).map((f) => ({ id: imageId(f), file: resolve(dir, f) })) };
}

/** What the tensors depend on and are: the model files, the dataset's manifest and images, the tensors' manifest and files. */
function stampFiles(cfg: TensorsConfig, images: { file: string }[], manifestPath: string): string[] {
  let tensors: string[] = [];
  try {
    tensors = (JSON.parse(readFileSync(manifestPath, 'utf8')) as TensorManifest).images.flatMap((i) => Object.values(i.tensors).map((t) => join(cfg.outDir, t!.file)));
  } catch {
    // No manifest yet (or unreadable): the stamp cannot hold, the full check runs.
  }
  return [...MODEL_NAMES.map((n) => join(cfg.modelsDir, MODEL_FILE(n))), join(cfg.datasetDir, MANIFEST_FILE), ...images.map((i) => i.file), manifestPath, ...tensors];
}

export async function prepareTensors(cfg: TensorsConfig, log: (line: string) => void = () => {}): Promise<string> {
  if (!existsSync(cfg.datasetDir)) throw new ConfigError(`DATASET_DIR=${cfg.datasetDir} does not exist: run 'make data' or point it at a folder of JPEG/PNG images`);
  const { name, images } = datasetImages(cfg.datasetDir, cfg.count);
  const manifestPath = resolve(cfg.outDir, MANIFEST_FILE);
  const stamp = join(cfg.outDir, '.up-to-date.json');
  const key = { dataset: resolve(cfg.datasetDir), models: resolve(cfg.modelsDir), count: cfg.count, version: TENSORS_VERSION, preprocess: digestOf(PREPROCESS_SOURCES) };
  if (stampHolds(stamp, key, stampFiles(cfg, images, manifestPath))) return manifestPath;
  const { decodeImage, letterboxBatch, PREPROCESS_VERSION, readModelInfos } = await import('../../server/index.ts');
  const infos = await readModelInfos(cfg.modelsDir);
  const source: TensorManifest['source'] = {
    dataset: resolve(cfg.datasetDir),
    models: Object.fromEntries(infos.map((m) => [m.name, { input_size: m.inputSize, file_bytes: statSync(m.file).size }])),
    version: TENSORS_VERSION,
    // Tensors made by another decode/letterbox are remade (they would not match a new reference).
    preprocess: PREPROCESS_VERSION,
  };
  if (existsSync(manifestPath)) {
    const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as TensorManifest;
    const fresh =
      JSON.stringify(old.source) === JSON.stringify(source) &&
      old.images.map((i) => i.id).join() === images.map((i) => i.id).join() &&
      old.images.every((i) => Object.values(i.tensors).every((t) => existsSync(join(cfg.outDir, t!.file)) && statSync(join(cfg.outDir, t!.file)).size === t!.bytes));
    if (fresh) {
      writeStamp(stamp, key, stampFiles(cfg, images, manifestPath));
      return manifestPath;
    }
  }
  mkdirSync(cfg.outDir, { recursive: true });
  const out: TensorImage[] = [];
  for (const img of images) {
    const bytes = readFileSync(img.file);
    const decoded = await decodeImage(bytes, { maxPixels: 1e9 });
    const entry: TensorImage = { id: img.id, file: img.file, bytes: bytes.length, width: decoded.width, height: decoded.height, tensors: {} };
    for (const info of infos) {
      const { data, boxes } = await letterboxBatch([decoded], info.inputSize, info.norm);
      const file = `${img.id}.${info.name}.f32`;
      writeFileSync(join(cfg.outDir, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      entry.tensors[info.name] = { file, shape: [3, info.inputSize, info.inputSize], bytes: data.byteLength, scale_x: boxes[0]!.scaleX, scale_y: boxes[0]!.scaleY };
    }
    out.push(entry);
  }
  const manifest: TensorManifest = { name, images: out, source };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  writeStamp(stamp, key, stampFiles(cfg, images, manifestPath));
  const total = out.reduce((s, i) => s + Object.values(i.tensors).reduce((a, t) => a + t!.bytes, 0), 0);
  log(`tensors: ${out.length} image(s) x ${infos.length} models -> ${cfg.outDir} (${(total / 1e6).toFixed(0)} MB)`);
  return manifestPath;
}

if (isMain(import.meta.url)) {
  try {
    await prepareTensors(tensorsConfig(process.env), (l) => console.log(l));
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tensors: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}

// The seed project's API (PROTOCOL=seed), read and written in one place for both runtimes: the k6
// client (lib/k6/seed.ts), the bench's readiness and memory readers, the accuracy replay and
// recording (tools/accuracy) and the fake seed target of the tests. Pure TypeScript.
//
// The seed API:
//   POST /infer/{impl}, multipart field "file" (one image)
//     -> {implementation, total_inference_time_ms,
//         detections: [{boxes, scores, labels, model_name, inference_time_ms}, ...]}  one entry per model
//   GET /health -> {"status": "healthy", "models_loaded": true, ...}   (no `ready` field)
//   GET /vram   -> memory (field names vary: see memoryOf)
// Its detections differ from ours (lib/types.ts ModelDetections) in three stated ways, converted here:
//   box space  [x1, y1, x2, y2] in the 512 x 512 model input made by a PLAIN RESIZE of the original
//              image (no letterbox, aspect ratio not kept): x * width / 512, y * height / 512 gives
//              original-image pixels. An assumption (the seed's documents show 512x512 resized inputs
//              and no padding offsets); fromSeedBox/toSeedBox are the only places that know it.
//   labels     1-based COCO ids (0 = padding). Ours are 1-based too (the models' class_id_offset 1), so
//              the conversion is label - SEED_LABEL_BASE + SUITE_LABEL_BASE, identity today, stated so a
//              0-based server changes one constant.
//   padding    100 rows per model, zero-padded: a row with score 0 and box zeros is dropped.
// model_name   efficientdet_d0 / efficientdet-d0 / d0 (any case) -> d0; likewise d1, d2.
import { MODEL_NAMES, type HealthResponse, type ImageResult, type InferResponse, type MemoryResponse, type ModelDetections, type ModelName } from './types.ts';
import type { ImageSize } from './image-size.ts';

/** The side of the seed's resized model input that its boxes are given in. */
export const SEED_INPUT_SIZE = 512;
/** The seed's first class id (0 marks a padding row). */
export const SEED_LABEL_BASE = 1;
/** Ours (lib/types.ts: 1-based COCO ids, as the models emit them). */
const SUITE_LABEL_BASE = 1;
/** Rows per model in a seed answer (zero-padded past the detections). */
export const SEED_ROWS = 100;
/** The multipart field the seed reads the image from. */
export const SEED_FILE_FIELD = 'file';

/** A seed answer that cannot be read; the message names what is wrong and where. */
export class SeedAnswerError extends Error {
  override name = 'SeedAnswerError';
}

export interface SeedModelDetections {
  boxes: number[][];
  scores: number[];
  labels: number[];
  model_name: string;
  inference_time_ms: number;
}

export interface SeedAnswer {
  implementation: string;
  total_inference_time_ms: number;
  detections: SeedModelDetections[];
}

/** One seed answer in our terms: every model's detections in original-image pixels, padding dropped. */
export interface SeedResult {
  implementation: string;
  total_ms: number;
  models: Partial<Record<ModelName, ModelDetections>>;
}

const MODEL_NAME = /^(?:efficientdet[-_ ]?)?(d[0-9]+)$/i;

/** The seed's model_name as ours: efficientdet_d0, efficientdet-d0, d0 (any case) -> d0. */
export function seedModelName(name: unknown): ModelName {
  const m = typeof name === 'string' ? MODEL_NAME.exec(name.trim()) : null;
  const model = m?.[1]!.toLowerCase();
  if (!model || !(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new SeedAnswerError(`model_name ${JSON.stringify(name)} is not one of ${MODEL_NAMES.map((n) => `efficientdet_${n}`).join(', ')} (or efficientdet-dN, dN): the suite measures D0-D2 only`);
  }
  return model as ModelName;
}

/** The seed's name for one of ours (what a seed server sends). */
export const seedModelNameOf = (model: ModelName): string => `efficientdet_${model}`;

/** A box of the seed's 512 x 512 resized input -> original-image pixels (plain resize: each axis scaled apart). */
export function fromSeedBox(box: readonly number[], size: ImageSize): [number, number, number, number] {
  const sx = size.width / SEED_INPUT_SIZE;
  const sy = size.height / SEED_INPUT_SIZE;
  return [box[0]! * sx, box[1]! * sy, box[2]! * sx, box[3]! * sy];
}

/** The inverse: original-image pixels -> the seed's 512 x 512 resized input. */
export function toSeedBox(box: readonly number[], size: ImageSize): [number, number, number, number] {
  const sx = SEED_INPUT_SIZE / size.width;
  const sy = SEED_INPUT_SIZE / size.height;
  return [box[0]! * sx, box[1]! * sy, box[2]! * sx, box[3]! * sy];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** One `detections` entry -> its model and our detections; throws SeedAnswerError naming the bad field. */
export function fromSeedDetections(d: unknown, size: ImageSize, where = 'detections entry'): { model: ModelName; det: ModelDetections } {
  if (d === null || typeof d !== 'object') throw new SeedAnswerError(`${where} is ${JSON.stringify(d)}, not an object {boxes, scores, labels, model_name}`);
  const e = d as Partial<SeedModelDetections>;
  const model = seedModelName(e.model_name);
  const at = `${where} (${String(e.model_name)})`;
  if (!Array.isArray(e.boxes) || !Array.isArray(e.scores) || !Array.isArray(e.labels)) throw new SeedAnswerError(`${at}: boxes, scores and labels must be arrays`);
  const n = e.scores.length;
  if (e.boxes.length !== n || e.labels.length !== n) throw new SeedAnswerError(`${at}: ${e.boxes.length} boxes, ${n} scores, ${e.labels.length} labels: one of each per row`);
  const det: ModelDetections = { boxes: [], scores: [], labels: [], num_detections: 0, inference_ms: finite(e.inference_time_ms) ? e.inference_time_ms : 0 };
  for (let i = 0; i < n; i++) {
    const box = e.boxes[i];
    const score = e.scores[i];
    const label = e.labels[i];
    if (!Array.isArray(box) || box.length !== 4 || !box.every(finite)) throw new SeedAnswerError(`${at}: row ${i}: box ${JSON.stringify(box)} is not 4 numbers [x1, y1, x2, y2]`);
    if (!finite(score) || !finite(label)) throw new SeedAnswerError(`${at}: row ${i}: score ${JSON.stringify(score)} and label ${JSON.stringify(label)} must be numbers`);
    // Padding: score 0 and box zeros (the seed pads every model to SEED_ROWS rows).
    if (score === 0 && box[0] === 0 && box[1] === 0 && box[2] === 0 && box[3] === 0) continue;
    if (label < SEED_LABEL_BASE) throw new SeedAnswerError(`${at}: row ${i}: label ${label} with score ${score}: the seed's labels are ${SEED_LABEL_BASE}-based (0 marks padding rows)`);
    det.boxes.push(fromSeedBox(box, size));
    det.scores.push(score);
    det.labels.push(Math.round(label) - SEED_LABEL_BASE + SUITE_LABEL_BASE);
  }
  det.num_detections = det.scores.length;
  return { model, det };
}

/** A seed answer (parsed JSON) for an image of `size` in our terms; throws SeedAnswerError naming what is wrong. */
export function parseSeedAnswer(json: unknown, size: ImageSize): SeedResult {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SeedAnswerError(`the answer is ${JSON.stringify(json)?.slice(0, 80)}, not a seed answer {implementation, total_inference_time_ms, detections}`);
  const a = json as Partial<SeedAnswer>;
  if (typeof a.implementation !== 'string') throw new SeedAnswerError(`the answer has no implementation (string): not a seed answer`);
  if (!Array.isArray(a.detections)) throw new SeedAnswerError(`the answer has no detections array: not a seed answer`);
  const models: SeedResult['models'] = {};
  a.detections.forEach((d, i) => {
    const { model, det } = fromSeedDetections(d, size, `detections[${i}]`);
    if (models[model]) throw new SeedAnswerError(`detections[${i}]: a second entry for ${model}`);
    models[model] = det;
  });
  return { implementation: a.implementation, total_ms: finite(a.total_inference_time_ms) ? a.total_inference_time_ms : 0, models };
}

/** A seed result as our native answer of one image, so the output checks read it unchanged. */
export function seedAsInferResponse(r: SeedResult, imageId: string, size: ImageSize): InferResponse {
  const image: ImageResult = { image_id: imageId, width: size.width, height: size.height, models: r.models };
  return { implementation: r.implementation, images: [image], timing: { decode_ms: 0, preprocess_ms: 0, queue_ms: 0, infer_ms: r.total_ms, total_ms: r.total_ms } };
}

/** Our detections as a seed server answers them (fake targets, peers): boxes in its 512 space, 1-based labels, zero-padded to `rows`. */
export function toSeedAnswer(impl: string, models: Partial<Record<ModelName, Pick<ModelDetections, 'boxes' | 'scores' | 'labels'> & { inference_ms?: number }>>, size: ImageSize, rows = SEED_ROWS): SeedAnswer {
  const detections = MODEL_NAMES.filter((m) => models[m]).map((m): SeedModelDetections => {
    const d = models[m]!;
    const n = Math.min(rows, d.scores.length);
    const out: SeedModelDetections = { boxes: [], scores: [], labels: [], model_name: seedModelNameOf(m), inference_time_ms: d.inference_ms ?? 0 };
    for (let i = 0; i < rows; i++) {
      out.boxes.push(i < n ? toSeedBox(d.boxes[i]!, size) : [0, 0, 0, 0]);
      out.scores.push(i < n ? d.scores[i]! : 0);
      out.labels.push(i < n ? d.labels[i]! - SUITE_LABEL_BASE + SEED_LABEL_BASE : 0);
    }
    return out;
  });
  return { implementation: impl, total_inference_time_ms: detections.reduce((s, d) => s + d.inference_time_ms, 0), detections };
}

/** Whether the seed's /health says it can serve: status healthy and models_loaded true; else what it says. */
export function seedReady(json: unknown): { ready: true } | { ready: false; why: string } {
  const h = (json ?? {}) as { status?: unknown; models_loaded?: unknown };
  if (h.status === 'healthy' && h.models_loaded === true) return { ready: true };
  return { ready: false, why: `status ${JSON.stringify(h.status)}, models_loaded ${JSON.stringify(h.models_loaded)} (ready = status "healthy" and models_loaded true)` };
}

/** The seed's /health in the shape the suite records: implementations from its own list when it has one, else those asked for. */
export function seedHealth(json: unknown, asked: readonly string[]): HealthResponse {
  const h = (json ?? {}) as { implementations?: unknown; version?: unknown; device?: unknown };
  const listed = Array.isArray(h.implementations) && h.implementations.every((i) => typeof i === 'string') ? (h.implementations as string[]) : undefined;
  return {
    status: 'ok', ready: true, ep: typeof h.device === 'string' ? h.device : 'unknown', models: [],
    implementations: listed ?? [...asked], uptime_s: 0, version: typeof h.version === 'string' ? h.version : 'seed',
  };
}

/** Fields a /vram answer may give memory in, MB or bytes; the first present wins. */
const USED = ['used_mb', 'allocated_mb', 'memory_allocated_mb', 'vram_used_mb', 'gpu_memory_used_mb', 'rss_mb', 'used_bytes', 'allocated_bytes', 'memory_allocated'];
const PEAK = ['peak_mb', 'max_allocated_mb', 'max_memory_allocated_mb', 'peak_allocated_mb', 'vram_peak_mb', 'peak_bytes', 'max_allocated_bytes', 'max_memory_allocated'];
const MB = 1024 * 1024;

function firstMb(o: Record<string, unknown>, names: readonly string[]): number | undefined {
  for (const n of names) {
    const v = o[n];
    if (finite(v)) return n.endsWith('_mb') ? v : v / MB;
  }
  return undefined;
}

/**
 * A /vram answer as ours ({device, used_mb, peak_mb}): our server's shape as it is, or a seed's, whose
 * field names vary (torch's allocated/max_allocated, nvidia-smi's used, MB or bytes; the first object
 * of a `devices`/`gpus` list). undefined when no known field is there.
 */
export function memoryOf(json: unknown): MemoryResponse | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  const list = Array.isArray(o['devices']) ? o['devices'] : Array.isArray(o['gpus']) ? o['gpus'] : undefined;
  const src = firstMb(o, USED) === undefined && list && list[0] && typeof list[0] === 'object' ? (list[0] as Record<string, unknown>) : o;
  const used = firstMb(src, USED);
  if (used === undefined) return undefined;
  const peak = firstMb(src, PEAK) ?? used;
  const named = String(o['device'] ?? src['device'] ?? '');
  const device: MemoryResponse['device'] = named === 'host' || named === 'cpu' ? 'host' : named === 'cuda' || /cuda|gpu/i.test(named) || src !== o || 'allocated_mb' in src || 'vram_used_mb' in src ? 'cuda' : 'host';
  return { device, used_mb: used, peak_mb: peak, ...(typeof o['window'] === 'string' ? { window: o['window'] } : {}) };
}

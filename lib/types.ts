// Wire types shared by the server (Node), the k6 scenarios and the accuracy tools.
// Pure TypeScript: no Node or k6 imports, so both runtimes can use it.

// The detector names belong to the model contract; re-exported here for the wire types' readers.
export { MODEL_NAMES, type ModelName } from './model-contract.ts';
import type { ModelName } from './model-contract.ts';

/** Detections of one model for one image, boxes in ORIGINAL image pixels [x1, y1, x2, y2]. */
export interface ModelDetections {
  boxes: [number, number, number, number][];
  scores: number[];
  /** 1-based COCO-style class ids, as the models emit them. */
  labels: number[];
  num_detections: number;
  /** Time this model's session.run took for the batch this image was in. */
  inference_ms: number;
}

/** Server-side time split of one request (Triton-style: queue, compute, overhead). */
interface Timing {
  decode_ms: number;
  preprocess_ms: number;
  queue_ms: number;
  infer_ms: number;
  total_ms: number;
}

/** Result for one image of a request. */
export interface ImageResult {
  /** Image id the client sent in the X-Image-Id header (or the multipart filename), if any. */
  image_id?: string;
  width: number;
  height: number;
  models: Partial<Record<ModelName, ModelDetections>>;
}

/** Response body of POST /infer/:impl. One entry in `images` per uploaded image. */
export interface InferResponse {
  implementation: string;
  /** Execution provider the server's sessions use (cpu | cuda); optional: a foreign TARGET may not send it. */
  ep?: string;
  images: ImageResult[];
  timing: Timing;
}

/** Error body of every 4xx/5xx answer. */
export interface ErrorResponse {
  error: string;
  detail: string;
}

export interface ImplementationInfo {
  name: string;
  description: string;
  /** True when outputs must equal the baseline's (accuracy gates are exact). */
  lossless: boolean;
}

export interface HealthResponse {
  status: 'ok' | 'loading';
  ready: boolean;
  ep: string;
  models: { name: ModelName; input_size: number; file: string }[];
  implementations: string[];
  uptime_s: number;
  version: string;
  // This server's own fields; optional, since a foreign TARGET need not send them.
  /** What EP asked for (cpu | cuda | cuda,cpu); `ep` is what is in use. */
  ep_requested?: string;
  /** Start-up notes, e.g. the cuda -> cpu fallback. */
  ep_notes?: string[];
  /** Session and pool settings in effect. */
  settings?: {
    workers: number;
    threads: number;
    graph_opt: string;
    max_body_mb: number;
    max_pixels: number;
    max_batch: number;
    parallel_workers: number;
    parallel_threads: number;
    batch_max_size: number;
    batch_max_delay_us: number;
    spinning: string;
    /** QUEUE_MAX_SIZE as configured ('auto' = 8 per execution slot; 0 = unbounded). */
    queue_max_size?: number | 'auto';
    queue_timeout_us?: number;
  };
  /** Each served implementation's queue policy in force and its queued requests now. */
  queues?: Record<string, { max_queue_size: number; timeout_us: number; pending: number }>;
}

/** The /vram window k6's setup opens once the warm-up is done (POST /vram/reset?window=measure). */
export const MEASURE_WINDOW = 'measure';

/** GET /vram: device memory on CUDA, host RSS on CPU; same shape either way. */
export interface MemoryResponse {
  device: 'cuda' | 'host';
  used_mb: number;
  peak_mb: number;
  /** Name of the current peak window: the `window` of the last POST /vram/reset?window=NAME (k6's
   * setup opens `measure` once the warm-up is done); absent before any named reset. */
  window?: string;
}

/** A float32 tensor on the wire: little-endian bytes, base64. Only sent when asked (?raw=1). */
export interface WireTensor {
  dtype: 'float32';
  dims: number[];
  data_base64: string;
}

/** Raw heads of one model for one image, present only with ?raw=1. */
interface WireRawHeads {
  /** [A, 90] pre-sigmoid class logits. */
  class_logits: WireTensor;
  /** [A, 4] box regression (ty, tx, th, tw). */
  box_regression: WireTensor;
}

/** ModelDetections as sent by POST /infer/:impl?raw=1. */
export interface ModelDetectionsWithRaw extends ModelDetections {
  raw?: WireRawHeads;
}

/** Body of GET /implementations. */
export interface ImplementationsResponse {
  implementations: ImplementationInfo[];
}

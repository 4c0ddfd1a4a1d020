// Wire types shared by the server (Node), the k6 scenarios and the accuracy tools.
// Pure TypeScript: no Node or k6 imports, so both runtimes can use it.

/** Names of the detectors the server hosts, in the order the baseline runs them. */
export const MODEL_NAMES = ['d0', 'd1', 'd2'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

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
export interface Timing {
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
}

/** GET /vram: device memory on CUDA, host RSS on CPU; same shape either way. */
export interface MemoryResponse {
  device: 'cuda' | 'host';
  used_mb: number;
  peak_mb: number;
}

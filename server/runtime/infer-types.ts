// What an inference takes and gives: decoded images in; detections per image per model, raw heads,
// timings and session runs out. The runtime (pool, workers, schedulers) and every implementation
// (../implementations/types.ts) speak these; they live here, below both.
import type { ModelName, ModelDetections } from '../../lib/types.ts';

/** An image decoded once per request (decode.ts decodeImage), EXIF orientation applied, RGB, HWC uint8. */
export interface DecodedImage {
  id?: string;
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. Transferable to workers. */
  pixels: Uint8Array;
  /**
   * Model inputs already letterboxed and normalised by the client (Open Inference Protocol per-model
   * tensors, 3 x S x S float32 each, best in a SharedArrayBuffer so workers share it): the worker
   * feeds them as they are instead of letterboxing `pixels` (then empty). width and height are S,
   * so the boxes come back in model-input pixels, as the ONNX contract has them.
   */
  inputs?: Partial<Record<ModelName, Float32Array>>;
}

export interface InferOptions {
  /** Which models to run, in this order. */
  models: ModelName[];
  /** Also return the raw heads (class_logits, box_regression) where the implementation can. */
  rawHeads?: boolean;
}

export interface RawHeads {
  class_logits: Float32Array;
  box_regression: Float32Array;
}

/** Per image, per requested model: detections in original-image pixels. */
export interface ImageDetections {
  models: Partial<Record<ModelName, ModelDetections & { raw?: RawHeads }>>;
}

export interface InferOutcome {
  images: ImageDetections[];
  /** Letterbox + normalise and session.run times, summed over the request's models (decode is measured by the caller). */
  preprocess_ms: number;
  infer_ms: number;
  /**
   * The worker jobs that served the request, each from its dispatch to its result. The request's
   * queue and compute are split from these (../metrics/request-split.ts); invalid has none.
   */
  jobs: JobSpan[];
  /**
   * The session runs this request accounts for: one per run it made alone; a run shared between
   * requests (batcher) is booked on exactly one of them; a stacked graph's one run is one execution.
   * /metrics counts these (nv_inference_exec_count) with their batch sizes; invalid books none.
   */
  executions: Execution[];
}

/** One session.run: of which model (or 'stacked' graph), how many images it carried, how long it took. */
export interface Execution {
  model: ModelName | 'stacked';
  batch_size: number;
  infer_ms: number;
}

/**
 * One worker job behind a request: which of its models it ran, from its hand-off to a worker to its
 * result on the main thread (performance.now(), ms). A batch shared with other requests is a job of each.
 */
export interface JobSpan {
  models: ModelName[];
  start: number;
  end: number;
}

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
  /** Server-side split, filled by the implementation (decode is measured by the caller). */
  preprocess_ms: number;
  queue_ms: number;
  infer_ms: number;
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

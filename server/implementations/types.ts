// The one interface every serving strategy implements. A new strategy is one new file in this folder
// plus one line in ./registry.ts.
import type { ModelName, ModelDetections } from '../../lib/types.ts';

/** An image decoded once per request (runtime/preprocess.ts decodeImage), EXIF orientation applied, RGB, HWC uint8. */
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
   * /metrics counts these (nv_inference_exec_count) with their batch sizes; the stub books none.
   */
  executions: Execution[];
}

/** One session.run: of which model (or 'stacked' graph), how many images it carried, how long it took. */
export interface Execution {
  model: ModelName | 'stacked';
  batch_size: number;
  infer_ms: number;
}

export interface Implementation {
  readonly name: string;
  readonly description: string;
  /** True: outputs must equal the baseline's exactly; false: it declares looser accuracy bounds. */
  readonly lossless: boolean;
  load(): Promise<void>;
  infer(images: DecodedImage[], options: InferOptions): Promise<InferOutcome>;
  close(): Promise<void>;
  /** Requests accepted but not yet executing (Triton's pending count); exported in /metrics. Optional. */
  pendingRequests?(): number;
  /** The queue policy in force (bound and timeout), for /health; absent = no queue (the stub). */
  readonly queueSettings?: import('../runtime/queue-policy.ts').QueueSettings;
  /** Throws the queue_full refusal now if infer() would: routes call it before decoding, so a refusal costs no decode. */
  refuseIfFull?(): void;
}

// ---- How implementations are built. ----

/** What the registry hands each implementation factory. */
export interface ImplementationContext {
  readonly config: import('../config.ts').ServerConfig;
  /** The models' metadata (input size, normalisation), read once from MODELS_DIR. */
  readonly models: readonly import('../runtime/protocol.ts').ModelInfo[];
  /**
   * The shared inference worker pool (WORKERS workers, each with its own sessions of every model),
   * started on first call. Implementations that need other sessions (e.g. another ONNX file) start
   * their own pool with startWorkerPool (../runtime/context.ts), which words start-up failures like this one.
   */
  pool(): Promise<import('../runtime/pool.ts').WorkerPool>;
  log(line: string): void;
}

/** One file per strategy exports one of these; ./registry.ts lists them. */
export type ImplementationFactory = (context: ImplementationContext) => Implementation;

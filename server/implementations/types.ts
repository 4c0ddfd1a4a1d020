// The one interface every serving strategy implements. A new strategy is one new file in this folder
// plus one line in ./registry.ts. The data it takes and gives (DecodedImage, InferOptions,
// InferOutcome, ...) is the runtime's: ../runtime/infer-types.ts.
import type { ModelName } from '../../lib/types.ts';
import type { DecodedImage, InferOptions, InferOutcome } from '../runtime/infer-types.ts';

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
  /** The queue policy in force (bound and timeout), for /health; absent = no queue (invalid). */
  readonly queueSettings?: import('../runtime/queue-policy.ts').QueueSettings;
  /**
   * Throws the queue_full refusal now if infer() would for these models: routes call it before decoding,
   * so a refusal costs no decode. Implementations with one queue ignore `models`; per-model queues
   * (isolated) refuse only when a queue of a model the request asks is full.
   */
  refuseIfFull?(models?: readonly ModelName[]): void;
  /** Work waiting per model, where each model has a queue of its own (isolated); /metrics exports it. Optional. */
  pendingByModel?(): Partial<Record<ModelName, number>>;
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

// Messages between the main thread (pool.ts) and the inference workers (worker.ts).
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import type { GraphOptLevel, SpinMode } from '../config.ts';
import type { DecodedImage, RawHeads } from './infer-types.ts';
import type { Normalisation } from './letterbox.ts';

/** What a worker needs to open one model: read from the ONNX file's metadata on the main thread. */
export interface ModelInfo {
  name: ModelName;
  /** Absolute path of the ONNX file. */
  file: string;
  /** Square input side S (512 / 640 / 768 for D0 / D1 / D2). */
  inputSize: number;
  norm: Normalisation;
  /** Every metadata_props entry, for /health and results. */
  metadata: Record<string, string>;
  /**
   * Input tensor name; default 'images'. Models that share one `file` (the stacked graph: inputs
   * `d0/images`...) share one session and run together in one session.run.
   */
  inputName?: string;
  /** Prefix of this model's output names inside `file` (stacked: 'd0/'); default none. */
  outputPrefix?: string;
}

export type EpInUse = 'cpu' | 'cuda';

export interface SessionSettings {
  /** Providers to try, in order; the first that loads is used (plus onnxruntime's CPU fallback per node). */
  providers: EpInUse[];
  /** 0 = onnxruntime default. */
  intraOpThreads: number;
  graphOpt: GraphOptLevel;
  /**
   * Intra-op thread-pool spinning (SPIN_MODES in server/config.ts): onnxruntime's
   * session.intra_op.allow_spinning, plus session.force_spinning_stop for 'run'. Only matters with more
   * than one intra-op thread.
   */
  spinning: SpinMode;
  /** onnxruntime's own log threshold (its messages go straight to stderr). */
  ortLogLevel: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
}

export type ToWorker =
  | { type: 'load'; models: ModelInfo[]; session: SessionSettings; warmup: boolean }
  | { type: 'infer'; id: number; images: DecodedImage[]; models: ModelName[]; rawHeads: boolean }
  | { type: 'close' };

export interface ModelRun {
  name: ModelName;
  /** Letterbox + normalise of the whole batch for this model. */
  preprocess_ms: number;
  /** session.run of the whole batch. */
  infer_ms: number;
  /** One entry per image, boxes already in original-image pixels. */
  detections: ModelDetections[];
  raw?: RawHeads[];
  /**
   * Set when several models ran in ONE session.run (stacked graph): the runs with the same value
   * share that run, and its infer_ms (reported on each of them) counts once.
   */
  sharedRun?: number;
  /**
   * Images per session.run when the pool split the batch (SESSION_MAX_BATCH); absent = one run of all
   * the images. infer_ms and preprocess_ms are then the sums over those runs.
   */
  batches?: number[];
}

export type FromWorker =
  | { type: 'loaded'; ep: EpInUse; notes: string[] }
  | { type: 'result'; id: number; runs: ModelRun[] }
  | { type: 'failed'; id: number; message: string }
  | { type: 'load-failed'; message: string }
  | { type: 'closed' };

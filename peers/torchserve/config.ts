// The TorchServe peer's knob registry (`make torchserve`): names after TorchServe's config fields,
// declared and read here like every other command's (bad values stop with the one ConfigError line),
// then handed to peers/torchserve/serve.py as command-line flags by peers/torchserve/driver.ts.
// serve.py reads no knob of its own from the environment.
import type { Env } from '../../lib/env.ts';
import { duration, durationIn, int, knob, list, oneOf, readKnobs, text } from '../../lib/knobs.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';

export const TORCHSERVE_KNOBS = {
  workers: knob({ env: 'TORCHSERVE_WORKERS', tier: 'expert', default: 2, ...int(1, 64), doc: 'minWorkers = maxWorkers per model: Python worker processes, each with its own onnxruntime session' }),
  intraOpThreadCount: knob({ env: 'TORCHSERVE_INTRA_OP_THREAD_COUNT', tier: 'expert', default: 1, ...int(1, 256), doc: 'onnxruntime intra-op threads per worker' }),
  batchSize: knob({ env: 'TORCHSERVE_BATCH_SIZE', tier: 'expert', default: 1, ...int(1, 1024), doc: "batchSize per model: TorchServe's batcher hands a worker up to this many requests at once (1: no batching; our BATCHER_MAX_BATCH)" }),
  /** Kept in milliseconds, TorchServe's maxBatchDelay. */
  maxBatchDelayMs: knob({ env: 'TORCHSERVE_MAX_BATCH_DELAY', tier: 'expert', default: 2, ...durationIn('ms', '0s', '10s'), doc: 'maxBatchDelay per model, with TORCHSERVE_BATCH_SIZE > 1 (our BATCHER_MAX_DELAY)' }),
  host: knob({ env: 'TORCHSERVE_HOST', tier: 'expert', default: '127.0.0.1', ...text('host/IP'), doc: 'listen address of every endpoint' }),
  port: knob({ env: 'TORCHSERVE_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'inference API port (inference_address), as our server\'s PORT' }),
  managementPort: knob({ env: 'TORCHSERVE_MANAGEMENT_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'management API port (management_address)' }),
  metricsPort: knob({ env: 'TORCHSERVE_METRICS_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'Prometheus metrics port (metrics_address)' }),
  models: knob<ModelName[]>({ env: 'MODELS', tier: 'expert', default: [...MODEL_NAMES], ...list(oneOf(MODEL_NAMES), `a comma list of ${MODEL_NAMES.join(', ')}`), doc: 'which detectors TorchServe serves' }),
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: 'build/models', ...text('folder'), doc: 'the ONNX files (`make models`)' }),
  readyTimeout_s: knob({ env: 'READY_TIMEOUT', tier: 'expert', default: 300, defaultText: '300s', ...duration, doc: 'how long to wait for every worker to be READY' }),
};

export type TorchServeConfig = ReturnType<typeof torchserveConfig>;

export function torchserveConfig(env: Env) {
  return readKnobs(TORCHSERVE_KNOBS, env);
}

/** serve.py's command-line flags for a config (every value given: serve.py keeps no defaults of its own). */
export function serveArgs(cfg: TorchServeConfig): string[] {
  return [
    `--workers=${cfg.workers}`,
    `--intra-op-thread-count=${cfg.intraOpThreadCount}`,
    `--batch-size=${cfg.batchSize}`,
    `--max-batch-delay-ms=${cfg.maxBatchDelayMs}`,
    `--host=${cfg.host}`,
    `--port=${cfg.port}`,
    `--management-port=${cfg.managementPort}`,
    `--metrics-port=${cfg.metricsPort}`,
    `--models=${cfg.models.join(',')}`,
    `--models-dir=${cfg.modelsDir}`,
    `--ready-timeout=${cfg.readyTimeout_s}`,
  ];
}

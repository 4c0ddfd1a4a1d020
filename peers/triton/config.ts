// The Triton peer's knob registry (`make triton`): names after Triton's config fields, declared and
// read here like every other command's (bad values stop with the one ConfigError line), then handed
// to peers/triton/serve.py as command-line flags by peers/triton/driver.ts. serve.py reads no knob of
// its own from the environment.
import type { Env } from '../../lib/env.ts';
import { ConfigError } from '../../lib/env.ts';
import { bool, duration, durationIn, int, knob, list, oneOf, readKnobs, text } from '../../lib/knobs.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';
import { formatModelCounts, modelCounts, type ModelCounts } from '../../lib/model-counts.ts';

/** The Triton model sets serve.py generates (TRITON_MODEL_SET). */
export const TRITON_MODEL_SETS = ['instances', 'dynamic'] as const;
export type TritonModelSet = (typeof TRITON_MODEL_SETS)[number];

export const TRITON_KNOBS = {
  modelSet: knob<TritonModelSet>({
    env: 'TRITON_MODEL_SET', tier: 'expert', default: 'instances', ...oneOf(TRITON_MODEL_SETS),
    doc: 'instances: max_batch_size 0, instance_group count x KIND_CPU per model (like our concurrent); dynamic: the dynamic batcher on the same instances (like our batched)',
  }),
  instanceCount: knob({ env: 'TRITON_INSTANCE_COUNT', tier: 'expert', default: 2, ...int(1, 64), doc: 'instance_group count per model' }),
  /** Same text as the server's INSTANCES, so `isolated` and Triton can run the same allocation. */
  instances: knob<ModelCounts>({
    env: 'TRITON_INSTANCES', tier: 'expert', default: {}, defaultText: 'TRITON_INSTANCE_COUNT for every model', ...modelCounts(1, 64),
    doc: "instance_group count of each named model (the server's INSTANCES, e.g. d0:1,d1:1,d2:1); a model left out gets TRITON_INSTANCE_COUNT",
  }),
  intraOpThreadCount: knob({ env: 'TRITON_INTRA_OP_THREAD_COUNT', tier: 'expert', default: 1, ...int(1, 256), doc: 'onnxruntime intra-op threads per instance' }),
  allowSpinning: knob({ env: 'TRITON_ALLOW_SPINNING', tier: 'expert', default: false, ...bool, doc: 'onnxruntime intra-op spinning (off: an idle server takes no CPU)' }),
  maxBatch: knob({ env: 'TRITON_MAX_BATCH', tier: 'expert', default: 4, ...int(1, 1024), doc: 'dynamic set: max_batch_size (our BATCHER_MAX_BATCH)' }),
  preferredBatch: knob({
    env: 'TRITON_PREFERRED_BATCH', tier: 'expert', default: [] as number[], defaultText: 'TRITON_MAX_BATCH', ...list(int(1, 1024), 'a comma list of integers from 1 to TRITON_MAX_BATCH'),
    doc: 'dynamic set: preferred_batch_size',
  }),
  /** Kept in microseconds, Triton's max_queue_delay_microseconds. */
  maxDelayUs: knob({ env: 'TRITON_MAX_DELAY', tier: 'expert', default: 2000, ...durationIn('us', '0s', '10s'), doc: 'dynamic set: max_queue_delay_microseconds (our BATCHER_MAX_DELAY)' }),
  host: knob({ env: 'TRITON_HOST', tier: 'expert', default: '127.0.0.1', ...text('host/IP'), doc: 'listen address of all three endpoints' }),
  port: knob({ env: 'TRITON_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'HTTP (v2 REST) port, as our server\'s PORT' }),
  grpcPort: knob({ env: 'TRITON_GRPC_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'gRPC port' }),
  metricsPort: knob({ env: 'TRITON_METRICS_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'Prometheus metrics port' }),
  models: knob<ModelName[]>({ env: 'MODELS', tier: 'expert', default: [...MODEL_NAMES], ...list(oneOf(MODEL_NAMES), `a comma list of ${MODEL_NAMES.join(', ')}`), doc: 'which detectors Triton serves' }),
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: 'build/models', ...text('folder'), doc: 'the ONNX files (`make models`)' }),
  readyTimeout_s: knob({ env: 'READY_TIMEOUT', tier: 'expert', default: 300, defaultText: '300s', ...duration, doc: 'how long to wait for /v2/health/ready' }),
};

export type TritonConfig = ReturnType<typeof tritonConfig>;

export function tritonConfig(env: Env) {
  const k = readKnobs(TRITON_KNOBS, env);
  const preferredBatch = k.preferredBatch.length > 0 ? k.preferredBatch : [k.maxBatch];
  if (preferredBatch.some((p) => p > k.maxBatch)) {
    throw new ConfigError(`TRITON_PREFERRED_BATCH=${preferredBatch.join(',')} is not valid: expected a comma list of integers from 1 to TRITON_MAX_BATCH (${k.maxBatch})`);
  }
  const instances = Object.fromEntries(MODEL_NAMES.map((m) => [m, k.instances[m] ?? k.instanceCount])) as Record<ModelName, number>;
  return { ...k, preferredBatch, instances };
}

/** serve.py's command-line flags for a config (every value given: serve.py keeps no defaults of its own). */
export function serveArgs(cfg: TritonConfig): string[] {
  return [
    `--model-set=${cfg.modelSet}`,
    `--instances=${formatModelCounts(cfg.instances)}`,
    `--intra-op-thread-count=${cfg.intraOpThreadCount}`,
    `--allow-spinning=${cfg.allowSpinning ? 1 : 0}`,
    `--max-batch=${cfg.maxBatch}`,
    `--preferred-batch=${cfg.preferredBatch.join(',')}`,
    `--max-delay-us=${cfg.maxDelayUs}`,
    `--host=${cfg.host}`,
    `--port=${cfg.port}`,
    `--grpc-port=${cfg.grpcPort}`,
    `--metrics-port=${cfg.metricsPort}`,
    `--models=${cfg.models.join(',')}`,
    `--models-dir=${cfg.modelsDir}`,
    `--ready-timeout=${cfg.readyTimeout_s}`,
  ];
}

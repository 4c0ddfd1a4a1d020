// The FastAPI + onnxruntime peer's knob registry (`make fastapi`), read here like every other
// command's (a bad value stops with the one ConfigError line) and handed to peers/fastapi/server.py
// as flags by peers/fastapi/driver.ts; server.py reads no knob of its own from the environment.
import type { Env } from '../../lib/env.ts';
import { bool, duration, int, knob, list, oneOf, readKnobs, text } from '../../lib/knobs.ts';
import { MODEL_NAMES, type ModelName } from '../../lib/model-contract.ts';

/** The APIs server.py answers on POST /infer/{impl} (FASTAPI_API). */
export const FASTAPI_APIS = ['native', 'seed'] as const;
export type FastapiApi = (typeof FASTAPI_APIS)[number];

export const FASTAPI_KNOBS = {
  api: knob<FastapiApi>({
    env: 'FASTAPI_API', tier: 'expert', default: 'native', ...oneOf(FASTAPI_APIS),
    doc: 'native: our API (/infer/:impl, /health with ready, /implementations); seed: the seed project\'s (/infer/{impl} multipart `file`, 100 zero-padded rows, /health `healthy`), for PROTOCOL=seed',
  }),
  impl: knob({ env: 'FASTAPI_IMPL', tier: 'expert', default: 'fastapi', ...text('an implementation name'), doc: 'the implementation the native API serves (/infer/fastapi); the seed API answers any' }),
  workers: knob({ env: 'FASTAPI_WORKERS', tier: 'expert', default: 2, ...int(1, 64), doc: 'uvicorn worker processes, each with its own sessions and one inference at a time (as TRITON_INSTANCE_COUNT)' }),
  intraOpThreads: knob({ env: 'FASTAPI_INTRA_OP_THREADS', tier: 'expert', default: 1, ...int(1, 256), doc: 'onnxruntime intra-op threads per session' }),
  interOpThreads: knob({ env: 'FASTAPI_INTER_OP_THREADS', tier: 'expert', default: 1, ...int(1, 256), doc: 'onnxruntime inter-op threads per session (sequential execution: unused above 1)' }),
  allowSpinning: knob({ env: 'FASTAPI_ALLOW_SPINNING', tier: 'expert', default: false, ...bool, doc: 'onnxruntime thread spinning (off: an idle server takes no CPU)' }),
  host: knob({ env: 'FASTAPI_HOST', tier: 'expert', default: '127.0.0.1', ...text('host/IP'), doc: 'listen address' }),
  port: knob({ env: 'FASTAPI_PORT', tier: 'expert', default: 0, defaultText: '0 (a free one)', ...int(0, 65535), doc: 'HTTP port (the API, /metrics and /vram)' }),
  models: knob<ModelName[]>({ env: 'MODELS', tier: 'expert', default: [...MODEL_NAMES], ...list(oneOf(MODEL_NAMES), `a comma list of ${MODEL_NAMES.join(', ')}`), doc: 'which detectors it serves' }),
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: 'build/models', ...text('folder'), doc: 'the ONNX files (`make models`)' }),
  readyTimeout_s: knob({ env: 'READY_TIMEOUT', tier: 'expert', default: 300, defaultText: '300s', ...duration, doc: 'how long to wait for every worker to load its sessions' }),
};

export type FastapiConfig = ReturnType<typeof fastapiConfig>;

export function fastapiConfig(env: Env) {
  return readKnobs(FASTAPI_KNOBS, env);
}

/** server.py's flags for a config (every value given: server.py keeps no defaults of its own). */
export function serverArgs(cfg: FastapiConfig): string[] {
  return [
    `--api=${cfg.api}`,
    `--impl=${cfg.impl}`,
    `--workers=${cfg.workers}`,
    `--intra-op-threads=${cfg.intraOpThreads}`,
    `--inter-op-threads=${cfg.interOpThreads}`,
    `--allow-spinning=${cfg.allowSpinning ? 1 : 0}`,
    `--host=${cfg.host}`,
    `--port=${cfg.port}`,
    `--models=${cfg.models.join(',')}`,
    `--models-dir=${cfg.modelsDir}`,
    `--ready-timeout=${cfg.readyTimeout_s}`,
  ];
}

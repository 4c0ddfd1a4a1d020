// The server's knob registry: every setting declared once (env variable, flag, default, parser, doc).
// Precedence: command-line flags (--port 8001 or --port=8001), then environment variables
// (PORT=8001), then the defaults below; typed overrides from code (tests, in-process tools) last.
// A bad value stops start-up with one line: `PORT=80a is not valid: expected an integer from 0 to 65535`.
import path from 'node:path';
import { autoOrInt, durationIn, INVALID, int, knob, num, oneOf, readKnobs, text, type Knob, type Values } from '../lib/knobs.ts';
import { modelCounts, type ModelCounts } from '../lib/model-counts.ts';
import { parseFlags } from '../lib/node/flags.ts';

export { ConfigError } from '../lib/env.ts';
import type { QueueMaxSize } from './runtime/queue-policy.ts';

const EP_MODES = ['cpu', 'cuda', 'cuda,cpu'] as const;
export type EpMode = (typeof EP_MODES)[number];

const GRAPH_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptLevel = (typeof GRAPH_OPT_LEVELS)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * onnxruntime intra-op spinning. run: pool threads spin while a session.run is in flight and stop when
 * it ends (session.force_spinning_stop); on: onnxruntime's default, they also keep spinning after a run,
 * so the next session's run (baseline's D1 right after D0) shares the cores with idle spinners; off: no
 * spinning, threads sleep between the steps of one run too.
 */
const SPIN_MODES = ['run', 'on', 'off'] as const;
export type SpinMode = (typeof SPIN_MODES)[number];

const IMPL_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

export const SERVER_KNOBS = {
  host: knob({ env: 'HOST', flag: 'host', tier: 'expert', default: '127.0.0.1', ...text('host/IP'), doc: 'listen address (loopback unless told)' }),
  port: knob({ env: 'PORT', flag: 'port', tier: 'expert', default: 8000, ...int(0, 65535), doc: 'port (0 = any free)' }),
  modelsDir: knob({ env: 'MODELS_DIR', flag: 'models-dir', tier: 'expert', default: 'build/models', ...text('folder'), doc: 'holds `efficientdet-d{0,1,2}.onnx`' }),
  ep: knob<EpMode>({
    env: 'EP', flag: 'ep', tier: 'essential', default: 'cpu', ...oneOf(EP_MODES),
    doc: '`cuda` stops at start-up with one line if the CUDA EP cannot load; `cuda,cpu` falls back to CPU and says so',
  }),
  threads: knob({ env: 'THREADS', flag: 'threads', tier: 'expert', default: 0, ...int(0, 256), doc: 'intra-op threads per session (0 = onnxruntime default)' }),
  graphOpt: knob<GraphOptLevel>({ env: 'GRAPH_OPT', flag: 'graph-opt', tier: 'expert', default: 'all', ...oneOf(GRAPH_OPT_LEVELS), doc: 'graph optimisation level' }),
  workers: knob({ env: 'WORKERS', flag: 'workers', tier: 'expert', default: 1, ...int(1, 64), doc: 'inference worker threads, each with its own sessions' }),
  maxBodyMb: knob({
    env: 'MAX_BODY_MB', flag: 'max-body-mb', tier: 'expert', default: 20, ...num(0.001, 1024),
    doc: 'a body whose Content-Length is over it, and any single multipart file over it -> 413',
  }),
  maxPixels: knob({
    env: 'MAX_PIXELS', flag: 'max-pixels', tier: 'expert', default: 40_000_000, ...int(1, 1_000_000_000),
    doc: 'decoded width x height limit, read from the header before decoding (decompression bombs) -> 413',
  }),
  requestMaxBatch: knob({ env: 'REQUEST_MAX_BATCH', flag: 'request-max-batch', tier: 'expert', default: 32, ...int(1, 1024), doc: 'most images in one request (`file` fields, or a v2 batch) -> 413' }),
  logLevel: knob<LogLevel>({ env: 'LOG_LEVEL', flag: 'log-level', tier: 'expert', default: 'info', ...oneOf(LOG_LEVELS), doc: '`info` logs one line per request with its image id' }),
  /**
   * Same variable and meaning as the bench's IMPL (the implementations under test), so `make bench
   * IMPL=batched` starts a server that loads only batched's sessions (start-up time and memory are then
   * its own). Names are checked at load.
   */
  impls: knob<'all' | string[]>({
    env: 'IMPL', flag: 'impl', tier: 'essential', default: 'all', allowed: "'all' or a comma list of implementation names",
    parse: (raw) => {
      const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (names.length === 0 || names.includes('all')) return 'all';
      return names.every((s) => IMPL_NAME.test(s)) ? names : INVALID;
    },
    doc: 'the implementations under test: the ones this server loads and serves (all: every registered one)',
  }),
  parallelWorkers: knob({ env: 'PARALLEL_WORKERS', flag: 'parallel-workers', tier: 'expert', default: 2, ...int(1, 64), doc: 'concurrent, batched, int8: worker threads (own sessions each)' }),
  parallelThreads: knob({ env: 'PARALLEL_THREADS', flag: 'parallel-threads', tier: 'expert', default: 1, ...int(0, 256), doc: 'intra-op threads per session in those workers (0 = onnxruntime default)' }),
  batcherMaxBatch: knob({ env: 'BATCHER_MAX_BATCH', flag: 'batcher-max-batch', tier: 'expert', default: 4, ...int(1, 1024), doc: "batched: most images in one session.run (Triton's max_batch_size)" }),
  /** Kept in microseconds, the unit the scheduler works in; the knob takes a duration (2ms, 500us). */
  batcherMaxDelayUs: knob({
    env: 'BATCHER_MAX_DELAY', flag: 'batcher-max-delay', tier: 'expert', default: 2000, ...durationIn('us', '0s', '60s'),
    doc: "batched: how long a free worker waits for more requests (Triton's max_queue_delay_microseconds)",
  }),
  /**
   * One worker per model by default: a model's own worker keeps its queue moving whatever the others
   * carry, and a flood on one model holds one thread's share of the cores (docs/implementations.md).
   */
  instances: knob<ModelCounts>({
    env: 'INSTANCES', flag: 'instances', tier: 'expert', default: { d0: 1, d1: 1, d2: 1 }, ...modelCounts(1, 64),
    doc: "isolated: worker threads per model (Triton's instance_group count), each model with its own queue; a model left out gets 1",
  }),
  spinning: knob<SpinMode>({
    env: 'SPINNING', flag: 'spinning', tier: 'expert', default: 'run', ...oneOf(SPIN_MODES),
    doc: "onnxruntime intra-op spinning: run = while a session.run is in flight only, on = onnxruntime's default (also after it), off = never",
  }),
  queueMaxSize: knob<QueueMaxSize>({
    env: 'QUEUE_MAX_SIZE', flag: 'queue-max-size', tier: 'expert', default: 'auto', ...autoOrInt(0, 1_000_000),
    doc: "queue policy of every implementation (Triton's max_queue_size): requests waiting to execute; auto = 8 per execution slot, 0 = unbounded; past it 503 queue_full",
  }),
  queueTimeoutUs: knob({
    env: 'QUEUE_TIMEOUT', flag: 'queue-timeout', tier: 'expert', default: 0, ...durationIn('us', '0s', '1h'),
    doc: "queue policy (Triton's default_timeout_microseconds): longest wait before execution, 0 = none; past it 503 queue_timeout",
  }),
  maxInflightUploadMb: knob({ env: 'MAX_INFLIGHT_UPLOAD_MB', flag: 'max-inflight-upload-mb', tier: 'expert', default: 256, ...num(0.001, 65_536), doc: 'upload bytes all requests in flight may hold together; past it 503 upload_limit' }),
  maxDrainMb: knob({ env: 'MAX_DRAIN_MB', flag: 'max-drain-mb', tier: 'expert', default: 64, ...num(0, 65_536), doc: 'after an early answer (413 ...), how much of the unread body is read and dropped so the client can read the answer' }),
  headersTimeoutMs: knob({ env: 'HEADERS_TIMEOUT', flag: 'headers-timeout', tier: 'expert', default: 20_000, ...durationIn('ms', '100ms', '1h'), doc: 'slow clients: the request head must arrive within this (408, closed)' }),
  requestTimeoutMs: knob({ env: 'REQUEST_TIMEOUT', flag: 'request-timeout', tier: 'expert', default: 300_000, ...durationIn('ms', '100ms', '24h'), doc: 'slow clients: the whole request, body included, must arrive within this' }),
  sessionMaxBatch: knob<number | 'auto'>({
    env: 'SESSION_MAX_BATCH', flag: 'session-max-batch', tier: 'expert', default: 'auto', ...autoOrInt(0, 1024),
    doc: 'most images in one session.run (larger batches are split), which bounds the sessions\' arenas; auto = 1 on CPU (a batcher keeps its own batch size), none on CUDA; 0 = none',
  }),
};

export type ServerConfig = Values<typeof SERVER_KNOBS>;

export const DEFAULTS: ServerConfig = Object.fromEntries(Object.entries(SERVER_KNOBS).map(([k, v]) => [k, v.default])) as ServerConfig;

/**
 * Builds the config from defaults, env and flags (flags win). `overrides` are typed values applied
 * last, for tests and in-process tools (e.g. `{ port: 0 }`).
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = process.argv.slice(2),
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  const config = { ...readKnobs(SERVER_KNOBS, env, parseFlags(SERVER_KNOBS, argv)), ...overrides };
  config.modelsDir = path.resolve(config.modelsDir);
  return config;
}

/** One line per knob, for the start-up log. */
export function describeConfig(config: ServerConfig): string {
  const show = (k: keyof ServerConfig): string => {
    const knob = SERVER_KNOBS[k] as Knob<unknown>;
    return knob.show ? knob.show(config[k]) : String(config[k]);
  };
  return (Object.keys(SERVER_KNOBS) as (keyof ServerConfig)[]).map((k) => `${SERVER_KNOBS[k].env}=${show(k)}`).join(' ');
}

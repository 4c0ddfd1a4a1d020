// The server's one typed configuration. Precedence: command-line flags (--port 8001 or --port=8001),
// then environment variables (PORT=8001), then the defaults below. Every parse error names the
// variable and the values it accepts, so a bad setting fails at start with one readable line.
import path from 'node:path';
import type { QueueMaxSize } from './runtime/queue-policy.ts';

export const EP_MODES = ['cpu', 'cuda', 'cuda,cpu'] as const;
export type EpMode = (typeof EP_MODES)[number];

export const GRAPH_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptLevel = (typeof GRAPH_OPT_LEVELS)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  /** Interface to listen on; loopback unless told otherwise. */
  host: string;
  port: number;
  /** Folder holding efficientdet-d0.onnx, -d1, -d2. */
  modelsDir: string;
  /** Execution provider request: cpu, cuda (fail if it cannot load) or cuda,cpu (fall back to cpu). */
  ep: EpMode;
  /** onnxruntime intra-op threads per session; 0 = onnxruntime's default (one per core). */
  threads: number;
  graphOpt: GraphOptLevel;
  /** Worker threads, each holding its own sessions of every model. */
  workers: number;
  /** Body limit in MB: a request whose Content-Length is over it, and any single multipart file over it, get 413. */
  maxBodyMb: number;
  /** Largest accepted decoded image (width * height); refuses decompression bombs before decoding. */
  maxPixels: number;
  /** Most images (multipart `file` fields) in one request. */
  maxBatch: number;
  /** Request lines are logged at info; warn keeps only problems. */
  logLevel: LogLevel;
  /**
   * Implementations this server loads and serves: 'all' or a list. Same variable as the bench's IMPL,
   * so `make bench IMPL=batched` starts a server that loads only batched's sessions (start-up time and
   * memory are then that implementation's own). Names are checked against the registry at load.
   */
  impls: 'all' | string[];
  /** Worker threads of the implementations without global serialisation (concurrent, batched). */
  parallelWorkers: number;
  /** onnxruntime intra-op threads per session in those workers; 0 = onnxruntime's default. */
  parallelThreads: number;
  /** batched: most images in one session.run (Triton's max_batch_size). */
  batchMaxSize: number;
  /** batched: how long a free worker waits for more requests before running a smaller batch (Triton's max_queue_delay_microseconds). */
  batchMaxDelayUs: number;
  /** Intra-op thread spinning: default = onnxruntime's (spin), off = threads sleep when idle. */
  spinning: SpinMode;
  /** Queue policy of every implementation (Triton's max_queue_size): requests waiting to execute; 'auto' = 8 per execution slot, 0 = unbounded. */
  queueMaxSize: QueueMaxSize;
  /** Queue policy (Triton's default_timeout_microseconds): longest wait before execution; 0 = none. */
  queueTimeoutUs: number;
  /** Upload bytes all requests in flight may hold together; past it 503 upload_limit. */
  maxInflightUploadMb: number;
  /** After an early answer (413 ...), how much of the unread body is read and dropped so the client can read the answer. */
  maxDrainMb: number;
  /** Slow clients: the whole request head must arrive within this (408 and closed otherwise). */
  headersTimeoutMs: number;
  /** Slow clients: the whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** Most images in one session.run (larger batches are split): bounds the sessions' arenas. 'auto' = 1 on CPU (a batcher keeps its own batch size), none on CUDA; 0 = none. */
  sessionMaxBatch: number | 'auto';
}

export const SPIN_MODES = ['default', 'on', 'off'] as const;
export type SpinMode = (typeof SPIN_MODES)[number];

export const DEFAULTS: ServerConfig = {
  host: '127.0.0.1',
  port: 8000,
  modelsDir: 'build/models',
  ep: 'cpu',
  threads: 0,
  graphOpt: 'all',
  workers: 1,
  maxBodyMb: 20,
  maxPixels: 40_000_000,
  maxBatch: 32,
  logLevel: 'info',
  impls: 'all',
  parallelWorkers: 2,
  parallelThreads: 1,
  batchMaxSize: 4,
  batchMaxDelayUs: 2000,
  spinning: 'default',
  queueMaxSize: 'auto',
  queueTimeoutUs: 0,
  maxInflightUploadMb: 256,
  maxDrainMb: 64,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  sessionMaxBatch: 'auto',
};

/** Env var name for each key; the flag is the same name lower-cased with '-' for '_'. */
const ENV_NAMES: Record<keyof ServerConfig, string> = {
  host: 'HOST',
  port: 'PORT',
  modelsDir: 'MODELS_DIR',
  ep: 'EP',
  threads: 'THREADS',
  graphOpt: 'GRAPH_OPT',
  workers: 'WORKERS',
  maxBodyMb: 'MAX_BODY_MB',
  maxPixels: 'MAX_PIXELS',
  maxBatch: 'MAX_BATCH',
  logLevel: 'LOG_LEVEL',
  impls: 'IMPL',
  parallelWorkers: 'PARALLEL_WORKERS',
  parallelThreads: 'PARALLEL_THREADS',
  batchMaxSize: 'BATCH_MAX_SIZE',
  batchMaxDelayUs: 'BATCH_MAX_DELAY_US',
  spinning: 'SPINNING',
  queueMaxSize: 'QUEUE_MAX_SIZE',
  queueTimeoutUs: 'QUEUE_TIMEOUT_US',
  maxInflightUploadMb: 'MAX_INFLIGHT_UPLOAD_MB',
  maxDrainMb: 'MAX_DRAIN_MB',
  headersTimeoutMs: 'HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  sessionMaxBatch: 'SESSION_MAX_BATCH',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseIntIn(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return n;
}

function parseIntInOr(name: string, raw: string, min: number, max: number, other: string): number {
  try {
    return parseIntIn(name, raw, min, max);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected ${other} or an integer from ${min} to ${max}`);
  }
}

function parseNumberIn(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected a number from ${min} to ${max}`);
  }
  return n;
}

function parseOneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  const v = raw.trim().toLowerCase().replace(/\s+/g, '');
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: allowed values are ${allowed.join(' | ')}`);
  }
  return v as T;
}

const PARSERS: { [K in keyof ServerConfig]: (name: string, raw: string) => ServerConfig[K] } = {
  host: (name, raw) => {
    if (raw.trim() === '') throw new ConfigError(`${name} is empty: expected a host name or IP address, e.g. 127.0.0.1`);
    return raw.trim();
  },
  port: (name, raw) => parseIntIn(name, raw, 0, 65535),
  modelsDir: (name, raw) => {
    if (raw.trim() === '') throw new ConfigError(`${name} is empty: expected a folder holding efficientdet-d{0,1,2}.onnx`);
    return raw;
  },
  ep: (name, raw) => parseOneOf(name, raw, EP_MODES),
  threads: (name, raw) => parseIntIn(name, raw, 0, 256),
  graphOpt: (name, raw) => parseOneOf(name, raw, GRAPH_OPT_LEVELS),
  workers: (name, raw) => parseIntIn(name, raw, 1, 64),
  maxBodyMb: (name, raw) => parseNumberIn(name, raw, 0.001, 1024),
  maxPixels: (name, raw) => parseIntIn(name, raw, 1, 1_000_000_000),
  maxBatch: (name, raw) => parseIntIn(name, raw, 1, 1024),
  logLevel: (name, raw) => parseOneOf(name, raw, LOG_LEVELS),
  impls: (name, raw) => {
    const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length === 0 || list.includes('all')) return 'all';
    const bad = list.find((s) => !/^[a-z0-9][a-z0-9_-]*$/i.test(s));
    if (bad !== undefined) throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected 'all' or a comma-separated list of implementation names`);
    return list;
  },
  parallelWorkers: (name, raw) => parseIntIn(name, raw, 1, 64),
  parallelThreads: (name, raw) => parseIntIn(name, raw, 0, 256),
  batchMaxSize: (name, raw) => parseIntIn(name, raw, 1, 1024),
  batchMaxDelayUs: (name, raw) => parseIntIn(name, raw, 0, 60_000_000),
  spinning: (name, raw) => parseOneOf(name, raw, SPIN_MODES),
  queueMaxSize: (name, raw) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : parseIntInOr(name, raw, 0, 1_000_000, "'auto'")),
  queueTimeoutUs: (name, raw) => parseIntIn(name, raw, 0, 3_600_000_000),
  maxInflightUploadMb: (name, raw) => parseNumberIn(name, raw, 0.001, 65_536),
  maxDrainMb: (name, raw) => parseNumberIn(name, raw, 0, 65_536),
  headersTimeoutMs: (name, raw) => parseIntIn(name, raw, 100, 3_600_000),
  requestTimeoutMs: (name, raw) => parseIntIn(name, raw, 100, 86_400_000),
  sessionMaxBatch: (name, raw) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : parseIntInOr(name, raw, 0, 1024, "'auto'")),
};

/** Reads `--name value` / `--name=value` flags; unknown flags are an error naming the known ones. */
function parseFlags(argv: readonly string[]): Map<keyof ServerConfig, string> {
  const byFlag = new Map<string, keyof ServerConfig>();
  for (const key of Object.keys(ENV_NAMES) as (keyof ServerConfig)[]) {
    byFlag.set(ENV_NAMES[key].toLowerCase().replace(/_/g, '-'), key);
  }
  const out = new Map<keyof ServerConfig, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = m ? byFlag.get(m[1]!) : undefined;
    if (!m || !key) {
      throw new ConfigError(`unknown argument ${JSON.stringify(arg)}: known flags are ${[...byFlag.keys()].map((f) => `--${f}`).join(' ')}`);
    }
    let value = m[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new ConfigError(`--${m[1]} needs a value`);
      i++;
    }
    out.set(key, value);
  }
  return out;
}

/**
 * Builds the config from defaults, env and flags (flags win). `overrides` are typed values applied
 * last, for tests and in-process tools (e.g. `{ port: 0 }`).
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = process.argv.slice(2),
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  const flags = parseFlags(argv);
  const config: Record<string, unknown> = { ...DEFAULTS };
  for (const key of Object.keys(ENV_NAMES) as (keyof ServerConfig)[]) {
    const name = ENV_NAMES[key];
    const fromFlag = flags.get(key);
    const raw = fromFlag ?? env[name];
    if (raw === undefined || (fromFlag === undefined && raw === '')) continue;
    const label = fromFlag !== undefined ? `--${name.toLowerCase().replace(/_/g, '-')}` : name;
    config[key] = PARSERS[key](label, raw);
  }
  Object.assign(config, overrides);
  const result = config as unknown as ServerConfig;
  result.modelsDir = path.resolve(result.modelsDir);
  return result;
}

/** One line per knob, for the start-up log and env.json. */
export function describeConfig(config: ServerConfig): string {
  return (Object.keys(ENV_NAMES) as (keyof ServerConfig)[]).map((k) => `${ENV_NAMES[k]}=${String(config[k])}`).join(' ');
}

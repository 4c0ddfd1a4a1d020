// The runtime shared by every implementation of one server (or one in-process tool): the models'
// metadata and one lazily started worker pool. Also turns execution-provider failures into one line.
import { MODEL_NAMES } from '../../lib/types.ts';
import type { EpMode, ServerConfig } from '../config.ts';
import type { ImplementationContext } from '../implementations/types.ts';
import { readModelInfos } from './model-info.ts';
import { WorkerPool } from './pool.ts';
import type { EpInUse, ModelInfo, SessionSettings } from './protocol.ts';

function providersFor(ep: EpMode): EpInUse[] {
  return ep === 'cpu' ? ['cpu'] : ep === 'cuda' ? ['cuda'] : ['cuda', 'cpu'];
}

export function sessionSettings(config: ServerConfig): SessionSettings {
  return {
    providers: providersFor(config.ep),
    intraOpThreads: config.threads,
    graphOpt: config.graphOpt,
    spinning: config.spinning,
    // onnxruntime logs a failed CUDA probe itself (several lines); the server reports it in one line
    // instead, so its own messages show only with LOG_LEVEL=debug.
    ortLogLevel: config.logLevel === 'debug' ? 'warning' : 'fatal',
  };
}

/** A start-up failure with a one-line message naming the cause and the fix. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * Starts a warmed-up worker pool (the shared one, or an implementation's own with other sessions or
 * settings); a failure becomes a StartupError whose one line names the cause and the fix.
 */
export async function startWorkerPool(
  config: ServerConfig,
  options: { size: number; models: ModelInfo[]; session: SessionSettings; log: (line: string) => void; autoFloor?: number },
): Promise<WorkerPool> {
  try {
    const pool = await WorkerPool.start({ ...options, warmup: true, maxRunBatch: config.sessionMaxBatch });
    for (const note of pool.notes) options.log(`EP=${config.ep}: ${note}`);
    return pool;
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    if (config.ep === 'cuda') {
      throw new StartupError(
        `EP=cuda: onnxruntime's CUDA execution provider could not load (${msg}); fix: on an NVIDIA host install it ` +
          `(ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci), or use EP=cuda,cpu to fall back or EP=cpu`,
      );
    }
    throw new StartupError(`loading the models from ${config.modelsDir} failed: ${msg}`);
  }
}

export class Runtime implements ImplementationContext {
  private poolPromise?: Promise<WorkerPool>;
  private started?: WorkerPool;

  private constructor(
    readonly config: ServerConfig,
    readonly models: readonly ModelInfo[],
    readonly log: (line: string) => void,
  ) {}

  /** Reads the models' metadata; fails with a StartupError when a file is missing or unusable. */
  static async create(config: ServerConfig, log: (line: string) => void = () => {}): Promise<Runtime> {
    try {
      return new Runtime(config, await readModelInfos(config.modelsDir, MODEL_NAMES), log);
    } catch (err) {
      throw new StartupError(err instanceof Error ? err.message : String(err));
    }
  }

  pool(): Promise<WorkerPool> {
    this.poolPromise ??= this.startPool();
    return this.poolPromise;
  }

  private async startPool(): Promise<WorkerPool> {
    const pool = await startWorkerPool(this.config, { size: this.config.workers, models: [...this.models], session: sessionSettings(this.config), log: this.log });
    this.started = pool;
    return pool;
  }

  /** The execution provider in use once the pool is up; before that, what was asked for. */
  get ep(): string {
    return this.started?.ep ?? this.config.ep;
  }

  get epNotes(): string[] {
    return this.started?.notes ?? [];
  }

  async close(): Promise<void> {
    const p = this.poolPromise;
    this.poolPromise = undefined;
    this.started = undefined;
    if (p) await (await p.catch(() => undefined))?.close();
  }
}

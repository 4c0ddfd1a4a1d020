// The implementations' lifecycle: which ones this server serves (IMPL), loading them side by side on
// one runtime (models + worker pool), readiness, and closing. Routes ask it for an implementation by
// name and get the same 404/503 answers whatever protocol they speak.
import { buildImplementation, implementationNames } from './implementations/registry.ts';
import type { Implementation } from './implementations/types.ts';
import type { ServerConfig } from './config.ts';
import { HttpError } from './http/errors.ts';
import { Runtime, StartupError } from './runtime/context.ts';
import type { ModelInfo } from './runtime/protocol.ts';

export class ImplementationHost {
  /** The names this server loads and serves, in registry order (IMPL, default all). */
  readonly served: readonly string[];
  private readonly loaded = new Map<string, Implementation>();
  private runtime: Runtime | undefined;
  private isReady = false;
  private isClosing = false;

  constructor(
    private readonly config: ServerConfig,
    private readonly log: (line: string) => void,
  ) {
    // Unknown names are refused at load(), with the list of known ones.
    this.served = config.impls === 'all' ? implementationNames() : config.impls.filter((n) => implementationNames().includes(n));
  }

  get ready(): boolean {
    return this.isReady;
  }

  get closing(): boolean {
    return this.isClosing;
  }

  /** EP in use once loaded (cpu | cuda); the requested mode before. */
  get ep(): string {
    return this.runtime?.ep ?? this.config.ep;
  }

  get epNotes(): readonly string[] {
    return this.runtime?.epNotes ?? [];
  }

  /** The hosted models' metadata (empty until load() read it). */
  get models(): readonly ModelInfo[] {
    return this.runtime?.models ?? [];
  }

  /** A loaded implementation, if any, by name (for listings). */
  peek(name: string): Implementation | undefined {
    return this.loaded.get(name);
  }

  /** Requests accepted but not yet executing, per served implementation. */
  pending(): Record<string, number> {
    return Object.fromEntries([...this.loaded].map(([name, impl]) => [name, impl.pendingRequests?.() ?? 0]));
  }

  /** Work waiting per model, per served implementation that keeps a queue per model (isolated). */
  pendingByModel(): Record<string, Partial<Record<string, number>>> {
    const out: Record<string, Partial<Record<string, number>>> = {};
    for (const [name, impl] of this.loaded) if (impl.pendingByModel) out[name] = impl.pendingByModel();
    return out;
  }

  /** The queue policy of each loaded implementation that has a queue, with its queued requests. */
  queues(): Record<string, { max_queue_size: number; timeout_us: number; pending: number }> {
    const out: Record<string, { max_queue_size: number; timeout_us: number; pending: number }> = {};
    for (const [name, impl] of this.loaded) {
      if (impl.queueSettings) out[name] = { max_queue_size: impl.queueSettings.maxQueueSize, timeout_us: impl.queueSettings.timeoutUs, pending: impl.pendingRequests?.() ?? 0 };
    }
    return out;
  }

  /** The implementation a request names, ready to infer; else the HttpError every protocol answers. */
  require(name: string): Implementation {
    if (!implementationNames().includes(name)) {
      throw new HttpError(404, 'unknown_implementation', `unknown implementation '${name}'; known implementations are ${implementationNames().join(', ')}`);
    }
    if (!this.served.includes(name)) {
      throw new HttpError(404, 'implementation_not_served', `implementation '${name}' is not loaded by this server (IMPL=${String(this.config.impls)}); it serves ${this.served.join(', ')}`);
    }
    const impl = this.loaded.get(name);
    if (!this.isReady || !impl || this.isClosing) {
      throw new HttpError(503, this.isClosing ? 'shutting_down' : 'not_ready', this.isClosing ? 'the server is shutting down' : 'models are still loading; retry shortly', {
        'Retry-After': '2',
      });
    }
    return impl;
  }

  /** Reads the models, starts the workers, loads and warms every served implementation; then ready. */
  async load(): Promise<void> {
    const { config } = this;
    const unknown = config.impls === 'all' ? [] : config.impls.filter((n) => !implementationNames().includes(n));
    if (unknown.length > 0) {
      throw new StartupError(`IMPL=${String(config.impls)}: unknown implementation(s) ${unknown.join(', ')}; allowed values are all or a list of ${implementationNames().join(', ')}`);
    }
    const rt = await Runtime.create(config, this.log);
    this.runtime = rt;
    // Implementations load side by side: much of session creation is single-threaded graph work.
    const built = this.served.map((name) => [name, buildImplementation(name, rt)] as const);
    const results = await Promise.allSettled(built.map(([, impl]) => impl.load()));
    built.forEach(([name, impl], i) => {
      if (results[i]!.status === 'fulfilled') this.loaded.set(name, impl);
      else void impl.close().catch(() => {});
    });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.isReady = true;
  }

  /** Closes every implementation and the worker pool (after the HTTP server stopped). */
  async close(warn: (line: string) => void): Promise<void> {
    this.isClosing = true;
    this.isReady = false;
    for (const impl of this.loaded.values()) await impl.close().catch((e) => warn(`closing ${impl.name}: ${String(e)}`));
    await this.runtime?.close();
  }
}

// The one place implementations are registered. A new strategy = one file exporting an
// ImplementationFactory + one line in IMPLEMENTATIONS below.
import type { ServerConfig } from '../config.ts';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime/context.ts';
import { createBaseline } from './baseline.ts';
import { createBatched } from './batched.ts';
import { createConcurrent } from './concurrent.ts';
import { createInt8 } from './int8.ts';
import { createInvalid } from './invalid.ts';
import { createIsolated } from './isolated.ts';
import { createStacked } from './stacked.ts';
import type { Implementation, ImplementationContext, ImplementationFactory } from './types.ts';

const IMPLEMENTATIONS: Readonly<Record<string, ImplementationFactory>> = {
  baseline: createBaseline,
  invalid: createInvalid,
  stacked: createStacked,
  concurrent: createConcurrent,
  batched: createBatched,
  int8: createInt8,
  isolated: createIsolated,
};

export function implementationNames(): string[] {
  return Object.keys(IMPLEMENTATIONS);
}

export class UnknownImplementationError extends Error {
  override name = 'UnknownImplementationError';
  constructor(readonly requested: string) {
    super(`unknown implementation '${requested}': known are ${implementationNames().join(', ')}`);
  }
}

/** Builds (does not load) an implementation on a given runtime; the server uses this. */
export function buildImplementation(name: string, context: ImplementationContext): Implementation {
  const factory = Object.hasOwn(IMPLEMENTATIONS, name) ? IMPLEMENTATIONS[name] : undefined;
  if (!factory) throw new UnknownImplementationError(name);
  return factory(context);
}

/**
 * In-process use without HTTP (accuracy tools, tests): creates a private runtime (models read from
 * config.modelsDir, worker pool started), builds and loads the implementation. Its close() also
 * closes that runtime. Pair with decodeImage() from ../runtime/decode.ts:
 *
 *   const impl = await createImplementation('baseline', { modelsDir: 'build/models' });
 *   const image = await decodeImage(bytes, { maxPixels: 40e6, id: 'x.jpg' });
 *   const out = await impl.infer([image], { models: ['d0', 'd1', 'd2'], rawHeads: true });
 *   await impl.close();
 *
 * `config` overrides the server defaults/env (EP, THREADS, GRAPH_OPT, WORKERS ...) without reading argv.
 */
export async function createImplementation(
  name: string,
  config: Partial<ServerConfig> = {},
  log: (line: string) => void = () => {},
): Promise<Implementation & { readonly ep: string }> {
  if (!Object.hasOwn(IMPLEMENTATIONS, name)) throw new UnknownImplementationError(name);
  const runtime = await Runtime.create(loadConfig(process.env, [], config), log);
  const impl = buildImplementation(name, runtime);
  try {
    await impl.load();
  } catch (err) {
    await runtime.close();
    throw err;
  }
  return {
    name: impl.name,
    description: impl.description,
    lossless: impl.lossless,
    ...(impl.queueSettings ? { queueSettings: impl.queueSettings } : {}),
    refuseIfFull: (models) => impl.refuseIfFull?.(models),
    get ep() {
      return runtime.ep;
    },
    load: () => impl.load(),
    infer: (images, options) => impl.infer(images, options),
    pendingRequests: () => impl.pendingRequests?.() ?? 0,
    pendingByModel: () => impl.pendingByModel?.() ?? {},
    async close() {
      await impl.close();
      await runtime.close();
    },
  };
}

export { decodeImage } from '../runtime/decode.ts';

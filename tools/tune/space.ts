// The spaces `make tune` searches, from its knobs (config.ts): one per stack. Our server: IMPL, then
// the knobs each implementation reads (an axis applies only where its IMPL reads the knob, so
// baseline stays the one reference point and batched alone varies the batcher); Triton: the model set,
// the instance count, and the dynamic batcher's knobs where the set batches. Every axis starts at the
// shipped default (server/config.ts, peers/triton/config.ts) when the grid holds it, so the quick
// search climbs from what a user gets without tuning.
import { setKnobs, type Env } from '../../lib/knobs.ts';
import { SERVER_KNOBS } from '../../server/index.ts';
import { TRITON_KNOBS } from '../../peers/triton/config.ts';
import type { Dimension, Space, TuneConfig } from './types.ts';
import { OWNED_KNOBS, type TuneSettings } from './config.ts';

/** Which implementations read each of our axes' knobs (server/implementations/*: the worker pool, the batcher, isolated's per-model workers). */
export const READERS: Readonly<Record<string, readonly string[]>> = {
  PARALLEL_WORKERS: ['concurrent', 'batched', 'int8'],
  PARALLEL_THREADS: ['concurrent', 'batched', 'int8', 'isolated'],
  BATCHER_MAX_BATCH: ['batched'],
  BATCHER_MAX_DELAY: ['batched'],
  INSTANCES: ['isolated'],
};

/** The implementation's name without a report label (`invalid@a` -> invalid). */
const implOf = (c: TuneConfig): string => (c['IMPL'] ?? '').split('@')[0]!;

const readBy = (knob: string) => (c: TuneConfig): boolean => READERS[knob]!.includes(implOf(c));

/** `preferred` when the grid holds it, else the grid's first value. */
const startAt = (values: readonly string[], preferred: string): string => (values.includes(preferred) ? preferred : values[0]!);

/** An axis, or nothing when it has no values (a user can drop an axis by naming none). */
function axis(knob: string, values: readonly (string | number)[], preferred: string | number, when?: (c: TuneConfig) => boolean): Dimension[] {
  const texts = values.map(String);
  if (texts.length === 0) return [];
  return [{ knob, values: texts, start: startAt(texts, String(preferred)), ...(when ? { when } : {}) }];
}

/** An axis whose values have no order: the quick search tries every one of them from where it stands. */
const categorical = (ds: Dimension[]): Dimension[] => ds.map((d) => ({ ...d, categorical: true }));

const shown = (k: { default: unknown; show?: (v: never) => string }): string => (k.show ? k.show(k.default as never) : String(k.default));

/** Our server's space. Knobs of the server set in the environment (EP, SPINNING, ...) are fixed on every configuration. */
export function ourSpace(cfg: TuneSettings, env: Env): Space {
  const axisKnobs = new Set([...OWNED_KNOBS, ...cfg.axes.map((a) => a.knob)]);
  const fixed = Object.fromEntries(Object.entries(setKnobs(env, SERVER_KNOBS)).filter(([k]) => !axisKnobs.has(k) && k !== 'LOG_LEVEL'));
  return {
    stack: 'ours',
    dimensions: [
      ...categorical(axis('IMPL', cfg.impls, 'baseline')),
      ...axis('PARALLEL_WORKERS', cfg.workers, SERVER_KNOBS.parallelWorkers.default, readBy('PARALLEL_WORKERS')),
      ...axis('PARALLEL_THREADS', cfg.threads, SERVER_KNOBS.parallelThreads.default, readBy('PARALLEL_THREADS')),
      ...axis('BATCHER_MAX_BATCH', cfg.maxBatch, SERVER_KNOBS.batcherMaxBatch.default, readBy('BATCHER_MAX_BATCH')),
      ...axis('BATCHER_MAX_DELAY', cfg.maxDelay, shown(SERVER_KNOBS.batcherMaxDelayUs), readBy('BATCHER_MAX_DELAY')),
      ...axis('INSTANCES', cfg.instances, shown(SERVER_KNOBS.instances), readBy('INSTANCES')),
      ...cfg.axes.flatMap((a) => axis(a.knob, a.values, a.values[0]!)),
    ],
    fixed,
  };
}

/** The Triton knobs a configuration sets; the others set in the environment (TRITON_INTRA_OP_THREAD_COUNT, ...) are fixed. */
const TRITON_AXES = ['TRITON_MODEL_SET', 'TRITON_INSTANCE_COUNT', 'TRITON_MAX_BATCH', 'TRITON_MAX_DELAY'];
/** Where it listens is the tool's; TRITON_INSTANCES would override the instance axis. */
const TRITON_NOT_FIXED = new Set([...TRITON_AXES, 'TRITON_INSTANCES', 'TRITON_HOST', 'TRITON_PORT', 'TRITON_GRPC_PORT', 'TRITON_METRICS_PORT', 'READY_TIMEOUT', 'MODELS_DIR']);

const batches = (c: TuneConfig): boolean => c['TRITON_MODEL_SET'] === 'dynamic';

export function tritonSpace(cfg: TuneSettings, env: Env): Space {
  const fixed = Object.fromEntries(Object.entries(setKnobs(env, TRITON_KNOBS)).filter(([k]) => !TRITON_NOT_FIXED.has(k)));
  return {
    stack: 'triton',
    dimensions: [
      ...categorical(axis('TRITON_MODEL_SET', cfg.tritonSets, TRITON_KNOBS.modelSet.default)),
      ...axis('TRITON_INSTANCE_COUNT', cfg.tritonInstances, TRITON_KNOBS.instanceCount.default),
      ...axis('TRITON_MAX_BATCH', cfg.tritonMaxBatch, TRITON_KNOBS.maxBatch.default, batches),
      ...axis('TRITON_MAX_DELAY', cfg.tritonMaxDelay, shown(TRITON_KNOBS.maxDelayUs), batches),
    ],
    fixed,
  };
}

/** Where an axis applies, in words, for tune.json (`IMPL in batched`); undefined: every configuration. */
export function appliesTo(stack: string, knob: string): string | undefined {
  if (stack === 'ours' && READERS[knob]) return `IMPL in ${READERS[knob]!.join(', ')}`;
  if (stack === 'triton' && (knob === 'TRITON_MAX_BATCH' || knob === 'TRITON_MAX_DELAY')) return 'TRITON_MODEL_SET=dynamic';
  return undefined;
}

export function spacesOf(cfg: TuneSettings, env: Env): Space[] {
  return cfg.stacks.map((s) => (s === 'ours' ? ourSpace(cfg, env) : tritonSpace(cfg, env)));
}

/** A configuration in words: its knobs as on a command line (`IMPL=batched BATCHER_MAX_BATCH=8`), fixed ones left out. */
export function configText(c: TuneConfig, space?: Space): string {
  const fixed = space?.fixed ?? {};
  return Object.entries(c).filter(([k, v]) => fixed[k] !== v).map(([k, v]) => `${k}=${v}`).join(' ');
}

// Per-model counts written `d0:1,d1:1,d2:2`, the form of Triton's instance_group count per model: the
// server's INSTANCES (workers of each model under `isolated`) and the Triton peer's TRITON_INSTANCES read
// the same text with this one parser, so both stacks can be given the same allocation.
// Pure TypeScript (both runtimes).
import { INVALID, int, type Parser } from './knobs.ts';
import { MODEL_NAMES, type ModelName } from './model-contract.ts';

/** A count per named model; a model left out takes the reader's default. */
export type ModelCounts = Partial<Record<ModelName, number>>;

/** `d0:1,d1:1,d2:2` (models in the contract's order). */
export function formatModelCounts(counts: ModelCounts): string {
  return MODEL_NAMES.filter((m) => counts[m] !== undefined)
    .map((m) => `${m}:${counts[m]}`)
    .join(',');
}

/** Each model at most once, each count an integer in [min, max]; at least one model. */
export function modelCounts(min: number, max: number): Parser<ModelCounts> {
  const count = int(min, max);
  return {
    allowed: `a comma list of model:count with models from ${MODEL_NAMES.join(', ')} (each at most once) and counts integers from ${min} to ${max}, e.g. d0:1,d1:1,d2:2`,
    parse(raw) {
      const out: ModelCounts = {};
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (items.length === 0) return INVALID;
      for (const item of items) {
        const [name, n, ...rest] = item.split(':').map((s) => s.trim());
        if (rest.length > 0 || n === undefined || !(MODEL_NAMES as readonly string[]).includes(name!)) return INVALID;
        const model = name as ModelName;
        const value = count.parse(n);
        if (value === INVALID || out[model] !== undefined) return INVALID;
        out[model] = value;
      }
      return out;
    },
    show: formatModelCounts,
  };
}

// `make docs`: the knob tables of README.md (the essential knobs) and docs/configuration.md (every
// registry's user-facing knobs, then the internal ones), produced from the knob registries so they
// cannot drift. Each table stands between `<!-- knobs:NAME -->` and `<!-- /knobs:NAME -->`; `--check`
// only compares (exit 1 when a file is stale), which test/unit/knobs.test.ts also does.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knobTable, tierOf, type Knob, type Registry } from '../lib/knobs.ts';
import { K6_KNOBS, LEVEL_KNOB } from '../lib/k6-config.ts';
import { runMain } from '../lib/node/cli.ts';
import { isMain } from '../lib/node/is-main.ts';
import { SCENARIO_KNOBS } from '../lib/scenarios.ts';
import { SERVER_KNOBS } from '../server/index.ts';
import { ACCURACY_KNOBS } from './accuracy/config.ts';
import { BENCH_KNOBS } from './bench/config.ts';
import { DATA_KNOBS } from './data/synthetic.ts';
import { MODEL_BENCH_KNOBS } from './model-bench/bench.ts';
import { MODELS_KNOBS } from './models/generate.ts';
import { REPORT_KNOBS } from './report/config.ts';
import { HARNESS_KNOBS } from './harness/config.ts';
import { TENSORS_KNOBS } from './data/tensors.ts';
import { PERF_ANALYZER_KNOBS } from '../peers/perf-analyzer/run.ts';
import { PEERS_KNOBS } from './report/peers.ts';
import { OPERATOR_KNOBS } from './scale-out/operator.ts';
import { MERGE_KNOBS } from './scale-out/merge.ts';
import { TRITON_KNOBS } from '../peers/triton/config.ts';
import { TORCHSERVE_KNOBS } from '../peers/torchserve/config.ts';
import { FASTAPI_KNOBS } from '../peers/fastapi/config.ts';
import { REGION_KNOBS } from './region/config.ts';
import { TUNE_KNOBS } from './tune/config.ts';

export const KNOB_TABLES: Readonly<Record<string, Registry>> = {
  bench: BENCH_KNOBS,
  scenario: SCENARIO_KNOBS,
  k6: K6_KNOBS,
  server: SERVER_KNOBS,
  report: REPORT_KNOBS,
  accuracy: ACCURACY_KNOBS,
  models: MODELS_KNOBS,
  'bench-models': MODEL_BENCH_KNOBS,
  data: DATA_KNOBS,
  harness: HARNESS_KNOBS,
  'k6-operator': OPERATOR_KNOBS,
  'bench-merge': MERGE_KNOBS,
  tensors: TENSORS_KNOBS,
  'perf-analyzer': PERF_ANALYZER_KNOBS,
  peers: PEERS_KNOBS,
  region: REGION_KNOBS,
  tune: TUNE_KNOBS,
  triton: TRITON_KNOBS,
  torchserve: TORCHSERVE_KNOBS,
  fastapi: FASTAPI_KNOBS,
};

/** Knobs read outside the registries above: shown only among the internal ones. */
const UNLISTED_KNOBS: Readonly<Record<string, Registry>> = { k6: { level: LEVEL_KNOB } };

const isInternal = (k: Knob<unknown>) => tierOf(k) === 'internal';

/** The README's table: the essential knobs of every registry, once per variable (the first registry wins). */
export function essentialTable(): string {
  const picked: Record<string, Knob<unknown>> = {};
  for (const registry of Object.values(KNOB_TABLES)) {
    for (const k of Object.values(registry)) if (tierOf(k) === 'essential' && !(k.env in picked)) picked[k.env] = k;
  }
  return knobTable(picked);
}

/** docs/configuration.md's last section: per registry, the knobs the tools set for each other. */
export function internalTables(): string {
  const parts: string[] = [];
  for (const [name, registry] of Object.entries(KNOB_TABLES)) {
    const all: Registry = { ...registry, ...UNLISTED_KNOBS[name] };
    if (Object.values(all).some(isInternal)) parts.push(`Registry \`${name}\`:\n\n${knobTable(all, isInternal)}`);
  }
  return parts.length > 0 ? parts.join('\n\n') : 'None.';
}

/** Per file (relative to the repository root), its marked blocks and what each holds. */
export const DOC_BLOCKS: Readonly<Record<string, Readonly<Record<string, () => string>>>> = {
  'README.md': { essential: essentialTable },
  'docs/configuration.md': {
    ...Object.fromEntries(Object.entries(KNOB_TABLES).map(([name, registry]) => [name, () => knobTable(registry, (k) => !isInternal(k))])),
    internal: internalTables,
  },
};

/** `file`'s text with every marked block regenerated; a missing marker pair is an error naming it. */
export function renderKnobTables(file: string, text: string): string {
  const blocks = DOC_BLOCKS[file];
  if (!blocks) throw new Error(`${file} has no knob tables (expected one of ${Object.keys(DOC_BLOCKS).join(', ')})`);
  let out = text;
  for (const [name, render] of Object.entries(blocks)) {
    const re = new RegExp(`(<!-- knobs:${name} -->\n)[\\s\\S]*?(<!-- /knobs:${name} -->)`);
    if (!re.test(out)) throw new Error(`${file} has no <!-- knobs:${name} --> ... <!-- /knobs:${name} --> block`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}${render()}\n${close}`);
  }
  return out;
}

/** Regenerates the files under `root` (or, with `check`, only compares); returns the stale ones. */
export function writeDocs(root: string, check = false): string[] {
  const stale: string[] = [];
  for (const file of Object.keys(DOC_BLOCKS)) {
    const path = join(root, file);
    const text = readFileSync(path, 'utf8');
    const fresh = renderKnobTables(file, text);
    if (fresh === text) continue;
    stale.push(file);
    if (!check) writeFileSync(path, fresh);
  }
  return stale;
}

if (isMain(import.meta.url)) {
  runMain('docs', async () => {
    const check = process.argv.includes('--check');
    const stale = writeDocs('.', check);
    if (check && stale.length > 0) {
      console.error(`docs: knob tables are stale in ${stale.join(', ')}: run \`make docs\``);
      return 1;
    }
    const files = Object.keys(DOC_BLOCKS);
    console.log(`docs: knob tables ${stale.length === 0 ? `up to date in ${files.join(', ')}` : `rewritten in ${stale.join(', ')}`}`);
    return 0;
  });
}

// `make docs`: the README's knob tables, produced from the knob registries so they cannot drift.
// Each table stands between `<!-- knobs:NAME -->` and `<!-- /knobs:NAME -->`; `--check` only
// compares (exit 1 when README.md is stale), which test/unit/knobs-docs.test.ts also does.
import { readFileSync, writeFileSync } from 'node:fs';
import { knobTable, type Registry } from '../lib/knobs.ts';
import { K6_KNOBS } from '../lib/k6-config.ts';
import { runMain } from '../lib/node/cli.ts';
import { isMain } from '../lib/node/is-main.ts';
import { SCENARIO_KNOBS } from '../lib/scenarios.ts';
import { SERVER_KNOBS } from '../server/index.ts';
import { ACCURACY_KNOBS } from './accuracy/config.ts';
import { BENCH_KNOBS } from './bench/config.ts';
import { DATA_KNOBS } from './data/synthetic.ts';
import { MODEL_BENCH_KNOBS } from './models/bench.ts';
import { MODELS_KNOBS } from './models/generate.ts';
import { REPORT_KNOBS } from './report/config.ts';
import { HARNESS_KNOBS } from './harness/config.ts';
import { TENSORS_KNOBS } from './data/tensors.ts';
import { PERF_ANALYZER_KNOBS } from './perf-analyzer/run.ts';
import { PEERS_KNOBS } from './report/peers.ts';
import { OPERATOR_KNOBS } from './k6/operator.ts';
import { MERGE_KNOBS } from './bench/merge.ts';

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
};

/** README text with every marked table regenerated; a missing marker pair is an error naming it. */
export function renderKnobTables(readme: string): string {
  let out = readme;
  for (const [name, registry] of Object.entries(KNOB_TABLES)) {
    const re = new RegExp(`(<!-- knobs:${name} -->\\n)[\\s\\S]*?(<!-- /knobs:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- knobs:${name} --> ... <!-- /knobs:${name} --> block for the ${name} registry`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}${knobTable(registry)}\n${close}`);
  }
  return out;
}

if (isMain(import.meta.url)) {
  runMain('docs', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const fresh = renderKnobTables(readme);
    if (process.argv.includes('--check')) {
      if (fresh === readme) return 0;
      console.error('docs: README.md knob tables are stale: run `make docs`');
      return 1;
    }
    if (fresh !== readme) writeFileSync('README.md', fresh);
    console.log(`docs: README.md knob tables ${fresh === readme ? 'up to date' : 'rewritten'} (${Object.keys(KNOB_TABLES).join(', ')})`);
    return 0;
  });
}

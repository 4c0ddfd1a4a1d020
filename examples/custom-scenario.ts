// A scenario of your own, written only against the public k6 library entry (lib/k6/index.ts):
// each VU sends one dataset image to every implementation in IMPL in turn, ITERATIONS times in
// all, and the run is held to the checked-in bounds of the concurrency1 scenario. `make build`
// bundles it to build/k6/examples/custom-scenario.js (DATASET_MANIFEST: absolute, or relative to that file):
//
//   TARGET=http://127.0.0.1:8000 IMPL=baseline,invalid DATASET_MANIFEST=$PWD/build/data/synthetic/manifest.json \
//     make k6-run SCRIPT=build/k6/examples/custom-scenario.js
import exec from 'k6/execution';
import {
  buildSummary, checkResponse, DEFAULT_BOUNDS, inferRequest, int, junitXml, k6Config, knob, loadDataset, planFor,
  readKnob, resolveBounds, send, summaryText, thresholdsFor, type K6SummaryData,
} from '../lib/k6/index.ts';

const cfg = k6Config(__ENV);
// A named plan gives the tags and thresholds its figures are computed with; the load shape is ours.
const plan = planFor('concurrency1', { ...__ENV, WARMUP: '0' });
const dataset = await loadDataset(cfg.manifest, cfg.maxImages);
const iterations = readKnob(knob({ env: 'ITERATIONS', tier: 'expert', default: 4, ...int(1), doc: 'requests per implementation' }), __ENV);

export const options = {
  scenarios: { round_robin: { executor: 'shared-iterations', vus: 1, iterations, exec: 'measure', env: { LEVEL: '1' } } },
  thresholds: thresholdsFor(plan, cfg.impls.map((impl) => resolveBounds(DEFAULT_BOUNDS, plan, impl))),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

export async function measure(): Promise<void> {
  const image = await dataset.read(exec.scenario.iterationInTest);
  for (const impl of cfg.impls) {
    const tags = { impl, scenario: plan.name, level: '1', phase: 'measure' as const };
    checkResponse(send(inferRequest(cfg.target, [image], tags, cfg.models.join(','))), [image], tags);
  }
}

export function handleSummary(data: K6SummaryData): Record<string, string> {
  const summary = buildSummary(data, plan, cfg.impls);
  const out: Record<string, string> = { stdout: summaryText(summary) };
  if (cfg.resultsDir) {
    out[`${cfg.resultsDir}/summary.json`] = JSON.stringify(summary, null, 2);
    out[`${cfg.resultsDir}/junit.xml`] = junitXml(summary);
  }
  return out;
}

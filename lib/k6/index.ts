// The public k6 library entry (re-exports only, like k6-jslib-aws): what a scenario of your own needs.
// See examples/custom-scenario.ts, bundled by `make build` to build/k6/examples/custom-scenario.js.
//
//   import { k6Config, loadDataset, inferRequest, send, checkResponse } from '../lib/k6/index.ts';

// Configuration: the k6 side's knobs (TARGET, IMPL, DATASET_MANIFEST, MAX_IMAGES, MODELS, ...).
export { k6Config, K6_KNOBS, type K6Config } from '../k6-config.ts';
export { ConfigError } from '../env.ts';
// Knobs of your own scenario, with the same parsers and error form: readKnob(knob({ env: 'N', tier: 'expert', default: 4, ...int(1), doc: '...' }), __ENV).
export { knob, readKnob, readKnobs, int, num, bool, duration, oneOf, list, text, type Knob } from '../knobs.ts';

// The dataset: images opened once for all VUs (k6/experimental/fs), read round-robin.
export { loadDataset, type Dataset, type LoadedImage } from './dataset.ts';

// Request builders and the protocol checks of a response (and the in-run output hook).
export { inferRequest, send, checkResponse, type InferRequest } from './request.ts';
export type { RequestTags, Phase } from './tags.ts';

// Output checks against the reference outputs of the image sent (output_match, output_*_mse).
export { loadOutputReference, checkOutputResponse, outputThresholds, inRunBounds, type OutputReference } from './output-check.ts';

// Thresholds from the bounds: the named scenarios' plans, the checked-in bounds, the run's resolved ones.
export { planFor, scenarioSpec, SCENARIOS, type Plan } from '../scenarios.ts';
export type { Level } from '../load-shapes.ts';
export { DEFAULT_BOUNDS, resolveBounds, thresholdsFor, selector, type ResolvedBounds, type Thresholds } from '../bounds.ts';
export { resolvedBounds } from './resolved-bounds.ts';

// The summary: summary.json, summary.txt and junit.xml from k6's handleSummary data.
export { buildSummary, summaryText, junitXml, type K6SummaryData, type Summary } from '../summary.ts';

// A whole suite (options, setup with the health gate and warm-up, measure, handleSummary) for a named kind.
export { buildSuite } from './suite.ts';

// Wire types of the server's answers.
export type { InferResponse, HealthResponse, ImageResult, ModelDetections, ModelName } from '../types.ts';

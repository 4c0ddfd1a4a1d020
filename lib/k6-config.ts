// The k6 side's knob registry and its one typed config, from __ENV (k6 -e or the process
// environment). Precedence: env, then defaults (k6 scripts take no flags). Same names and parsers as
// the Node side. Pure TypeScript (no k6 module, no k6 global), so it lives in lib/: the bench's env.json
// record, `make docs` and the tests read it too.
import { ConfigError, type Env } from './env.ts';
import { duration, int, knob, list, num, oneOf, readKnob, readKnobs, text } from './knobs.ts';
import { MODEL_NAMES, type ModelName } from './model-contract.ts';
import { SCENARIOS } from './scenarios.ts';
import { V2_KNOBS, type Protocol, type V2Models } from './v2/config.ts';
import { VERDICT_KNOBS, type UndecidedPolicy } from './verdict.ts';

export const K6_KNOBS = {
  scenario: knob({ env: 'SCENARIO', tier: 'essential', default: '', defaultText: "the script's own", ...oneOf(Object.keys(SCENARIOS)), doc: 'which named scenario of the bundle to run' }),
  target: knob({ env: 'TARGET', tier: 'essential', default: 'http://127.0.0.1:8000', ...text('http://host:port'), doc: 'the server under test' }),
  impls: knob({ env: 'IMPL', tier: 'essential', default: ['baseline'], ...list(text('a name'), 'a name, or a comma list (smoke)'), doc: 'the implementations under test (all is for make bench, which resolves it from /health)' }),
  manifest: knob({
    env: 'DATASET_MANIFEST', tier: 'internal', default: '../data/synthetic/manifest.json', ...text('a manifest.json path'),
    doc: "the dataset's manifest, relative to the bundle in build/k6/ (make bench sets it)",
  }),
  maxImages: knob({ env: 'MAX_IMAGES', tier: 'essential', default: 0, defaultText: 'all', ...int(0), doc: 'how many images of the dataset' }),
  boundsResolved: knob({ env: 'BOUNDS_RESOLVED', tier: 'internal', default: '', ...text('an absolute path'), doc: "the run's bounds.json (make bench writes it); unset: the checked-in bounds" }),
  reference: knob({ env: 'REFERENCE', tier: 'internal', default: '', ...text('an absolute path'), doc: "the reference's detections.json for the in-run output checks; unset: no checks" }),
  resultsDir: knob({ env: 'RESULTS_DIR', tier: 'internal', default: '', ...text('folder'), doc: 'where handleSummary writes summary.json, summary.txt, junit.xml; unset: stdout only' }),
  models: knob<ModelName[]>({ env: 'MODELS', tier: 'expert', default: [], defaultText: 'all', ...list(oneOf(MODEL_NAMES), `a comma list of ${MODEL_NAMES.join(', ')}`), doc: '`?models=` subset, e.g. d0,d2' }),
  healthWait_s: knob({ env: 'HEALTH_WAIT', tier: 'expert', default: 30, defaultText: '30s', ...duration, doc: 'how long setup() waits for /health ready' }),
  referenceCache: knob({ env: 'REFERENCE_CACHE', tier: 'expert', default: 64, ...int(0), doc: 'reference images each VU keeps parsed for the in-run output checks (0: parse on every access)' }),
  datasetCacheMb: knob({ env: 'DATASET_CACHE_MB', tier: 'expert', default: 4, ...num(0), doc: 'MB of image bytes each VU keeps after reading them once (0: read the file on every request)' }),
  setupTimeout_s: knob({ env: 'SETUP_TIMEOUT', tier: 'expert', default: 300, defaultText: '300s', ...duration, doc: "k6's setup timeout (warm-up included)" }),
  ...V2_KNOBS,
  // handleSummary's verdicts: the bench reads the same ones (tools/bench/config.ts) and passes them on.
  ...VERDICT_KNOBS,
};

/** Set per k6 scenario by the plan (lib/load-shapes.ts), not by users: which level a VU measures. */
export const LEVEL_KNOB = knob({ env: 'LEVEL', tier: 'internal', default: '', ...text('a level tag'), doc: 'internal: the level of the running k6 scenario' });

export interface K6Config {
  scenario: string;
  target: string;
  impls: string[];
  manifest: string;
  maxImages: number;
  /** Path of the resolved bounds JSON the orchestrator wrote; empty: checked-in defaults, no calibration. */
  boundsResolved: string;
  /** Path of the reference detections for the in-run output checks; empty: none. */
  reference: string;
  /** Folder handleSummary writes summary.json, summary.txt and junit.xml into; empty: stdout only. */
  resultsDir: string;
  /** Models asked for (`?models=`); empty: all. */
  models: ModelName[];
  healthWait_s: number;
  setupTimeout_s: number;
  /** Reference images each VU keeps parsed for the in-run output checks (0: parse on every access). */
  referenceCache: number;
  /** MB of image bytes each VU keeps after reading them once (0: read the file on every request). */
  datasetCacheMb: number;
  /** native: POST /infer/:impl; v2: the Open Inference Protocol (lib/k6/v2.ts), IMPL naming the model version. */
  protocol: Protocol;
  v2Models: V2Models;
  /** V2_VERSION: the version asked for instead of IMPL (empty: IMPL). */
  v2Version: string;
  /** MIN_DURATION: a level measured for less is INVALID (lib/verdict.ts). */
  minDuration_s: number;
  /** UNDECIDED: whether a latency threshold undecided at 95 % fails the run. */
  undecided: UndecidedPolicy;
  /** STABILITY_WINDOWS / STABILITY_TOLERANCE (%): each timed level judged in windows (lib/stability.ts). */
  stabilityWindows: number;
  stabilityTolerance: number;
}

export function k6Config(env: Env, defaultScenario = ''): K6Config {
  const k = readKnobs(K6_KNOBS, env);
  if (k.impls.includes('all')) throw new ConfigError(`IMPL=all is resolved by 'make bench' from the server's /health: run through make bench, or list them (IMPL=baseline,invalid)`);
  const { tensorsManifest, ...rest } = k;
  // Per-model v2 and TorchServe requests send prepared tensors: the dataset is then the images that have them.
  const tensors = (k.protocol === 'v2' || k.protocol === 'torchserve') && k.v2Models.kind === 'models';
  return { ...rest, manifest: tensors ? tensorsManifest : k.manifest, scenario: readKnob(K6_KNOBS.scenario, env, {}, defaultScenario), target: k.target.replace(/\/+$/, '') };
}

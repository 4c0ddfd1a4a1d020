// The bench orchestrator's knob registry (Node side) and its one typed config. Precedence: env, then
// defaults (explicit options from host-bounds/report last). The k6 script's own knobs (DURATION,
// WARMUP, LEVELS, RATE, ...: lib/scenarios.ts; TARGET, MODELS, ...: lib/k6-config.ts) reach it
// through the inherited environment; the server's (server/config.ts) reach the server it starts.
import { bool, duration, int, knob, oneOf, readKnob, readKnobs, text, type Env } from '../../lib/knobs.ts';
import { ConfigError } from '../../lib/env.ts';
import { DEFAULT_SCENARIO, SCENARIOS, scenarioSpec } from '../../lib/scenarios.ts';
import { BOUNDS_FILE_KNOB } from '../../lib/node/bounds-file.ts';
import { V2_KNOBS, type Protocol, type V2Models } from '../../lib/v2/config.ts';
import { LOADGEN_RUNTIME_KNOBS, type LoadgenRuntime } from '../common/loadgen-runtime.ts';
import { CPU_PLACEMENT_KNOB, type PlacementSetting } from '../common/cpu-placement.ts';
import { VERDICT_KNOBS, type UndecidedPolicy, type ValidityPolicy } from '../../lib/verdict.ts';

export const BENCH_KNOBS = {
  scenario: knob({ env: 'SCENARIO', tier: 'essential', default: DEFAULT_SCENARIO, ...oneOf(Object.keys(SCENARIOS)), doc: 'what to run (see Scenarios)' }),
  impl: knob({ env: 'IMPL', tier: 'essential', default: 'baseline', ...text('a name, a comma list (smoke) or all'), doc: 'the implementations under test (all: every one the target serves)' }),
  target: knob({ env: 'TARGET', tier: 'essential', default: '', defaultText: '(start a server)', ...text('http://host:port'), doc: 'measure a running server instead' }),
  targetMetrics: knob({ env: 'TARGET_METRICS', tier: 'expert', default: '', defaultText: '${TARGET}/metrics', ...text('a URL'), doc: "the target's Prometheus endpoint when it lives elsewhere (Triton: its metrics port)" }),
  datasetDir: knob({ env: 'DATASET_DIR', tier: 'essential', default: '', defaultText: 'build/data/synthetic', ...text('folder'), doc: 'any folder of JPEG/PNG/WebP (e.g. COCO val2017)' }),
  maxImages: knob({ env: 'MAX_IMAGES', tier: 'essential', default: 0, defaultText: 'all', ...int(0), doc: 'how many images of the dataset (0 = all)' }),
  boundsFile: BOUNDS_FILE_KNOB,
  hostBoundsFile: knob({ env: 'HOST_BOUNDS_FILE', tier: 'expert', default: 'results/host-bounds.json', ...text('a JSON file'), doc: "this host's bounds (baseline and invalid measured by `make host-bounds`)" }),
  useHostBounds: knob({ env: 'HOST_BOUNDS', tier: 'expert', default: true, ...bool, doc: "gate against this host's bounds when the file exists" }),
  dashboard: knob({ env: 'DASHBOARD', tier: 'expert', default: false, defaultText: 'on when interactive and not CI', ...bool, doc: "k6's live dashboard while it runs (the HTML export is always written)" }),
  dashboardPort: knob({ env: 'DASHBOARD_PORT', tier: 'expert', default: 5665, ...int(1, 65535), doc: 'port of the live dashboard' }),
  dashboardPeriod_s: knob({
    env: 'DASHBOARD_PERIOD', tier: 'expert', default: 0, defaultText: 'a tenth of the measured time, from 1s to 10s', ...duration,
    doc: "how often k6's dashboard (live and HTML export) takes a point (k6's K6_WEB_DASHBOARD_PERIOD)",
  }),
  ci: knob({ env: 'CI', tier: 'expert', default: false, ...bool, doc: 'CI run: no live dashboard' }),
  resultsRoot: knob({ env: 'RESULTS_ROOT', tier: 'expert', default: 'results', ...text('folder'), doc: 'where run folders go' }),
  readyTimeout_s: knob({ env: 'READY_TIMEOUT', tier: 'expert', default: 300, defaultText: '300s', ...duration, doc: 'how long to wait for /health ready' }),
  memoryInterval_s: knob({ env: 'MEMORY_INTERVAL', tier: 'expert', default: 1, defaultText: '1s (soak 10s)', ...duration, doc: '/vram sampling period' }),
  accuracy: knob({ env: 'ACCURACY', tier: 'expert', default: true, ...bool, doc: 'run the accuracy replay after the load' }),
  accuracyReplay: knob({ env: 'ACCURACY_REPLAY', tier: 'expert', default: true, ...bool, doc: "with ACCURACY on: 0 keeps the in-run output checks (goodput's correct answers) and skips the replay after the load (make tune replays each implementation once)" }),
  runners: knob({ env: 'RUNNERS', tier: 'essential', default: 1, ...int(1, 64), doc: 'k6 processes, each with its own execution segment; their samples are merged' }),
  port: knob({ env: 'PORT', tier: 'expert', default: 0, defaultText: 'free port', ...int(0, 65535), doc: 'port of the server the bench starts' }),
  ep: knob({ env: 'EP', tier: 'essential', default: 'cpu', ...text('cpu, cuda or cuda,cpu'), doc: 'execution provider of the server the bench starts' }),
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: '', defaultText: 'build/models', ...text('folder'), doc: 'models of the server the bench starts' }),
  protocol: V2_KNOBS.protocol,
  v2Models: V2_KNOBS.v2Models,
  v2Version: V2_KNOBS.v2Version,
  loadgenGomaxprocs: LOADGEN_RUNTIME_KNOBS.gomaxprocs,
  loadgenGogc: LOADGEN_RUNTIME_KNOBS.gogc,
  cpuPlacement: CPU_PLACEMENT_KNOB,
  // The verdicts' knobs (lib/verdict.ts); k6's handleSummary reads the same ones.
  minDuration_s: VERDICT_KNOBS.minDuration_s,
  undecided: VERDICT_KNOBS.undecided,
  validity: VERDICT_KNOBS.validity,
  stabilityWindows: VERDICT_KNOBS.stabilityWindows,
  stabilityTolerance: VERDICT_KNOBS.stabilityTolerance,
  stabilityMaxDuration_s: knob({
    env: 'STABILITY_MAX_DURATION', tier: 'expert', default: 0, defaultText: '0 (off)', ...duration,
    doc: 'a level not stable (tools/bench/extend.ts) is measured again with twice the DURATION, up to this; every attempt\'s folder is kept',
  }),
};

export interface BenchConfig {
  scenario: string;
  /** As given: one name, a comma list (smoke) or `all` (smoke: every implementation /health lists). */
  impl: string;
  /** Empty: start a server; else the running server to measure. */
  target: string;
  /** Prometheus endpoint scraped before and after the run; empty: `${target}/metrics`. A server
   * whose metrics live on another port (Triton: 8002) names it here. */
  targetMetrics: string;
  datasetDir: string;
  maxImages: number;
  boundsFile: string;
  /** This host's bounds (`make host-bounds`), and whether to gate against them when the file exists. */
  hostBoundsFile: string;
  useHostBounds: boolean;
  /** Live dashboard while k6 runs; off in CI (the HTML export is always written). */
  dashboard: boolean;
  dashboardPort: number;
  /** k6's dashboard period in seconds; 0: the bench picks one from the plan. */
  dashboardPeriod_s: number;
  resultsRoot: string;
  readyTimeout_s: number;
  memoryInterval_s: number;
  accuracy: boolean;
  /** ACCURACY_REPLAY=0: the in-run output checks without the replay after the load. */
  accuracyReplay: boolean;
  /** k6 processes, each with its own execution segment; 1 = one plain k6 run. Their samples are merged. */
  runners: number;
  /** native or v2 (the Open Inference Protocol); with v2, what V2_MODELS sends (k6 reads both itself). */
  protocol: Protocol;
  v2Models: V2Models;
  /** V2_VERSION: the model version asked for when IMPL is a label (Triton: 1). */
  v2Version: string;
  /** LOADGEN_GOMAXPROCS / LOADGEN_GOGC: k6's Go runtime (tools/common/loadgen-runtime.ts). */
  loadgen: LoadgenRuntime;
  /** CPU_PLACEMENT: the server and k6 on disjoint cores, or not (tools/common/cpu-placement.ts). */
  cpuPlacement: PlacementSetting;
  /** Passed to a server the bench starts. */
  server: { host: string; port: number; ep: string; modelsDir: string };
  /** MIN_DURATION: a level measured for less is INVALID. */
  minDuration_s: number;
  /** UNDECIDED=fail: a latency threshold undecided at 95 % confidence exits 99 like a broken one. */
  undecided: UndecidedPolicy;
  /** VALIDITY=fail: an INVALID level fails the run (exit 96) when nothing else did. */
  validity: ValidityPolicy;
  /** STABILITY_WINDOWS / STABILITY_TOLERANCE (%): each timed level judged in windows (lib/stability.ts). */
  stabilityWindows: number;
  stabilityTolerance: number;
  /** STABILITY_MAX_DURATION: rerun an unsettled level with twice the DURATION up to this (0: off). */
  stabilityMaxDuration_s: number;
}

export function benchConfig(env: Env, overrides: Partial<BenchConfig> = {}): BenchConfig {
  const k = readKnobs(BENCH_KNOBS, env);
  // TorchServe serves no pipeline model: its requests are the per-model tensors (lib/k6/torchserve.ts).
  if (k.protocol === 'torchserve' && k.v2Models.kind !== 'models') throw new ConfigError('PROTOCOL=torchserve sends each model its prepared tensors: set V2_MODELS to a comma list of d0, d1, d2 (TorchServe serves no pipeline model)');
  const kind = scenarioSpec(k.scenario).kind;
  return {
    scenario: k.scenario,
    impl: k.impl,
    target: k.target.replace(/\/+$/, ''),
    targetMetrics: k.targetMetrics,
    datasetDir: k.datasetDir,
    maxImages: k.maxImages,
    boundsFile: k.boundsFile,
    hostBoundsFile: k.hostBoundsFile,
    useHostBounds: k.useHostBounds,
    dashboard: readKnob(BENCH_KNOBS.dashboard, env, {}, !k.ci && Boolean(process.stdout.isTTY)),
    dashboardPort: k.dashboardPort,
    dashboardPeriod_s: k.dashboardPeriod_s,
    resultsRoot: k.resultsRoot,
    readyTimeout_s: k.readyTimeout_s,
    memoryInterval_s: readKnob(BENCH_KNOBS.memoryInterval_s, env, {}, kind === 'soak' ? 10 : 1),
    accuracy: k.accuracy,
    accuracyReplay: k.accuracyReplay,
    runners: k.runners,
    loadgen: { gomaxprocs: k.loadgenGomaxprocs, gogc: k.loadgenGogc },
    cpuPlacement: k.cpuPlacement,
    protocol: k.protocol,
    v2Models: k.v2Models,
    v2Version: k.v2Version,
    server: { host: '127.0.0.1', port: k.port, ep: k.ep, modelsDir: k.modelsDir },
    minDuration_s: k.minDuration_s,
    undecided: k.undecided,
    validity: k.validity,
    stabilityWindows: k.stabilityWindows,
    stabilityTolerance: k.stabilityTolerance,
    stabilityMaxDuration_s: k.stabilityMaxDuration_s,
    ...overrides,
  };
}

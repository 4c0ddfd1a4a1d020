// The bench orchestrator's one typed config (Node side). Precedence: explicit options (calibrate
// passes some), then env, then defaults. Knobs the k6 script reads itself (DURATION, WARMUP,
// LEVELS, RATE, RATES, STEP, BATCHES, VUS, ...) reach it through the inherited environment.
import { boolEnv, durationEnv, numberEnv, stringEnv, type Env } from '../../lib/env.ts';
import { DEFAULT_SCENARIO, scenarioSpec } from '../../lib/scenarios.ts';
import { protocolEnv, v2ModelsEnv, v2VersionEnv, type Protocol, type V2Models } from '../../lib/v2/config.ts';

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
  calibrationFile: string;
  useCalibration: boolean;
  /** Live dashboard while k6 runs; off in CI (the HTML export is always written). */
  dashboard: boolean;
  dashboardPort: number;
  resultsRoot: string;
  readyTimeout_s: number;
  memoryInterval_s: number;
  accuracy: boolean;
  /** k6 processes, each with its own execution segment; 1 = one plain k6 run. Their samples are merged. */
  runners: number;
  /** native or v2 (the Open Inference Protocol); with v2, what V2_MODELS sends (k6 reads both itself). */
  protocol: Protocol;
  v2Models: V2Models;
  /** V2_VERSION: the model version asked for when IMPL is a label (Triton: 1). */
  v2Version: string;
  /** Passed to a server the bench starts. */
  server: { host: string; port: number; ep: string; modelsDir: string };
}

export function benchConfig(env: Env, overrides: Partial<BenchConfig> = {}): BenchConfig {
  const scenario = stringEnv(env, 'SCENARIO', DEFAULT_SCENARIO);
  scenarioSpec(scenario); // fails with the list of names
  const ci = boolEnv(env, 'CI', false);
  const kind = scenarioSpec(scenario).kind;
  return {
    scenario,
    impl: stringEnv(env, 'IMPL', 'baseline'),
    target: stringEnv(env, 'TARGET', '').replace(/\/+$/, ''),
    targetMetrics: stringEnv(env, 'TARGET_METRICS', ''),
    datasetDir: stringEnv(env, 'DATASET_DIR', ''),
    maxImages: numberEnv(env, 'MAX_IMAGES', 0, { min: 0, integer: true }),
    boundsFile: stringEnv(env, 'BOUNDS_FILE', ''),
    calibrationFile: stringEnv(env, 'CALIBRATION_FILE', 'results/calibration.json'),
    useCalibration: boolEnv(env, 'CALIBRATION', true),
    dashboard: boolEnv(env, 'DASHBOARD', !ci && Boolean(process.stdout.isTTY)),
    dashboardPort: numberEnv(env, 'DASHBOARD_PORT', 5665, { min: 1, max: 65535, integer: true }),
    resultsRoot: stringEnv(env, 'RESULTS_ROOT', 'results'),
    readyTimeout_s: durationEnv(env, 'READY_TIMEOUT', '300s'),
    memoryInterval_s: durationEnv(env, 'MEMORY_INTERVAL', kind === 'soak' ? '10s' : '1s'),
    accuracy: boolEnv(env, 'ACCURACY', true),
    runners: numberEnv(env, 'RUNNERS', 1, { min: 1, max: 64, integer: true }),
    protocol: protocolEnv(env),
    v2Models: v2ModelsEnv(env),
    v2Version: v2VersionEnv(env),
    server: { host: '127.0.0.1', port: numberEnv(env, 'PORT', 0, { min: 0, max: 65535, integer: true }), ep: stringEnv(env, 'EP', 'cpu'), modelsDir: stringEnv(env, 'MODELS_DIR', '') },
    ...overrides,
  };
}

// The k6 side's one typed config, from __ENV (k6 -e or the process environment).
// Precedence: env, then defaults. Same names as the Node side (lib/env.ts parsers).
import { ConfigError, numberEnv, stringEnv, durationEnv, type Env } from '../env.ts';
import type { ResolvedBounds } from '../bounds.ts';
import { protocolEnv, v2ModelsEnv, v2VersionEnv, type Protocol, type V2Models } from '../v2/config.ts';

export interface K6Config {
  target: string;
  impls: string[];
  manifest: string;
  maxImages: number;
  /** Path of the resolved bounds JSON the orchestrator wrote; empty: checked-in defaults, no calibration. */
  boundsResolved: string;
  /** Folder handleSummary writes summary.json, summary.txt and junit.xml into; empty: stdout only. */
  resultsDir: string;
  models: string;
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
}

export function k6Config(env: Env): K6Config {
  const impls = stringEnv(env, 'IMPL', 'baseline').split(',').map((s) => s.trim()).filter(Boolean);
  if (impls.includes('all')) throw new ConfigError(`IMPL=all is resolved by 'make bench' from the server's /health: run through make bench, or list them (IMPL=baseline,invalid)`);
  const protocol = protocolEnv(env);
  const v2Models = v2ModelsEnv(env);
  // Per-model v2 requests send prepared tensors: the dataset is then the images that have them.
  const tensors = protocol === 'v2' && v2Models.kind === 'models';
  return {
    protocol,
    v2Models,
    v2Version: v2VersionEnv(env),
    target: stringEnv(env, 'TARGET', 'http://127.0.0.1:8000').replace(/\/+$/, ''),
    impls,
    // Relative to the bundle in build/k6/: the synthetic dataset `make data` writes.
    manifest: tensors ? stringEnv(env, 'TENSORS_MANIFEST', '../tensors/synthetic/manifest.json') : stringEnv(env, 'DATASET_MANIFEST', '../data/synthetic/manifest.json'),
    maxImages: numberEnv(env, 'MAX_IMAGES', 0, { min: 0, integer: true }),
    boundsResolved: stringEnv(env, 'BOUNDS_RESOLVED', ''),
    resultsDir: stringEnv(env, 'RESULTS_DIR', ''),
    models: stringEnv(env, 'MODELS', ''),
    healthWait_s: durationEnv(env, 'HEALTH_WAIT', '30s'),
    setupTimeout_s: durationEnv(env, 'SETUP_TIMEOUT', '300s'),
    referenceCache: numberEnv(env, 'REFERENCE_CACHE', 64, { min: 0, integer: true }),
    datasetCacheMb: numberEnv(env, 'DATASET_CACHE_MB', 4, { min: 0 }),
  };
}

let resolved: { path: string; bounds: ResolvedBounds[] } | undefined;

/**
 * The bounds make bench resolved for this run (BOUNDS_RESOLVED, absolute path), parsed once per VU and
 * shared by the suite's thresholds and the in-run output check. Init context only (k6's open()).
 * undefined without a path.
 */
export function resolvedBounds(raw: string): ResolvedBounds[] | undefined {
  const path = raw.trim();
  if (!path) return undefined;
  if (resolved?.path !== path) resolved = { path, bounds: JSON.parse(open(path)) as ResolvedBounds[] };
  return resolved.bounds;
}

// Configuration of the accuracy tools (make reference, make accuracy). Precedence: env, then defaults.
// Same variable names as everywhere else in the project.
import { basename, resolve } from 'node:path';
import { numberEnv, stringEnv, type Env } from '../../lib/env.ts';

export interface AccuracyConfig {
  /** Folder of JPEG/PNG/WebP images; the reference is stored under its base name. */
  datasetDir: string;
  datasetName: string;
  /** First N images (sorted by file name); 0 = all. */
  maxImages: number;
  modelsDir: string;
  /** results/reference: one sub-folder per dataset. */
  referenceRoot: string;
  /** Implementation under test (make accuracy). */
  impl: string;
  /** A running server (http://host:port). Unset: make accuracy runs the implementation in-process. */
  target: string | undefined;
  /** Raw-head entries kept per image and model in the reference (top-k class logits). */
  rawTopK: number;
}

export const DEFAULT_DATASET_DIR = 'build/data/synthetic';
export const DEFAULT_REFERENCE_MAX_IMAGES = 100;

export function accuracyConfig(env: Env = process.env, defaults: { maxImages?: number } = {}): AccuracyConfig {
  const datasetDir = stringEnv(env, 'DATASET_DIR', DEFAULT_DATASET_DIR);
  const target = stringEnv(env, 'TARGET', '');
  return {
    datasetDir,
    datasetName: basename(resolve(datasetDir)),
    maxImages: numberEnv(env, 'MAX_IMAGES', defaults.maxImages ?? 0, { min: 0, integer: true }),
    modelsDir: stringEnv(env, 'MODELS_DIR', 'build/models'),
    referenceRoot: stringEnv(env, 'REFERENCE_DIR', 'results/reference'),
    impl: stringEnv(env, 'IMPL', 'baseline'),
    target: target === '' ? undefined : target.replace(/\/+$/, ''),
    rawTopK: numberEnv(env, 'RAW_TOPK', 1000, { min: 0, max: 100_000, integer: true }),
  };
}

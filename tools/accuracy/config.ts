// Configuration of the accuracy tools (make reference, make accuracy). Precedence: env, then defaults.
// Same variable names as everywhere else in the project.
import { basename, resolve } from 'node:path';
import type { Env } from '../../lib/env.ts';
import { bool, int, knob, readKnob, readKnobs, text } from '../../lib/knobs.ts';
import { ConfigError } from '../../lib/env.ts';
import { V2_KNOBS, type Protocol } from '../../lib/v2/config.ts';

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
  /** make reference: rebuild even when the stored one matches. */
  force: boolean;
  /** make accuracy: the run folder; empty: a new timestamped one. */
  runDir: string;
  /** How TARGET is asked: native, or seed (the seed API). */
  protocol: Protocol;
  /** REFERENCE_FROM: the implementation on TARGET whose answers are the reference; empty: our baseline in-process. */
  referenceFrom: string;
}

export const DEFAULT_DATASET_DIR = 'build/data/synthetic';
export const DEFAULT_REFERENCE_MAX_IMAGES = 100;

export const ACCURACY_KNOBS = {
  datasetDir: knob({ env: 'DATASET_DIR', tier: 'essential', default: DEFAULT_DATASET_DIR, ...text('folder'), doc: 'folder of JPEG/PNG/WebP images' }),
  maxImages: knob({ env: 'MAX_IMAGES', tier: 'essential', default: 0, defaultText: `all (reference: ${DEFAULT_REFERENCE_MAX_IMAGES})`, ...int(0), doc: 'first N images by file name' }),
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: 'build/models', ...text('folder'), doc: 'the models (in-process runs and fingerprints)' }),
  referenceRoot: knob({ env: 'REFERENCE_DIR', tier: 'expert', default: 'results/reference', ...text('folder'), doc: 'one reference sub-folder per dataset' }),
  impl: knob({ env: 'IMPL', tier: 'essential', default: 'baseline', ...text('an implementation name'), doc: 'make accuracy: the implementation under test' }),
  target: knob({ env: 'TARGET', tier: 'essential', default: '', defaultText: '(in-process)', ...text('http://host:port'), doc: 'make accuracy: replay over HTTP against a running server' }),
  rawTopK: knob({ env: 'RAW_TOPK', tier: 'expert', default: 1000, ...int(0, 100_000), doc: 'raw-head entries kept per image and model in the reference' }),
  force: knob({ env: 'FORCE', tier: 'expert', default: false, ...bool, doc: 'make reference: rebuild even when it matches' }),
  protocol: V2_KNOBS.protocol,
  referenceFrom: knob({
    env: 'REFERENCE_FROM', tier: 'expert', default: '', defaultText: '(our baseline, in-process)', ...text('an implementation name on TARGET'),
    doc: "record the reference from TARGET's own implementation (over PROTOCOL) instead, e.g. a seed server's baseline (docs/targets.md)",
  }),
  runDir: knob({ env: 'RUN_DIR', tier: 'expert', default: '', defaultText: 'results/<timestamp>-accuracy-<impl>', ...text('folder'), doc: 'make accuracy: where accuracy.json goes' }),
};

export function accuracyConfig(env: Env = process.env, defaults: { maxImages?: number } = {}): AccuracyConfig {
  const k = readKnobs(ACCURACY_KNOBS, env);
  if (k.referenceFrom && !k.target) throw new ConfigError(`REFERENCE_FROM=${k.referenceFrom} records the reference from a running target: set TARGET (and PROTOCOL=seed for a server of the seed API)`);
  return {
    datasetDir: k.datasetDir,
    datasetName: basename(resolve(k.datasetDir)),
    maxImages: readKnob(ACCURACY_KNOBS.maxImages, env, {}, defaults.maxImages ?? 0),
    modelsDir: k.modelsDir,
    referenceRoot: k.referenceRoot,
    impl: k.impl,
    target: k.target === '' ? undefined : k.target.replace(/\/+$/, ''),
    rawTopK: k.rawTopK,
    force: k.force,
    runDir: k.runDir,
    protocol: k.protocol,
    referenceFrom: k.referenceFrom,
  };
}

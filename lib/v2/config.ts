// The Open Inference Protocol knobs, pure TS for both runtimes (k6 client and bench orchestrator):
// PROTOCOL=native|v2|seed|torchserve and, with v2, V2_MODELS = pipeline (image bytes to the pipeline model) or a
// list of d0,d1,d2 (each image's prepared tensors to efficientdet-dN, one request per model), and
// V2_VERSION. Declared once here (lib/knobs.ts) and spread into the k6 and bench registries.
import type { Env } from '../env.ts';
import { INVALID, knob, oneOf, readKnob, text, type Parser } from '../knobs.ts';
import { MODEL_NAMES, type ModelName } from '../types.ts';

const PROTOCOLS = ['native', 'v2', 'seed', 'torchserve'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export type V2Models = { kind: 'pipeline' } | { kind: 'models'; models: ModelName[] };

const v2ModelsParser: Parser<V2Models> = {
  allowed: `pipeline or a comma list of ${MODEL_NAMES.join(', ')}`,
  parse: (raw) => {
    const v = raw.trim();
    if (v === 'pipeline') return { kind: 'pipeline' };
    const asked = v.split(',').map((s) => s.trim());
    if (asked.some((m) => !(MODEL_NAMES as readonly string[]).includes(m))) return INVALID;
    return { kind: 'models', models: MODEL_NAMES.filter((m) => asked.includes(m)) };
  },
};

const versionParser: Parser<string> = {
  allowed: "a model version such as 1 (letters, digits, '.', '-', '_')",
  parse: (raw) => (/^[\w.-]+$/.test(raw.trim()) ? raw.trim() : INVALID),
};

export const V2_KNOBS = {
  protocol: knob<Protocol>({ env: 'PROTOCOL', tier: 'essential', default: 'native', ...oneOf(PROTOCOLS), doc: 'native: POST /infer/:impl; v2: the Open Inference Protocol (any v2 server); seed: the seed API (multipart "file", its /health; docs/targets.md); torchserve: TorchServe\'s POST /predictions/efficientdet-dN with the V2_MODELS tensors (docs/peers.md)' }),
  v2Models: knob<V2Models>({ env: 'V2_MODELS', tier: 'expert', default: { kind: 'pipeline' }, defaultText: 'pipeline', ...v2ModelsParser, doc: 'with v2: image bytes to the pipeline model, or prepared tensors to each efficientdet-dN (torchserve: a list)' }),
  v2Version: knob({ env: 'V2_VERSION', tier: 'expert', default: '', defaultText: '(IMPL)', ...versionParser, doc: 'the model version v2 requests ask for when IMPL is a label (Triton: 1)' }),
  tensorsManifest: knob({ env: 'TENSORS_MANIFEST', tier: 'internal', default: '../tensors/synthetic/manifest.json', ...text('a manifest.json path'), doc: "with V2_MODELS=d0,...: the prepared tensors' manifest, relative to the bundle (make bench sets it)" }),
};

export function protocolEnv(env: Env): Protocol {
  return readKnob(V2_KNOBS.protocol, env);
}

export function v2ModelsEnv(env: Env): V2Models {
  return readKnob(V2_KNOBS.v2Models, env);
}

/**
 * V2_VERSION: the model version every request asks for, when it is not the IMPL label (Triton's
 * versions are integers: `1`, while IMPL names the row, e.g. triton-instances). Empty: IMPL.
 */
export function v2VersionEnv(env: Env): string {
  return readKnob(V2_KNOBS.v2Version, env);
}

/** v2 model names on the target: efficientdet-d0/-d1/-d2 and pipeline (Triton-style model repository names). */
export const v2ModelName = (model: ModelName | 'pipeline') => (model === 'pipeline' ? 'pipeline' : `efficientdet-${model}`);

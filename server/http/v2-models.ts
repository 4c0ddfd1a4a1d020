// What the Open Inference Protocol side serves: the model names, how a version names an
// implementation, each model's metadata and Triton model configuration, and the output tensors made
// from an implementation's InferOutcome.
//
// Models: efficientdet-d0/-d1/-d2 take the letterboxed, normalised FP32 `images` [N,3,S,S] and give
// the ONNX contract's detection tensors (raw heads when named in `outputs`); `pipeline` takes encoded
// images as BYTES [N] and gives every model's detections in original-image pixels (the work of
// POST /infer/:impl). Versions: the implementation, by number (registry order, 1 = baseline; numeric
// because perf_analyzer parses versions as integers) or by name; no version = the default one.
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import { implementationNames } from '../implementations/registry.ts';
import type { InferOutcome } from '../runtime/infer-types.ts';
import { DETECTION_OUTPUTS, INPUT_NAME, OUTPUT, outputSizes } from '../runtime/model-info.ts';
import type { ModelInfo } from '../runtime/protocol.ts';
import { HttpError } from './errors.ts';
import type { V2Output } from './v2-tensors.ts';

const PIPELINE_MODEL = 'pipeline';
export const PIPELINE_INPUT = 'image';
const DETECTION_MODEL_PREFIX = 'efficientdet-';
export const RAW_OUTPUTS = [OUTPUT.classLogits, OUTPUT.boxRegression] as const;

export type V2Model = { kind: 'detector'; name: string; model: ModelName } | { kind: 'pipeline'; name: string };

/** Every model name the v2 side serves. */
export function v2ModelNames(): string[] {
  return [...MODEL_NAMES.map((m) => `${DETECTION_MODEL_PREFIX}${m}`), PIPELINE_MODEL];
}

export function v2Model(name: string): V2Model {
  if (name === PIPELINE_MODEL) return { kind: 'pipeline', name };
  const m = name.startsWith(DETECTION_MODEL_PREFIX) ? name.slice(DETECTION_MODEL_PREFIX.length) : '';
  if ((MODEL_NAMES as readonly string[]).includes(m)) return { kind: 'detector', name, model: m as ModelName };
  throw new HttpError(404, 'unknown_model', `unknown model '${name}'; this server serves ${v2ModelNames().join(', ')}`);
}

/** The version number of an implementation: its 1-based place in the registry. */
export function versionOf(impl: string): string {
  return String(implementationNames().indexOf(impl) + 1);
}

/** The default version: baseline when served, else the first implementation served. */
export function defaultImplementation(served: readonly string[]): string {
  return served.includes('baseline') ? 'baseline' : (served[0] ?? 'baseline');
}

/** A version path segment (number or implementation name; absent = default) -> implementation name. */
export function implementationOf(version: string | undefined, served: readonly string[]): string {
  if (version === undefined || version === '') return defaultImplementation(served);
  if (/^\d+$/.test(version)) {
    const name = implementationNames()[Number(version) - 1];
    if (name) return name;
    throw new HttpError(404, 'unknown_implementation', `unknown version '${version}'; versions are ${implementationNames().map((n) => `${versionOf(n)} (${n})`).join(', ')}`);
  }
  return version;
}

interface TensorSpec {
  name: string;
  datatype: 'FP32' | 'BYTES';
  /** Without the batch dimension (Triton's `dims`). */
  dims: number[];
}

function infoOf(models: readonly ModelInfo[], model: ModelName): ModelInfo {
  const info = models.find((m) => m.name === model);
  if (!info) throw new HttpError(503, 'not_ready', 'models are still loading; retry shortly', { 'Retry-After': '2' });
  return info;
}

function detectionSpecs(info: ModelInfo, prefix = ''): TensorSpec[] {
  const { maxDetections } = outputSizes(info);
  return [
    { name: `${prefix}${OUTPUT.boxes}`, datatype: 'FP32', dims: [maxDetections, 4] },
    { name: `${prefix}${OUTPUT.scores}`, datatype: 'FP32', dims: [maxDetections] },
    { name: `${prefix}${OUTPUT.classes}`, datatype: 'FP32', dims: [maxDetections] },
    { name: `${prefix}${OUTPUT.count}`, datatype: 'FP32', dims: [] },
  ];
}

/**
 * Inputs and the outputs listed in metadata. The raw heads are NOT listed (they are served when
 * named): generic clients such as perf_analyzer request every listed output, and the heads are
 * 18-40 MB per image.
 */
function tensorSpecs(model: V2Model, models: readonly ModelInfo[]): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  if (model.kind === 'pipeline') {
    return {
      inputs: [{ name: PIPELINE_INPUT, datatype: 'BYTES', dims: [] }],
      outputs: MODEL_NAMES.flatMap((m) => detectionSpecs(infoOf(models, m), `${m}/`)),
    };
  }
  const info = infoOf(models, model.model);
  return { inputs: [{ name: INPUT_NAME, datatype: 'FP32', dims: [3, info.inputSize, info.inputSize] }], outputs: detectionSpecs(info) };
}

export function modelMetadata(model: V2Model, models: readonly ModelInfo[], served: readonly string[]) {
  const { inputs, outputs } = tensorSpecs(model, models);
  const shape = (t: TensorSpec) => [-1, ...t.dims];
  return {
    name: model.name,
    versions: served.map(versionOf),
    platform: model.kind === 'pipeline' ? 'ensemble' : 'onnxruntime_onnx',
    inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: shape(t) })),
    outputs: outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: shape(t) })),
  };
}

/**
 * Triton's model configuration (GET /v2/models/{m}/config), the parts its tools read. The pipeline
 * is described as a plain model, not an ensemble: its steps are not separate models here.
 */
export function modelConfig(model: V2Model, models: readonly ModelInfo[], maxBatch: number) {
  const { inputs, outputs } = tensorSpecs(model, models);
  const tensor = (t: TensorSpec) => ({ name: t.name, data_type: `TYPE_${t.datatype === 'BYTES' ? 'STRING' : t.datatype}`, dims: t.dims.length > 0 ? t.dims : [1] });
  return {
    name: model.name,
    platform: model.kind === 'pipeline' ? '' : 'onnxruntime_onnx',
    backend: model.kind === 'pipeline' ? 'multidet-pipeline' : 'onnxruntime',
    max_batch_size: maxBatch,
    input: inputs.map(tensor),
    output: outputs.map(tensor),
    version_policy: { latest: { num_versions: 1 } },
  };
}

/** The detection tensors of one model for a batch, rows after num_detections zero (as the graph pads). */
export function detectionOutputs(outcome: InferOutcome, model: ModelName, info: ModelInfo, prefix = ''): V2Output[] {
  const { maxDetections: M } = outputSizes(info);
  const n = outcome.images.length;
  const boxes = new Float32Array(n * M * 4);
  const scores = new Float32Array(n * M);
  const classes = new Float32Array(n * M);
  const count = new Float32Array(n);
  outcome.images.forEach((img, i) => {
    const det = img.models[model];
    if (!det) return;
    const k = Math.min(M, det.num_detections);
    count[i] = k;
    for (let j = 0; j < k; j++) {
      boxes.set(det.boxes[j]!, (i * M + j) * 4);
      scores[i * M + j] = det.scores[j]!;
      classes[i * M + j] = det.labels[j]!;
    }
  });
  return [
    { name: `${prefix}${OUTPUT.boxes}`, datatype: 'FP32', shape: [n, M, 4], data: boxes },
    { name: `${prefix}${OUTPUT.scores}`, datatype: 'FP32', shape: [n, M], data: scores },
    { name: `${prefix}${OUTPUT.classes}`, datatype: 'FP32', shape: [n, M], data: classes },
    { name: `${prefix}${OUTPUT.count}`, datatype: 'FP32', shape: [n], data: count },
  ];
}

/** The raw heads of one model for a batch, [N,A,C] and [N,A,4]. */
export function rawOutputs(outcome: InferOutcome, model: ModelName, info: ModelInfo): V2Output[] {
  const { anchors, classes } = outputSizes(info);
  const n = outcome.images.length;
  const logits = new Float32Array(n * anchors * classes);
  const regression = new Float32Array(n * anchors * 4);
  outcome.images.forEach((img, i) => {
    const raw = img.models[model]?.raw;
    if (!raw) return;
    logits.set(raw.class_logits, i * anchors * classes);
    regression.set(raw.box_regression, i * anchors * 4);
  });
  return [
    { name: OUTPUT.classLogits, datatype: 'FP32', shape: [n, anchors, classes], data: logits },
    { name: OUTPUT.boxRegression, datatype: 'FP32', shape: [n, anchors, 4], data: regression },
  ];
}

export const DETECTION_OUTPUT_NAMES: readonly string[] = DETECTION_OUTPUTS;

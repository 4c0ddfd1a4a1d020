// The I/O contract of the detector ONNX files and the names of their metadata keys.
// Pure TypeScript at the bottom layer: the generator, the quantizer, the server and the accuracy tools
// read it. The server imports this instead of hard-coding sizes; any ONNX file with these inputs,
// outputs and metadata keys can be dropped into MODELS_DIR.

import { EFFICIENTDET_ANCHORS, type AnchorConfig } from './detection/anchors.ts';

/** Bump when the generated graph or weights change: `make models` regenerates on a change. */
export const GENERATOR_VERSION = '1.2.0';
/** Default weight seed (SEED env overrides it). */
export const DEFAULT_SEED = 20200614;

/** Names of the detectors, in the order the baseline runs them (also the wire's model names). */
export const MODEL_NAMES = ['d0', 'd1', 'd2'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The one ONNX file-name pattern: efficientdet-<name>.onnx in MODELS_DIR. */
export const MODEL_FILE = (name: string) => `efficientdet-${name}.onnx`;
/** The int8 QDQ variant next to each float file (`make models-int8`). */
export const INT8_MODEL_FILE = (name: string) => MODEL_FILE(`${name}-int8`);
/** D0, D1 and D2 in one graph: inputs `d0/images`..., outputs `d0/detection_boxes`..., metadata `d0/input_size`... */
export const STACKED_FILE = MODEL_FILE('stacked');
/** Name of a tensor or metadata key of one model inside the stacked file. */
export const stackedName = (model: string, name: string) => `${model}/${name}`;

/** Input: float32 [N, 3, S, S], RGB, (pixel / 255 - mean) / std. N is dynamic ("N"). */
export const INPUT_NAME = 'images';

/**
 * Outputs (N = batch, A = anchors, K = MAX_DETECTIONS):
 * - class_logits      float32 [N, A, 90]  raw class head (pre-sigmoid)
 * - box_regression    float32 [N, A, 4]   raw box head (ty, tx, th, tw per anchor)
 * - detection_boxes   float32 [N, K, 4]   x1, y1, x2, y2 in input pixels, clipped to [0, S]
 * - detection_scores  float32 [N, K]      sigmoid scores, descending; 0 in padded rows
 * - detection_classes float32 [N, K]      1-based class ids (integers stored as float32); 0 in padded rows
 * - num_detections    float32 [N]         valid rows per image (integer stored as float32)
 */
export const OUTPUT_NAMES = {
  classLogits: 'class_logits',
  boxRegression: 'box_regression',
  boxes: 'detection_boxes',
  scores: 'detection_scores',
  classes: 'detection_classes',
  numDetections: 'num_detections',
} as const;

export const NUM_CLASSES = 90;
export const MAX_DETECTIONS = 100;
export const PRE_NMS_TOPK = 5000;
export const IOU_THRESHOLD = 0.5;
/**
 * NMS score threshold. The seeded (untrained) weights give logits of -4.6 (class prior) with a
 * spread of ~0.5-0.8, so 0.1 leaves a few dozen to 100 detections per image (D0: 22-100 on the
 * synthetic dataset, D1/D2: 100); a trained model would use ~0.2-0.4.
 */
export const SCORE_THRESHOLD = 0.1;

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Extra metadata keys of the int8 files (the float keys are all there too). */
export const INT8_META = {
  quantization: 'quantization',
  quantizationVersion: 'quantization_version',
  calibrationDataset: 'calibration_dataset',
  calibrationImages: 'calibration_images',
} as const;

/** metadata_props keys; all values are strings (lists comma-separated). */
export const META_KEYS = {
  modelName: 'model_name',
  inputSize: 'input_size',
  inputLayout: 'input_layout',
  colorOrder: 'color_order',
  pixelScale: 'pixel_scale',
  mean: 'mean',
  std: 'std',
  numClasses: 'num_classes',
  classIdOffset: 'class_id_offset',
  numAnchors: 'num_anchors',
  anchorMinLevel: 'anchor_min_level',
  anchorMaxLevel: 'anchor_max_level',
  anchorNumScales: 'anchor_num_scales',
  anchorAspectRatios: 'anchor_aspect_ratios',
  anchorScale: 'anchor_scale',
  boxRegressionOrder: 'box_regression_order',
  boxFormat: 'box_format',
  preNmsTopK: 'pre_nms_topk',
  iouThreshold: 'iou_threshold',
  scoreThreshold: 'score_threshold',
  maxDetections: 'max_detections',
  seed: 'seed',
  generatorVersion: 'generator_version',
  weights: 'weights',
} as const;

/** Typed view of the metadata the server needs. */
interface ModelMetadata {
  modelName: string;
  inputSize: number;
  /** Normalisation: (pixel / pixelScale - mean[c]) / std[c], channels in RGB order. */
  pixelScale: number;
  mean: number[];
  std: number[];
  numClasses: number;
  numAnchors: number;
  anchors: AnchorConfig;
  preNmsTopK: number;
  iouThreshold: number;
  scoreThreshold: number;
  maxDetections: number;
  seed?: number;
  generatorVersion?: string;
}

const nums = (s: string) => s.split(',').map(Number);

/** Parses metadata_props; throws one line naming the missing or bad key. */
export function parseMetadata(props: Record<string, string>, source = 'model'): ModelMetadata {
  const get = (k: string) => {
    const v = props[k];
    if (v === undefined) throw new Error(`${source}: metadata key '${k}' missing (regenerate with 'make models' or add it to the ONNX metadata_props)`);
    return v;
  };
  const num = (k: string) => {
    const v = Number(get(k));
    if (!Number.isFinite(v)) throw new Error(`${source}: metadata key '${k}' is not a number: '${props[k]}'`);
    return v;
  };
  const K = META_KEYS;
  return {
    modelName: get(K.modelName),
    inputSize: num(K.inputSize),
    pixelScale: num(K.pixelScale),
    mean: nums(get(K.mean)),
    std: nums(get(K.std)),
    numClasses: num(K.numClasses),
    numAnchors: num(K.numAnchors),
    anchors: {
      minLevel: num(K.anchorMinLevel),
      maxLevel: num(K.anchorMaxLevel),
      numScales: num(K.anchorNumScales),
      aspectRatios: nums(get(K.anchorAspectRatios)),
      anchorScale: num(K.anchorScale),
    },
    preNmsTopK: num(K.preNmsTopK),
    iouThreshold: num(K.iouThreshold),
    scoreThreshold: num(K.scoreThreshold),
    maxDetections: num(K.maxDetections),
    seed: props[K.seed] === undefined ? undefined : Number(props[K.seed]),
    generatorVersion: props[K.generatorVersion],
  };
}

export const DEFAULT_ANCHORS = EFFICIENTDET_ANCHORS;

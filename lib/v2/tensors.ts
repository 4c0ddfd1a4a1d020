// The prepared per-model input tensors (`make data`, tools/data/tensors.ts): for the first
// TENSOR_IMAGES images of a dataset, each model's letterboxed, normalised FP32 input [3,S,S] as a raw
// little-endian file, made by the server's own letterbox code. The manifest is a dataset manifest of
// those images (so k6 can load it as its dataset) plus, per image and model, the tensor file and
// where the image landed in it (to map returned boxes back to original-image pixels).
import type { DatasetImage, DatasetManifest } from '../dataset.ts';
import type { ModelName } from '../types.ts';

interface PreparedTensor {
  /** Path relative to the manifest's folder. */
  file: string;
  /** [3, S, S]. */
  shape: number[];
  bytes: number;
  /** Original -> model-input pixels (letterbox scale per axis). */
  scale_x: number;
  scale_y: number;
}

export interface TensorImage extends DatasetImage {
  width: number;
  height: number;
  tensors: Partial<Record<ModelName, PreparedTensor>>;
}

export interface TensorManifest extends DatasetManifest {
  images: TensorImage[];
  /** What the tensors were made from, to know when they are stale. */
  source: { dataset: string; models: Record<string, { input_size: number; file_bytes: number }>; version: number; preprocess?: number };
}

export const TENSORS_VERSION = 1;
export const DEFAULT_TENSOR_IMAGES = 8;

/** Model-input box -> original-image pixels, clipped: the server's unletterbox for the native API. */
export function toOriginalBox(box: readonly number[], t: Pick<PreparedTensor, 'scale_x' | 'scale_y'>, width: number, height: number): [number, number, number, number] {
  const clip = (v: number, max: number) => (v < 0 ? 0 : v > max ? max : v);
  return [clip(box[0]! / t.scale_x, width), clip(box[1]! / t.scale_y, height), clip(box[2]! / t.scale_x, width), clip(box[3]! / t.scale_y, height)];
}

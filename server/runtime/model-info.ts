// Finds the model files and reads what the server must know about each from its ONNX metadata_props
// (input size, normalisation), so nothing about the models is hard-coded here: any ONNX file with the
// same inputs and outputs can be dropped into MODELS_DIR.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import protobuf from 'protobufjs';
import onnxProto from 'onnx-proto';
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import type { ModelInfo } from './protocol.ts';
import type { Normalisation } from './letterbox.ts';
import { anchorCount } from '../../lib/detection/anchors.ts';
import { INPUT_NAME as CONTRACT_INPUT, MODEL_FILE, OUTPUT_NAMES, parseMetadata } from '../../lib/model-contract.ts';

export const INPUT_NAME = CONTRACT_INPUT;
export const OUTPUT = {
  classLogits: OUTPUT_NAMES.classLogits,
  boxRegression: OUTPUT_NAMES.boxRegression,
  boxes: OUTPUT_NAMES.boxes,
  scores: OUTPUT_NAMES.scores,
  classes: OUTPUT_NAMES.classes,
  count: OUTPUT_NAMES.numDetections,
} as const;
/** The outputs every request fetches; the raw heads are fetched only when asked for. */
export const DETECTION_OUTPUTS = [OUTPUT.boxes, OUTPUT.scores, OUTPUT.classes, OUTPUT.count] as const;

class ModelFileError extends Error {
  override name = 'ModelFileError';
}

function modelFile(modelsDir: string, name: ModelName): string {
  return path.join(modelsDir, MODEL_FILE(name));
}

/** ModelProto field 14 = metadata_props. Scans the top level only, skipping the (large) graph. */
export function readMetadataProps(bytes: Uint8Array): Record<string, string> {
  const reader = protobuf.Reader.create(bytes);
  const props: Record<string, string> = {};
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 14 && (tag & 7) === 2) {
      const entry = onnxProto.onnx.StringStringEntryProto.decode(reader.bytes());
      props[entry.key] = entry.value;
    } else {
      reader.skipType(tag & 7);
    }
  }
  return props;
}

/** Reads one model's metadata. Throws ModelFileError naming the file and the fix. */
async function readModelInfo(modelsDir: string, name: ModelName): Promise<ModelInfo> {
  const file = modelFile(modelsDir, name);
  try {
    await stat(file);
  } catch {
    throw new ModelFileError(`model file ${file} not found: run \`make models\` or set MODELS_DIR to a folder holding it`);
  }
  const metadata = readMetadataProps(await readFile(file));
  let meta;
  try {
    meta = parseMetadata(metadata, file);
  } catch (err) {
    throw new ModelFileError(err instanceof Error ? err.message : String(err));
  }
  const badTriple = (v: number[]) => v.length !== 3 || !v.every(Number.isFinite);
  if (!Number.isInteger(meta.inputSize) || meta.inputSize <= 0 || badTriple(meta.mean) || badTriple(meta.std) || !(meta.pixelScale > 0)) {
    throw new ModelFileError(`${file}: metadata input_size/pixel_scale/mean/std are not usable (${JSON.stringify([meta.inputSize, meta.pixelScale, meta.mean, meta.std])})`);
  }
  const norm: Normalisation = { pixelScale: meta.pixelScale, mean: meta.mean, std: meta.std };
  return { name, file, inputSize: meta.inputSize, norm, metadata };
}

/** Reads all three models (or a subset), in MODEL_NAMES order. */
export async function readModelInfos(modelsDir: string, names: readonly ModelName[] = MODEL_NAMES): Promise<ModelInfo[]> {
  return Promise.all(names.map((n) => readModelInfo(modelsDir, n)));
}

/** Output sizes of a model, from its metadata: detections kept per image, anchors and classes of the raw heads. */
export function outputSizes(info: ModelInfo): { maxDetections: number; anchors: number; classes: number } {
  const meta = parseMetadata(info.metadata, info.file);
  return { maxDetections: meta.maxDetections, anchors: anchorCount(info.inputSize, meta.anchors), classes: meta.numClasses };
}

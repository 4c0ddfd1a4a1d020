// The reference's detections file (results/reference/<dataset>/detections.json): what the baseline
// answered for each image, per model. Read by the Node accuracy tools and open()ed by k6 scripts for
// the in-run checks, so it is plain JSON of plain numbers (JSON keeps every float64 exactly).
import type { ModelName } from '../types.ts';
import type { Detections } from './match.ts';

export const REFERENCE_FORMAT_VERSION = 1;
export const DETECTIONS_FILE = 'detections.json';

interface ReferenceModelDetections extends Detections {
  boxes: [number, number, number, number][];
  scores: number[];
  labels: number[];
  num_detections: number;
}

export interface ReferenceImage {
  /** The image's file name in the dataset; clients send it as X-Image-Id. */
  id: string;
  width: number;
  height: number;
  models: Partial<Record<ModelName, ReferenceModelDetections>>;
}

export interface ReferenceDetectionsFile {
  version: number;
  dataset: string;
  implementation: string;
  models: ModelName[];
  images: ReferenceImage[];
}

/** Narrows parsed JSON to the reference shape, failing with a line that says what is wrong. */
export function parseReferenceDetections(json: unknown, source: string): ReferenceDetectionsFile {
  const f = json as Partial<ReferenceDetectionsFile> | null;
  if (!f || typeof f !== 'object' || !Array.isArray(f.images) || !Array.isArray(f.models)) {
    throw new Error(`${source} is not a reference detections file (no images/models arrays): run 'make reference'`);
  }
  if (f.version !== REFERENCE_FORMAT_VERSION) {
    throw new Error(`${source} has format version ${f.version}, expected ${REFERENCE_FORMAT_VERSION}: run 'make reference'`);
  }
  return f as ReferenceDetectionsFile;
}

// Runs an implementation in-process (no HTTP) through the server's registry: how the reference is
// made from the baseline, and how `make accuracy` replays without a TARGET.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createImplementation, decodeImage, type ImageDetections } from '../../server/index.ts';
import { MODEL_NAMES } from '../../lib/types.ts';

export interface InProcessRunner {
  name: string;
  lossless: boolean;
  ep: string;
  /** One image, every model; raw heads when asked and the implementation can. */
  infer(datasetDir: string, file: string, id: string, rawHeads: boolean): Promise<{ width: number; height: number; result: ImageDetections }>;
  close(): Promise<void>;
}

/** Decoding refuses larger images anyway; the dataset images are far below this. */
const MAX_PIXELS = 40_000_000;

export async function startInProcess(impl: string, modelsDir: string): Promise<InProcessRunner> {
  // warn: keep the server's per-request log lines out of the tool's progress output.
  const implementation = await createImplementation(impl, { modelsDir, logLevel: 'warn' });
  return {
    name: implementation.name,
    lossless: implementation.lossless,
    ep: implementation.ep,
    async infer(datasetDir, file, id, rawHeads) {
      const image = await decodeImage(readFileSync(join(datasetDir, file)), { maxPixels: MAX_PIXELS, id });
      const out = await implementation.infer([image], { models: [...MODEL_NAMES], rawHeads });
      return { width: image.width, height: image.height, result: out.images[0]! };
    },
    close: () => implementation.close(),
  };
}

// Lossy: concurrent's design (every model of every request a job on PARALLEL_WORKERS single-threaded
// workers, no global lock) on the int8 QDQ variants efficientdet-d*-int8.onnx (tools/models/quantize.ts,
// `make models-int8`). So int8 vs concurrent is the effect of quantization alone, and int8 vs
// baseline the two together. Its answers differ from the float reference by the amount it declares in
// lib/bounds.defaults.json (accuracy.impls.int8).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { INT8_META, INT8_MODEL_FILE } from '../../lib/model-contract.ts';
import { readMetadataProps } from '../runtime/model-info.ts';
import type { ModelInfo } from '../runtime/protocol.ts';
import { scheduledImplementation } from './scheduled.ts';
import type { ImplementationFactory } from './types.ts';

/** The int8 file next to each float model; same input size and normalisation (checked). */
async function int8Infos(models: readonly ModelInfo[]): Promise<ModelInfo[]> {
  return Promise.all(models.map(async (m) => {
    const file = path.join(path.dirname(m.file), INT8_MODEL_FILE(m.name));
    try {
      await stat(file);
    } catch {
      throw new Error(`int8: model file ${file} not found: run \`make models-int8\` (or INT8=1 node --import tsx tools/models/generate.ts)`);
    }
    const metadata = readMetadataProps(await readFile(file));
    if (!metadata[INT8_META.quantization]) throw new Error(`int8: ${file} has no '${INT8_META.quantization}' metadata: regenerate it with \`make models-int8\``);
    if (Number(metadata.input_size) !== m.inputSize) throw new Error(`int8: ${file} input_size ${metadata.input_size} differs from the float model's ${m.inputSize}: regenerate with \`make models-int8\``);
    return { ...m, file, metadata };
  }));
}

export const createInt8: ImplementationFactory = (context) =>
  scheduledImplementation(context, {
    name: 'int8',
    description:
      `Lossy: like concurrent (each model of each request a job on ${context.config.parallelWorkers} worker(s), no global lock) ` +
      'on int8 QDQ models (per-channel int8 weights, uint8 activations calibrated on the synthetic dataset); bounded by accuracy.impls.int8.',
    lossless: false,
    maxBatch: 1,
    maxDelayUs: 0,
    async models() {
      try {
        return await int8Infos(context.models);
      } catch (err) {
        // Asked for by name: refuse to start. Served as one of 'all': the others keep working.
        if (context.config.impls !== 'all') throw err;
        const unavailable = err instanceof Error ? err.message : String(err);
        context.log(`${unavailable} (serving the other implementations)`);
        return { unavailable };
      }
    },
  });

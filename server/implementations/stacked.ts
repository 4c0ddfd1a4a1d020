// Model stacking (the seed project's idea): D0, D1 and D2 in ONE ONNX graph (efficientdet-stacked.onnx,
// written by `make models`: inputs d0/images, d1/images, d2/images, outputs d0/detection_boxes ...),
// one session and one session.run per request. One intra-op thread pool instead of three used one
// after another. Same workers and threads as the baseline (WORKERS, THREADS), so the graph is the
// only difference. A ?models subset still runs the whole graph (onnxruntime needs every input and
// does not prune by fetches); the others get a zero input and their outputs are not fetched.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_NAMES } from '../../lib/types.ts';
import { STACKED_FILE, INPUT_NAME, parseMetadata, stackedName } from '../../lib/model-contract.ts';
import { sessionSettings, startWorkerPool, StartupError } from '../runtime/context.ts';
import { readMetadataProps } from '../runtime/model-info.ts';
import { outcomeFromRuns } from '../runtime/run-results.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import { QueuePolicy, queueSettings } from '../runtime/queue-policy.ts';
import type { ModelInfo } from '../runtime/protocol.ts';
import type { ImplementationFactory } from './types.ts';

/** One ModelInfo per model, all pointing at the stacked file, read from its prefixed metadata. */
async function readStackedInfos(modelsDir: string): Promise<ModelInfo[]> {
  const file = path.join(modelsDir, STACKED_FILE);
  try {
    await stat(file);
  } catch {
    throw new StartupError(`stacked: model file ${file} not found: run \`make models\` (STACKED=1, the default) or set MODELS_DIR`);
  }
  const props = readMetadataProps(await readFile(file));
  return MODEL_NAMES.map((name) => {
    const prefix = stackedName(name, '');
    const metadata = Object.fromEntries(Object.entries(props).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    const meta = parseMetadata(metadata, `${file} (${name})`);
    return {
      name,
      file,
      inputSize: meta.inputSize,
      norm: { pixelScale: meta.pixelScale, mean: meta.mean, std: meta.std },
      metadata,
      inputName: stackedName(name, INPUT_NAME),
      outputPrefix: prefix,
    };
  });
}

export const createStacked: ImplementationFactory = (context) => {
  const { config } = context;
  let pool: WorkerPool | undefined;
  // WORKERS requests execute at a time, one per worker.
  const policy = new QueuePolicy('stacked', queueSettings(config, config.workers));
  return {
    name: 'stacked',
    description: 'D0, D1 and D2 stacked in one ONNX graph: one session, one session.run per request (workers and threads as baseline).',
    lossless: true,
    async load() {
      pool = await startWorkerPool(config, {
        size: config.workers,
        models: await readStackedInfos(config.modelsDir),
        session: sessionSettings(config),
        log: context.log,
      });
    },
    async infer(images, options) {
      if (!pool) throw new Error('stacked: infer() before load()');
      const { runs, spans } = await pool.run(images, options.models, options.rawHeads ?? false, policy);
      return outcomeFromRuns(images.length, runs, spans.map((s) => ({ ...s, models: options.models })));
    },
    queueSettings: policy.settings,
    refuseIfFull: () => policy.refuseIfFull(),
    pendingRequests() {
      return policy.queued;
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
  };
};

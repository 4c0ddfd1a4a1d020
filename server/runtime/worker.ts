// Inference worker: owns one onnxruntime session per model. session.run() blocks the thread it runs on,
// so it runs here, never on the HTTP thread. Letterbox + normalise happen here too.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import { letterboxBatch, unletterboxBox } from './preprocess.ts';
import type { EpInUse, FromWorker, ImagePayload, ModelInfo, ModelRun, SessionSettings, ToWorker } from './protocol.ts';
import { DETECTION_OUTPUTS, INPUT_NAME, OUTPUT } from './model-info.ts';

interface Loaded {
  info: ModelInfo;
  session: ort.InferenceSession;
}

const port = parentPort;
if (!port) throw new Error('server/runtime/worker.ts must run as a worker thread');

const sessions = new Map<ModelName, Loaded>();

function sessionOptions(settings: SessionSettings, ep: EpInUse): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: settings.graphOpt,
    executionMode: 'sequential',
    // One inter-op thread: parallel execution mode is slower on small CPUs, and workers already give parallelism.
    interOpNumThreads: 1,
    logSeverityLevel: settings.ortLogLevel === 'fatal' ? 4 : settings.ortLogLevel === 'error' ? 3 : 2,
    ...(settings.intraOpThreads > 0 ? { intraOpNumThreads: settings.intraOpThreads } : {}),
  };
}

async function openAll(models: ModelInfo[], settings: SessionSettings): Promise<{ ep: EpInUse; notes: string[] }> {
  const notes: string[] = [];
  ort.env.logLevel = settings.ortLogLevel;
  for (let i = 0; i < settings.providers.length; i++) {
    const ep = settings.providers[i]!;
    try {
      for (const info of models) {
        const session = await ort.InferenceSession.create(info.file, sessionOptions(settings, ep));
        sessions.set(info.name, { info, session });
      }
      return { ep, notes };
    } catch (err) {
      for (const s of sessions.values()) await s.session.release().catch(() => {});
      sessions.clear();
      const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      if (i === settings.providers.length - 1) throw new Error(`${ep} execution provider failed to load: ${msg}`);
      notes.push(`${ep} execution provider failed to load (${msg}); falling back to ${settings.providers[i + 1]}`);
    }
  }
  throw new Error('no execution provider given');
}

async function warmup(): Promise<void> {
  for (const { info, session } of sessions.values()) {
    const s = info.inputSize;
    const input = new ort.Tensor('float32', new Float32Array(3 * s * s), [1, 3, s, s]);
    await session.run({ [INPUT_NAME]: input }, [...DETECTION_OUTPUTS]);
  }
}

/** Reads a numeric tensor (float, int32 or int64) as numbers. */
function numberAt(t: ort.Tensor, i: number): number {
  return Number((t.data as ArrayLike<number | bigint>)[i]);
}

async function runModel(loaded: Loaded, images: ImagePayload[], rawHeads: boolean): Promise<ModelRun> {
  const { info, session } = loaded;
  const s = info.inputSize;
  const t0 = performance.now();
  const { data, boxes: placements } = await letterboxBatch(images, s, info.norm);
  const t1 = performance.now();
  const fetches: string[] = [...DETECTION_OUTPUTS];
  if (rawHeads) fetches.push(OUTPUT.classLogits, OUTPUT.boxRegression);
  const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, [images.length, 3, s, s]) }, fetches);
  const t2 = performance.now();
  const boxes = out[OUTPUT.boxes]!;
  const scores = out[OUTPUT.scores]!;
  const classes = out[OUTPUT.classes]!;
  const counts = out[OUTPUT.count]!;
  const maxDet = scores.dims[1]!;
  const inferMs = t2 - t1;
  const detections: ModelDetections[] = images.map((img, i) => {
    const n = Math.min(maxDet, Math.max(0, Math.round(numberAt(counts, i))));
    const det: ModelDetections = { boxes: [], scores: [], labels: [], num_detections: n, inference_ms: inferMs };
    const b = boxes.data as Float32Array;
    for (let k = 0; k < n; k++) {
      const j = i * maxDet + k;
      det.boxes.push(unletterboxBox(b[4 * j]!, b[4 * j + 1]!, b[4 * j + 2]!, b[4 * j + 3]!, placements[i]!, img.width, img.height));
      det.scores.push(numberAt(scores, j));
      det.labels.push(Math.round(numberAt(classes, j)));
    }
    return det;
  });
  const run: ModelRun = { name: info.name, preprocess_ms: t1 - t0, infer_ms: inferMs, detections };
  if (rawHeads) {
    const logits = out[OUTPUT.classLogits]!.data as Float32Array;
    const regression = out[OUTPUT.boxRegression]!.data as Float32Array;
    const perL = logits.length / images.length;
    const perR = regression.length / images.length;
    run.raw = images.map((_, i) => ({
      class_logits: logits.slice(i * perL, (i + 1) * perL),
      box_regression: regression.slice(i * perR, (i + 1) * perR),
    }));
  }
  return run;
}

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load': {
      try {
        const { ep, notes } = await openAll(msg.models, msg.session);
        if (msg.warmup) await warmup();
        send({ type: 'loaded', ep, notes });
      } catch (err) {
        send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'infer': {
      try {
        const runs: ModelRun[] = [];
        for (const name of msg.models) {
          const loaded = sessions.get(name);
          if (!loaded) throw new Error(`model ${name} is not loaded in this worker`);
          runs.push(await runModel(loaded, msg.images, msg.rawHeads));
        }
        const transfer = runs.flatMap((r) => (r.raw ?? []).flatMap((h) => [h.class_logits.buffer, h.box_regression.buffer]));
        send({ type: 'result', id: msg.id, runs }, transfer as ArrayBuffer[]);
      } catch (err) {
        send({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'close': {
      for (const s of sessions.values()) await s.session.release().catch(() => {});
      sessions.clear();
      send({ type: 'closed' });
      return;
    }
  }
}

// Messages are handled strictly one after another: a worker runs one batch at a time.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  // handle() answers its own failures; this catch only keeps the chain alive after an unexpected one.
  chain = chain
    .then(() => handle(msg))
    .catch((err) => console.error(`inference worker: ${err instanceof Error ? err.message : String(err)}`));
});

// Inference worker: owns one onnxruntime session per model. session.run() blocks the thread it runs on,
// so it runs here, never on the HTTP thread. Letterbox + normalise happen here too.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { ModelDetections, ModelName } from '../../lib/types.ts';
import { inputBatch, unletterboxBox, type Letterbox } from './letterbox.ts';
import type { DecodedImage } from './infer-types.ts';
import type { EpInUse, FromWorker, ModelInfo, ModelRun, SessionSettings, ToWorker } from './protocol.ts';
import { DETECTION_OUTPUTS, INPUT_NAME, OUTPUT } from './model-info.ts';

interface Loaded {
  info: ModelInfo;
  session: ort.InferenceSession;
}

const port = parentPort;
if (!port) throw new Error('server/runtime/worker.ts must run as a worker thread');

/** Per model; models that live in one file (the stacked graph) point at the same session. */
const sessions = new Map<ModelName, Loaded>();

const inputOf = (info: ModelInfo) => info.inputName ?? INPUT_NAME;
const outputOf = (info: ModelInfo, name: string) => `${info.outputPrefix ?? ''}${name}`;

/** onnxruntime session config entries (session.*) for a SPINNING mode. */
function spinningConfig(mode: SessionSettings['spinning']): Record<string, unknown> {
  if (mode === 'off') return { intra_op: { allow_spinning: '0' } };
  // run: when sessions run in turn (D0, D1, D2), 'on' leaves the previous session's idle spinner
  // holding a core while the next one runs, so each run is slower than in a loop of its own; 'run'
  // stops the spinning when a run returns, and each run goes as in its own loop.
  return { intra_op: { allow_spinning: '1' }, ...(mode === 'run' ? { force_spinning_stop: '1' } : {}) };
}

function sessionOptions(settings: SessionSettings, ep: EpInUse): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: settings.graphOpt,
    executionMode: 'sequential',
    // One inter-op thread: parallel execution mode is slower on small CPUs, and workers already give parallelism.
    interOpNumThreads: 1,
    logSeverityLevel: settings.ortLogLevel === 'fatal' ? 4 : settings.ortLogLevel === 'error' ? 3 : 2,
    ...(settings.intraOpThreads > 0 ? { intraOpNumThreads: settings.intraOpThreads } : {}),
    extra: { session: spinningConfig(settings.spinning) },
  };
}

async function openAll(models: ModelInfo[], settings: SessionSettings): Promise<{ ep: EpInUse; notes: string[] }> {
  const notes: string[] = [];
  ort.env.logLevel = settings.ortLogLevel;
  for (let i = 0; i < settings.providers.length; i++) {
    const ep = settings.providers[i]!;
    try {
      const byFile = new Map<string, ort.InferenceSession>();
      for (const info of models) {
        let session = byFile.get(info.file);
        if (!session) {
          session = await ort.InferenceSession.create(info.file, sessionOptions(settings, ep));
          byFile.set(info.file, session);
        }
        sessions.set(info.name, { info, session });
      }
      return { ep, notes };
    } catch (err) {
      await releaseAll();
      const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      if (i === settings.providers.length - 1) throw new Error(`${ep} execution provider failed to load: ${msg}`);
      notes.push(`${ep} execution provider failed to load (${msg}); falling back to ${settings.providers[i + 1]}`);
    }
  }
  throw new Error('no execution provider given');
}

async function releaseAll(): Promise<void> {
  for (const session of new Set([...sessions.values()].map((s) => s.session))) await session.release().catch(() => {});
  sessions.clear();
}

/** Requested models grouped by session, in request order (one group per file). */
function groupBySession(names: readonly ModelName[]): Loaded[][] {
  const groups = new Map<ort.InferenceSession, Loaded[]>();
  for (const name of names) {
    const loaded = sessions.get(name);
    if (!loaded) throw new Error(`model ${name} is not loaded in this worker`);
    const group = groups.get(loaded.session) ?? [];
    group.push(loaded);
    groups.set(loaded.session, group);
  }
  return [...groups.values()];
}

/**
 * Zero input for a model of a shared session that was not asked for (every graph input must be fed).
 * One zeroed buffer per model, grown to the largest batch seen; tensors are views of its start, so
 * the cache stays at one buffer per model whatever batch sizes arrive.
 */
const zeroBuffers = new Map<string, Float32Array>();
function zeroInput(info: ModelInfo, n: number): ort.Tensor {
  const s = info.inputSize;
  const length = n * 3 * s * s;
  let buf = zeroBuffers.get(info.name);
  if (!buf || buf.length < length) {
    buf = new Float32Array(length);
    zeroBuffers.set(info.name, buf);
  }
  return new ort.Tensor('float32', buf.subarray(0, length), [n, 3, s, s]);
}

async function warmup(): Promise<void> {
  for (const group of groupBySession([...sessions.keys()])) {
    const feeds = Object.fromEntries(group.map((l) => [inputOf(l.info), zeroInput(l.info, 1)]));
    const fetches = group.flatMap((l) => DETECTION_OUTPUTS.map((o) => outputOf(l.info, o)));
    await group[0]!.session.run(feeds, fetches);
  }
}

/** Reads a numeric tensor (float, int32 or int64) as numbers. */
function numberAt(t: ort.Tensor, i: number): number {
  return Number((t.data as ArrayLike<number | bigint>)[i]);
}

let nextSharedRun = 1;

/**
 * Runs the models of one session (one model per file, or several of the stacked graph) on a batch
 * of images in ONE session.run. Models of that session not asked for get a cached zero input:
 * onnxruntime needs every graph input and does not prune by fetches (fetching only d0's outputs of
 * the stacked graph costs about as much as fetching all).
 */
async function runGroup(group: Loaded[], images: DecodedImage[], rawHeads: boolean): Promise<ModelRun[]> {
  const session = group[0]!.session;
  const n = images.length;
  const t0 = performance.now();
  const feeds: Record<string, ort.Tensor> = {};
  const placements = new Map<ModelName, Letterbox[]>();
  for (const { info } of group) {
    const s = info.inputSize;
    const { data, boxes } = await inputBatch(images, info.name, s, info.norm);
    feeds[inputOf(info)] = new ort.Tensor('float32', data, [n, 3, s, s]);
    placements.set(info.name, boxes);
  }
  for (const { info } of sessions.values()) {
    if (info.file === group[0]!.info.file && !(inputOf(info) in feeds)) feeds[inputOf(info)] = zeroInput(info, n);
  }
  const fetches: string[] = [];
  for (const { info } of group) {
    fetches.push(...DETECTION_OUTPUTS.map((o) => outputOf(info, o)));
    if (rawHeads) fetches.push(outputOf(info, OUTPUT.classLogits), outputOf(info, OUTPUT.boxRegression));
  }
  const t1 = performance.now();
  const out = await session.run(feeds, fetches);
  const t2 = performance.now();
  const inferMs = t2 - t1;
  const shared = group.length > 1 ? nextSharedRun++ : undefined;
  // The letterbox time is split evenly so that the per-request sum stays the real total.
  const preprocessMs = (t1 - t0) / group.length;
  return group.map(({ info }) => {
    const get = (name: string) => out[outputOf(info, name)]!;
    const boxes = get(OUTPUT.boxes);
    const scores = get(OUTPUT.scores);
    const classes = get(OUTPUT.classes);
    const counts = get(OUTPUT.count);
    const maxDet = scores.dims[1]!;
    const placed = placements.get(info.name)!;
    const detections: ModelDetections[] = images.map((img, i) => {
      const count = Math.min(maxDet, Math.max(0, Math.round(numberAt(counts, i))));
      const det: ModelDetections = { boxes: [], scores: [], labels: [], num_detections: count, inference_ms: inferMs };
      const b = boxes.data as Float32Array;
      for (let k = 0; k < count; k++) {
        const j = i * maxDet + k;
        det.boxes.push(unletterboxBox(b[4 * j]!, b[4 * j + 1]!, b[4 * j + 2]!, b[4 * j + 3]!, placed[i]!, img.width, img.height));
        det.scores.push(numberAt(scores, j));
        det.labels.push(Math.round(numberAt(classes, j)));
      }
      return det;
    });
    const run: ModelRun = { name: info.name, preprocess_ms: preprocessMs, infer_ms: inferMs, detections };
    if (shared !== undefined) run.sharedRun = shared;
    if (rawHeads) {
      const logits = get(OUTPUT.classLogits).data as Float32Array;
      const regression = get(OUTPUT.boxRegression).data as Float32Array;
      const perL = logits.length / n;
      const perR = regression.length / n;
      run.raw = images.map((_, i) => ({
        class_logits: logits.slice(i * perL, (i + 1) * perL),
        box_regression: regression.slice(i * perR, (i + 1) * perR),
      }));
    }
    return run;
  });
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
        for (const group of groupBySession(msg.models)) runs.push(...(await runGroup(group, msg.images, msg.rawHeads)));
        const transfer = runs.flatMap((r) => (r.raw ?? []).flatMap((h) => [h.class_logits.buffer, h.box_regression.buffer]));
        send({ type: 'result', id: msg.id, runs }, transfer as ArrayBuffer[]);
      } catch (err) {
        send({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'close': {
      await releaseAll();
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

// The k6 client of the Open Inference Protocol (KServe v2), chosen by PROTOCOL=v2: the same
// scenarios, thresholds, warm-up and in-run output checks as the native client (./request.ts), so
// any v2 server (ours, Triton, KServe, MLServer) can be measured. IMPL names the model version
// (on our server an implementation name; `1` on a Triton with one version).
// - V2_MODELS=pipeline: each image's encoded bytes as a BYTES tensor to the `pipeline` model; one
//   request per iteration, every model's detections back.
// - V2_MODELS=d0,d1,d2: each image's prepared FP32 tensors (`make data`, lib/v2/tensors.ts) to
//   efficientdet-dN, one request per model per iteration, binary tensor data both ways. The tensor
//   files are opened once for the whole test (k6/experimental/fs); each request reads its tensor
//   straight into its body after the JSON header (one copy, as for images).
// Every request carries the native tags plus `model`; checks and output checks run on the returned
// detection tensors, boxes mapped back to original-image pixels with the letterbox of the prepared tensor.
import http, { type Params, type RefinedResponse, type ResponseType } from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { sleep } from 'k6';
import { open as openFile, SeekMode, type File } from 'k6/experimental/fs';
import { dirnameOf } from '../dataset.ts';
import { MODEL_NAMES, type HealthResponse, type ImageResult, type InferResponse, type ModelDetections, type ModelName } from '../types.ts';
import { v2ModelName } from '../v2/config.ts';
import { toOriginalBox, type TensorImage, type TensorManifest } from '../v2/tensors.ts';
import { HEADER_LENGTH_HEADER, binaryRequestHeader, parseInferResponse, type V2Tensor } from '../v2/wire.ts';
import type { K6Config } from '../k6-config.ts';
import type { LoadedImage } from './dataset.ts';
import { checkOutputs } from './output-check.ts';
import { recordGoodput } from './goodput.ts';
import type { RequestTags } from './tags.ts';
import type { Exchange, ProtocolClient } from './exchange.ts';

declare const console: { warn(...args: unknown[]): void };

const DETECTIONS = ['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections'] as const;

export type { Exchange } from './exchange.ts';

interface ModelMeta {
  name: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

let warned = 0;

/**
 * Init context only: the prepared tensors' manifest and an open file per (image, model), keyed
 * `${id}/${model}` (v2 per-model requests, TorchServe). Throws naming the fix when the manifest cannot be
 * read or lacks a model's tensor.
 */
export async function openPreparedTensors(manifestPath: string, models: readonly ModelName[]): Promise<{ tensorImages: Map<string, TensorImage>; files: Map<string, File> }> {
  let manifest: TensorManifest;
  try {
    manifest = JSON.parse(open(manifestPath)) as TensorManifest;
  } catch (e) {
    throw new Error(`prepared tensors ${manifestPath} cannot be read (${String(e)}): run 'make data' (it prepares TENSOR_IMAGES images) or set TENSORS_MANIFEST`);
  }
  const dir = dirnameOf(manifestPath);
  const files = new Map<string, File>();
  for (const img of manifest.images) {
    for (const m of models) {
      const t = img.tensors[m];
      if (!t) throw new Error(`prepared tensors ${manifestPath}: image ${img.id} has no ${m} tensor: rerun 'make data'`);
      files.set(`${img.id}/${m}`, await openFile(`${dir}/${t.file}`));
    }
  }
  return { tensorImages: new Map(manifest.images.map((i) => [i.id, i])), files };
}

/** Init context only: opens the prepared tensors (per-model mode). */
export async function v2Client(cfg: K6Config): Promise<ProtocolClient> {
  const mode = cfg.v2Models;
  const models: ModelName[] = mode.kind === 'models' ? mode.models : cfg.models.length > 0 ? MODEL_NAMES.filter((m) => cfg.models.includes(m)) : [...MODEL_NAMES];
  const { tensorImages, files } = mode.kind === 'models' ? await openPreparedTensors(cfg.manifest, models) : { tensorImages: new Map<string, TensorImage>(), files: new Map<string, File>() };

  /** The version path of an implementation under test (V2_VERSION when the label is not a version). */
  const modelPath = (model: ModelName | 'pipeline', impl: string) => `${cfg.target}/v2/models/${v2ModelName(model)}/versions/${cfg.v2Version || impl}`;

  function abort(msg: string): never {
    exec.test.abort(msg);
    throw new Error(msg);
  }

  /** Checks that the target's model takes what we send and gives what we read; aborts naming the mismatch. */
  function checkMetadata(meta: ModelMeta, model: ModelName | 'pipeline', impl: string): void {
    const where = `${cfg.target} model ${meta.name} version ${impl}`;
    const fits = (shape: number[], want: number[]) => shape.length === want.length && shape.every((d, i) => d === -1 || d === want[i]);
    if (model === 'pipeline') {
      const input = meta.inputs.find((i) => i.name === 'image');
      if (!input || input.datatype !== 'BYTES') abort(`${where}: needs a BYTES input 'image' for V2_MODELS=pipeline, has ${JSON.stringify(meta.inputs.map((i) => [i.name, i.datatype]))}`);
    } else {
      const input = meta.inputs.find((i) => i.name === 'images');
      const anyImage = tensorImages.values().next().value as TensorImage | undefined;
      const want = [-1, ...(anyImage?.tensors[model]?.shape ?? [])];
      if (!input || input.datatype !== 'FP32' || !fits(input.shape, want.map((d, i) => (i === 0 ? input.shape[0] ?? -1 : d)))) {
        abort(`${where}: input ${input ? `${input.name} ${input.datatype} [${input.shape.join(',')}]` : "'images' missing"} does not fit the prepared FP32 tensors [N,${want.slice(1).join(',')}]; regenerate them with 'make data' (MODELS_DIR) or check the target's model`);
      }
    }
    const prefixes = model === 'pipeline' ? models.map((m) => `${m}/`) : [''];
    for (const p of prefixes) {
      for (const o of DETECTIONS) {
        const out = meta.outputs.find((x) => x.name === `${p}${o}`);
        if (!out || out.datatype !== 'FP32') abort(`${where}: output '${p}${o}' ${out ? `is ${out.datatype}, expected FP32` : 'is missing'}; outputs are ${meta.outputs.map((x) => x.name).join(', ')}`);
      }
    }
  }

  /** setup(): the target ready over v2, every model version under test present and fitting. */
  function gate(): HealthResponse {
    const deadline = Date.now() + cfg.healthWait_s * 1000;
    const tags = { phase: 'setup' } as Record<string, string>;
    for (;;) {
      const res = http.get(`${cfg.target}/v2/health/ready`, { tags: { ...tags, name: 'GET /v2/health/ready' }, timeout: '5s' });
      if (res.status === 200) break;
      if (Date.now() > deadline) abort(`target ${cfg.target} is not ready over v2 after ${cfg.healthWait_s}s: GET /v2/health/ready answered ${res.status} ${res.error ?? ''}`);
      sleep(1);
    }
    const server = http.get(`${cfg.target}/v2`, { tags: { ...tags, name: 'GET /v2' }, timeout: '5s' });
    const used: (ModelName | 'pipeline')[] = mode.kind === 'pipeline' ? ['pipeline'] : models;
    for (const impl of cfg.impls) {
      for (const model of used) {
        const res = http.get(modelPath(model, impl), { tags: { ...tags, name: 'GET /v2/models/{m}/versions/{v}' }, timeout: '5s' });
        if (res.status !== 200) abort(`${cfg.target} does not serve model ${v2ModelName(model)} version ${impl} (GET answered ${res.status}: ${String(res.body).slice(0, 160)}); IMPL names the model version over v2`);
        checkMetadata(JSON.parse(res.body as string) as ModelMeta, model, impl);
      }
    }
    let version = 'unknown';
    try {
      version = String((JSON.parse(server.body as string) as { version?: string }).version ?? 'unknown');
    } catch {
      // A v2 server without GET /v2 metadata still serves its models.
    }
    return { status: 'ok', ready: true, ep: 'unknown', models: [], implementations: [...cfg.impls], uptime_s: 0, version };
  }

  function parse(res: RefinedResponse<ResponseType>) {
    if (res.status !== 200 || !(res.body instanceof ArrayBuffer)) return undefined;
    try {
      const h = res.headers[HEADER_LENGTH_HEADER] ?? res.headers[HEADER_LENGTH_HEADER.toLowerCase()];
      return parseInferResponse(res.body, h === undefined ? undefined : Number(h));
    } catch {
      return undefined;
    }
  }

  function protocolChecks(res: RefinedResponse<ResponseType>, parsed: ReturnType<typeof parse>, modelName: string, shapeOk: boolean, tags: RequestTags, ids: string): boolean {
    const ok = check(
      res,
      {
        'status is 200': (r) => r.status === 200,
        'body is a v2 response of this model': () => parsed !== undefined && parsed.header.model_name === modelName,
        'detection tensors of the right shape': () => shapeOk,
      },
      tags,
    );
    if (!ok && warned++ < 5) {
      const text = res.body instanceof ArrayBuffer ? String.fromCharCode(...new Uint8Array(res.body.slice(0, 200))) : String(res.body ?? res.error);
      console.warn(`v2 request ${modelName} version ${tags.impl} image(s) ${ids}: status ${res.status}, ${text.slice(0, 200)}`);
    }
    return ok;
  }

  const binaryParams = (tags: RequestTags, model: string, headerLength: number, ids: string): Params => ({
    headers: { 'Content-Type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(headerLength), 'X-Image-Id': ids },
    tags: { ...tags, model, name: `POST /v2/models/${v2ModelName(model as ModelName | 'pipeline')}/infer` },
    timeout: '120s',
    responseType: 'binary',
  });

  /** One pipeline request: BYTES [N] of the encoded images. */
  function pipelineExchange(images: LoadedImage[], tags: RequestTags): Exchange {
    const outputs = models.flatMap((m) => DETECTIONS.map((o) => `${m}/${o}`));
    const size = images.reduce((s, i) => s + 4 + i.bytes.length, 0);
    const header = binaryRequestHeader([{ name: 'image', datatype: 'BYTES', shape: [images.length], bytes: size }], outputs);
    const body = new Uint8Array(header.length + size);
    body.set(header, 0);
    const view = new DataView(body.buffer);
    let at = header.length;
    for (const img of images) {
      view.setUint32(at, img.bytes.length, true);
      body.set(img.bytes, at + 4);
      at += 4 + img.bytes.length;
    }
    const ids = images.map((i) => i.id).join(',');
    const reqTags = { ...tags, model: 'pipeline' };
    return {
      req: { method: 'POST', url: `${modelPath('pipeline', tags.impl)}/infer`, body: body.buffer, params: binaryParams(reqTags, 'pipeline', header.length, ids) },
      check(res) {
        const parsed = parse(res);
        const shapeOk = parsed !== undefined && models.every((m) => DETECTIONS.every((o) => parsed.tensors[`${m}/${o}`]?.shape[0] === images.length));
        const ok = protocolChecks(res, parsed, 'pipeline', shapeOk, reqTags, ids);
        const outputsOk = res.status === 200 && checkOutputs(images.map((i) => i.id), parsed ? asInferResponse(parsed.tensors, images.map((img) => ({ id: img.id })), tags.impl, models, () => (b) => b) : null, reqTags, models);
        recordGoodput(res, reqTags, ok && outputsOk);
        return ok;
      },
    };
  }

  const readInto = (file: File, body: Uint8Array, at: number, bytes: number, what: string) => readTensorInto(file, body, at, bytes, what, abort);

  /** One request per model: the images' prepared tensors, [N,3,S,S]. */
  async function modelExchanges(images: LoadedImage[], tags: RequestTags, only?: readonly ModelName[]): Promise<Exchange[]> {
    const prepared = images.map((img) => {
      const t = tensorImages.get(img.id);
      if (!t) abort(`image ${img.id} has no prepared tensors in ${cfg.manifest}: rerun 'make data'`);
      return t;
    });
    const ids = images.map((i) => i.id).join(',');
    const out: Exchange[] = [];
    for (const model of only ? models.filter((m) => only.includes(m)) : models) {
      const shape = prepared[0]!.tensors[model]!.shape;
      const per = prepared[0]!.tensors[model]!.bytes;
      const header = binaryRequestHeader([{ name: 'images', datatype: 'FP32', shape: [images.length, ...shape], bytes: per * images.length }], [...DETECTIONS]);
      const body = new Uint8Array(header.length + per * images.length);
      body.set(header, 0);
      for (let i = 0; i < prepared.length; i++) await readInto(files.get(`${prepared[i]!.id}/${model}`)!, body, header.length + i * per, per, `${prepared[i]!.id}/${model}`);
      const reqTags = { ...tags, model };
      out.push({
        req: { method: 'POST', url: `${modelPath(model, tags.impl)}/infer`, body: body.buffer, params: binaryParams(reqTags, model, header.length, ids) },
        check(res) {
          const parsed = parse(res);
          const shapeOk = parsed !== undefined && DETECTIONS.every((o) => parsed.tensors[o]?.shape[0] === images.length && parsed.tensors[o]?.datatype === 'FP32');
          const ok = protocolChecks(res, parsed, v2ModelName(model), shapeOk, reqTags, ids);
          recordGoodput(res, reqTags, ok && checkModelOutputs(res.status, parsed?.tensors, prepared, tags.impl, model, reqTags));
          return ok;
        },
      });
    }
    return out;
  }

  /** The exchanges of one iteration (their bodies filled). */
  async function exchanges(images: LoadedImage[], tags: RequestTags, only?: readonly ModelName[]): Promise<Exchange[]> {
    // A mix stream asks one model: the pipeline model runs them all, so a mix needs per-model requests.
    if (only && mode.kind === 'pipeline') abort('SCENARIO=mix over v2 sends each stream its own model: set V2_MODELS=d0,d1,d2 (the pipeline model runs every model)');
    if (only && only.some((m) => !models.includes(m))) abort(`SCENARIO=mix asks ${only.join(',')}, which V2_MODELS=${models.join(',')} leaves out: add it to V2_MODELS`);
    return mode.kind === 'pipeline' ? [pipelineExchange(images, tags)] : modelExchanges(images, tags, only);
  }

  return { gate, exchanges };
}

/** v2 detection tensors -> the native response shape the output checks read. */
/**
 * Reads `bytes` of a prepared tensor file into body[at..] (v2 per-model requests, TorchServe). k6's fs
 * read() fills the typed array's buffer from its start whatever the view's offset, so the tensor is
 * read into a buffer of its own and copied after the header (a second copy per request, client CPU).
 */
export async function readTensorInto(file: File, body: Uint8Array, at: number, bytes: number, what: string, abort: (msg: string) => never): Promise<void> {
  await file.seek(0, SeekMode.Start);
  const tensor = new Uint8Array(bytes);
  const n = await file.read(tensor);
  if (n !== bytes) abort(`prepared tensor ${what}: read ${n ?? 0} of ${bytes} bytes in one read: rerun 'make data'`);
  body.set(tensor, at);
}

/**
 * The in-run output checks of one model's answer to prepared tensors (v2 per-model requests, and
 * TorchServe's /predictions): its detection tensors, boxes taken back to original-image pixels,
 * against the reference of the images sent. False for a non-200 answer.
 */
export function checkModelOutputs(status: number, tensors: Record<string, V2Tensor> | undefined, prepared: readonly TensorImage[], impl: string, model: ModelName, tags: RequestTags): boolean {
  if (status !== 200) return false;
  const body = tensors ? asInferResponse(tensors, prepared.map((p) => ({ id: p.id })), impl, [model], (i) => (b) => toOriginalBox(b, prepared[i]!.tensors[model]!, prepared[i]!.width, prepared[i]!.height), '') : null;
  return checkOutputs(prepared.map((p) => p.id), body, tags, [model]);
}

export function asInferResponse(
  t: Record<string, V2Tensor>,
  images: { id: string }[],
  impl: string,
  models: readonly ModelName[],
  toOriginal: (i: number) => (b: number[]) => number[],
  prefixOf: string | undefined = undefined,
): InferResponse {
  return {
    implementation: impl,
    images: images.map((img, i): ImageResult => {
      const perModel: ImageResult['models'] = {};
      for (const m of models) {
        const d = detectionsOf(t, prefixOf ?? `${m}/`, i, toOriginal(i));
        if (d) perModel[m] = d;
      }
      return { image_id: img.id, width: 0, height: 0, models: perModel };
    }),
    timing: { decode_ms: 0, preprocess_ms: 0, queue_ms: 0, infer_ms: 0, total_ms: 0 },
  };
}

function detectionsOf(t: Record<string, V2Tensor>, prefix: string, i: number, toOriginal: (b: number[]) => number[]): ModelDetections | undefined {
  const boxes = t[`${prefix}detection_boxes`];
  const scores = t[`${prefix}detection_scores`];
  const classes = t[`${prefix}detection_classes`];
  const count = t[`${prefix}num_detections`];
  if (!boxes || !scores || !classes || !count) return undefined;
  const M = scores.shape[1] ?? 0;
  const n = Math.min(M, Math.round(count.data[i] ?? 0));
  const det: ModelDetections = { boxes: [], scores: [], labels: [], num_detections: n, inference_ms: 0 };
  for (let k = 0; k < n; k++) {
    const j = i * M + k;
    det.boxes.push(toOriginal(Array.from(boxes.data.subarray(4 * j, 4 * j + 4))) as [number, number, number, number]);
    det.scores.push(scores.data[j]!);
    det.labels.push(Math.round(classes.data[j]!));
  }
  return det;
}


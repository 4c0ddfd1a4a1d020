// The k6 client of TorchServe's own inference API, chosen by PROTOCOL=torchserve: the TorchServe peer
// (peers/torchserve) or any TorchServe running its handler. TorchServe 0.12 serves the Open Inference
// Protocol over HTTP only in part (no model metadata, no /versions/ paths), so its requests are the
// ones a TorchServe user sends: POST /predictions/efficientdet-dN with each image's prepared FP32
// tensor bytes [n,3,S,S] (`make data`, the same bytes our v2 clients send after their JSON header),
// one request per model of V2_MODELS per iteration. The handler answers the v2 binary response (JSON
// header + detection tensors), read with the v2 parser; checks, in-run output checks and goodput as
// in ./v2.ts. IMPL is the row's label only: TorchServe serves each model's default version.
import http, { type Params, type RefinedResponse, type ResponseType } from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import type { File } from 'k6/experimental/fs';
import type { HealthResponse, ModelName } from '../types.ts';
import { v2ModelName } from '../v2/config.ts';
import type { TensorImage } from '../v2/tensors.ts';
import { HEADER_LENGTH_HEADER, parseInferResponse } from '../v2/wire.ts';
import type { K6Config } from '../k6-config.ts';
import type { LoadedImage } from './dataset.ts';
import type { Exchange, ProtocolClient } from './exchange.ts';
import { checkModelOutputs, openPreparedTensors, readTensorInto } from './v2.ts';
import { recordAnswer } from './answer-metrics.ts';
import { recordGoodput } from './goodput.ts';
import type { RequestTags } from './tags.ts';

declare const console: { warn(...args: unknown[]): void };

const DETECTIONS = ['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections'] as const;

/** What the peer's handler answers to a request without a whole tensor (400): its tensor contract. */
interface Contract {
  name?: string;
  inputs?: { name: string; datatype: string; shape: number[] }[];
  outputs?: { name: string; datatype: string; shape: number[] }[];
}

function abort(msg: string): never {
  exec.test.abort(msg);
  throw new Error(msg);
}

/** Init context only: opens the prepared tensors of V2_MODELS's models. */
export async function torchserveClient(cfg: K6Config): Promise<ProtocolClient> {
  if (cfg.v2Models.kind !== 'models') throw new Error("PROTOCOL=torchserve sends each model its prepared tensors: set V2_MODELS to a comma list of d0, d1, d2 (TorchServe serves no pipeline model)");
  const models: ModelName[] = cfg.v2Models.models;
  const { tensorImages, files } = await openPreparedTensors(cfg.manifest, models);
  const url = (model: ModelName) => `${cfg.target}/predictions/${v2ModelName(model)}`;
  let warned = 0;

  /** setup(): GET /ping Healthy, then each model's contract (an empty request) fits the prepared tensors. */
  function gate(): HealthResponse {
    const deadline = Date.now() + cfg.healthWait_s * 1000;
    const tags = { phase: 'setup' } as Record<string, string>;
    for (;;) {
      const res = http.get(`${cfg.target}/ping`, { tags: { ...tags, name: 'GET /ping' }, timeout: '5s' });
      if (res.status === 200 && /"Healthy"/.test(String(res.body))) break;
      if (Date.now() > deadline) abort(`target ${cfg.target} is not healthy after ${cfg.healthWait_s}s: GET /ping answered ${res.status} ${String(res.body ?? res.error).slice(0, 160)}; start it with 'make torchserve'`);
      sleep(1);
    }
    const anyImage = tensorImages.values().next().value as TensorImage | undefined;
    for (const model of models) {
      const res = http.post(url(model), new ArrayBuffer(0), { headers: { 'Content-Type': 'application/octet-stream' }, tags: { ...tags, name: 'POST /predictions/{m} (contract)' }, timeout: '30s' });
      let contract: Contract = {};
      try {
        contract = JSON.parse(String(res.body)) as Contract;
      } catch {
        // Not our handler's answer: named below.
      }
      const where = `${cfg.target}/predictions/${v2ModelName(model)}`;
      if (res.status !== 400 || !contract.inputs) abort(`${where} answered an empty request ${res.status} ${String(res.body ?? res.error).slice(0, 160)}, not the handler's tensor contract: serve the model with peers/torchserve/handler.py ('make torchserve')`);
      const want = [-1, ...(anyImage?.tensors[model]?.shape ?? [])];
      const input = contract.inputs[0]!;
      if (input.datatype !== 'FP32' || input.shape.join(',') !== want.join(',')) abort(`${where}: input ${input.name} ${input.datatype} [${input.shape.join(',')}] does not fit the prepared FP32 tensors [${want.join(',')}]; regenerate them with 'make data' (MODELS_DIR) or check the model`);
      for (const o of DETECTIONS) if (!contract.outputs?.some((x) => x.name === o && x.datatype === 'FP32')) abort(`${where}: output '${o}' FP32 missing; outputs are ${(contract.outputs ?? []).map((x) => x.name).join(', ')}`);
    }
    return { status: 'ok', ready: true, ep: 'unknown', models: [], implementations: [...cfg.impls], uptime_s: 0, version: 'torchserve' };
  }

  const readInto = (file: File, body: Uint8Array, at: number, bytes: number, what: string) => readTensorInto(file, body, at, bytes, what, abort);

  async function exchanges(images: LoadedImage[], tags: RequestTags, only?: readonly ModelName[]): Promise<Exchange[]> {
    // A mix stream asks one model: only its request (each model is a TorchServe model of its own).
    if (only && only.some((m) => !models.includes(m))) abort(`SCENARIO=mix asks ${only.join(',')}, which V2_MODELS=${models.join(',')} leaves out: add it to V2_MODELS`);
    const prepared = images.map((img) => tensorImages.get(img.id) ?? abort(`image ${img.id} has no prepared tensors in ${cfg.manifest}: rerun 'make data'`));
    const ids = images.map((i) => i.id).join(',');
    const out: Exchange[] = [];
    for (const model of only ? models.filter((m) => only.includes(m)) : models) {
      const per = prepared[0]!.tensors[model]!.bytes;
      const body = new Uint8Array(per * images.length);
      for (let i = 0; i < prepared.length; i++) await readInto(files.get(`${prepared[i]!.id}/${model}`)!, body, i * per, per, `${prepared[i]!.id}/${model}`);
      const reqTags = { ...tags, model };
      const params: Params = {
        headers: { 'Content-Type': 'application/octet-stream', 'X-Image-Id': ids },
        tags: { ...reqTags, name: `POST /predictions/${v2ModelName(model)}` },
        timeout: '120s',
        responseType: 'binary',
      };
      out.push({
        req: { method: 'POST', url: url(model), body: body.buffer, params },
        check(res: RefinedResponse<ResponseType>) {
          recordAnswer(res, reqTags);
          let parsed: ReturnType<typeof parseInferResponse> | undefined;
          if (res.status === 200 && res.body instanceof ArrayBuffer) {
            try {
              const h = res.headers[HEADER_LENGTH_HEADER] ?? res.headers[HEADER_LENGTH_HEADER.toLowerCase()];
              parsed = parseInferResponse(res.body, h === undefined ? undefined : Number(h));
            } catch {
              parsed = undefined;
            }
          }
          const ok = check(
            res,
            {
              'status is 200': (r) => r.status === 200,
              'body is a detection response of this model': () => parsed !== undefined && parsed.header.model_name === v2ModelName(model),
              'detection tensors of the right shape': () => parsed !== undefined && DETECTIONS.every((o) => parsed!.tensors[o]?.shape[0] === images.length && parsed!.tensors[o]?.datatype === 'FP32'),
            },
            reqTags,
          );
          if (!ok && warned++ < 5) {
            const text = res.body instanceof ArrayBuffer ? String.fromCharCode(...new Uint8Array(res.body.slice(0, 200))) : String(res.body ?? res.error);
            console.warn(`torchserve request ${v2ModelName(model)} image(s) ${ids}: status ${res.status}, ${text.slice(0, 200)}`);
          }
          recordGoodput(res, reqTags, ok && checkModelOutputs(res.status, parsed?.tensors, prepared, tags.impl, model, reqTags));
          return ok;
        },
      });
    }
    return out;
  }

  return { gate, exchanges };
}

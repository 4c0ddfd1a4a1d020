// The Open Inference Protocol (KServe v2 REST) beside the native API, with Triton's extensions its
// tools need: binary tensor data, model configuration and statistics. Models, versions and tensors
// are described in ../http/v2-models.ts; the body codec is ../http/v2-tensors.ts. Implementations
// are required through the same ImplementationHost as /infer/:impl (same 404/503) and every infer
// request is booked in /metrics like a native one. Errors: {"error": "<code>: <detail>", "code"}.
import { performance } from 'node:perf_hooks';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import type { ServerConfig } from '../config.ts';
import { inferBooked, inferLocals } from '../http/booking.ts';
import type { LoneRequests } from '../http/lone-request.ts';
import { errorHandler } from '../http/error-handler.ts';
import { HttpError } from '../http/errors.ts';
import { asyncRun, bodyLimitBytes, refuseOversized } from '../http/upload.ts';
import {
  DETECTION_OUTPUT_NAMES, PIPELINE_INPUT, RAW_OUTPUTS, defaultImplementation, detectionOutputs, implementationOf, modelConfig,
  modelMetadata, rawOutputs, v2Model, v2ModelNames, versionOf, type V2Model,
} from '../http/v2-models.ts';
import { HEADER_LENGTH, bytesInput, encodeInferResponse, fp32Input, parseInferRequest, type V2Input, type V2Output, type V2Request } from '../http/v2-tensors.ts';
import { implementationNames } from '../implementations/registry.ts';
import type { Implementation } from '../implementations/types.ts';
import type { DecodedImage, InferOutcome } from '../runtime/infer-types.ts';
import type { ImplementationHost } from '../lifecycle.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import { ALL_MODELS } from '../metrics/model-stats.ts';
import { INPUT_NAME } from '../runtime/model-info.ts';
import { decodeImage } from '../runtime/decode.ts';
import { SERVER_VERSION } from '../version.ts';

const EXTENSIONS = ['binary_tensor_data', 'model_configuration', 'statistics'];
/** Model path with an optional version: /v2/models/efficientdet-d0[/versions/concurrent]. */
const MODEL_PATH = '/v2/models/:model{/versions/:version}';

export function v2Routes(config: ServerConfig, host: ImplementationHost, metrics: ServerMetrics, log: Logger, booking: RequestHandler, lone: LoneRequests): Router {
  const router = Router();
  // Any Content-Type: v2 clients send JSON, octet-stream or none (the header length tells binary apart).
  const rawBody = express.raw({ type: () => true, limit: bodyLimitBytes(config) });

  /** The model and implementation a path names, the implementation ready (else 404 / 503). */
  const resolve = (req: Request): { model: V2Model; implName: string; impl: Implementation } => {
    const model = v2Model(String(req.params.model));
    const implName = implementationOf(req.params.version as string | undefined, host.served);
    return { model, implName, impl: host.require(implName) };
  };

  router.get('/v2', (_req, res) => {
    res.json({ name: 'multidet-bench', version: SERVER_VERSION, extensions: EXTENSIONS });
  });
  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: !host.closing });
  });
  router.get('/v2/health/ready', (_req, res) => {
    if (!host.ready) res.status(503).set('Retry-After', '2');
    res.json({ ready: host.ready });
  });

  router.get('/v2/models/stats', (_req, res) => {
    res.json({ model_stats: v2ModelNames().flatMap((name) => host.served.map((impl) => statsEntry(v2Model(name), impl))) });
  });
  router.get(MODEL_PATH, (req, res) => {
    const { model } = resolve(req);
    res.json(modelMetadata(model, host.models, host.served));
  });
  router.get(`${MODEL_PATH}/ready`, (req, res) => {
    const { model, implName } = resolve(req);
    res.json({ name: model.name, version: versionOf(implName), ready: true });
  });
  router.get(`${MODEL_PATH}/config`, (req, res) => {
    const { model } = resolve(req);
    res.json(modelConfig(model, host.models, config.requestMaxBatch));
  });
  router.get(`${MODEL_PATH}/stats`, (req, res) => {
    const model = v2Model(String(req.params.model));
    // No version: the default one only (Triton answers every version, and perf_analyzer then takes
    // the highest number, which would not be the one it measured).
    const version = req.params.version as string | undefined;
    const impl = version === undefined ? defaultImplementation(host.served) : implementationOf(version, host.served);
    host.require(impl);
    res.json({ model_stats: [statsEntry(model, impl)] });
  });

  function statsEntry(model: V2Model, impl: string) {
    const s = metrics.modelStats.get(impl, model.kind === 'pipeline' ? ALL_MODELS : model.model);
    const { last_inference, inference_count, execution_count, ...timed } = s;
    return {
      name: model.name,
      version: versionOf(impl),
      last_inference,
      inference_count,
      execution_count,
      inference_stats: { ...timed, cache_hit: { count: 0, ns: 0 }, cache_miss: { count: 0, ns: 0 } },
      batch_stats: [],
      memory_usage: [],
    };
  }

  router.post(`${MODEL_PATH}/infer`, booking, lone.track, async (req, res) => {
    const locals = inferLocals(res);
    const model = v2Model(String(req.params.model));
    const implName = implementationOf(req.params.version as string | undefined, host.served);
    locals.impl = implementationNames().includes(implName) ? implName : 'unknown';
    locals.images = 0;
    const impl = host.require(implName);
    // As the native route: a full queue refuses before any body is parsed or decoded.
    impl.refuseIfFull?.(model.kind === 'pipeline' ? undefined : [model.model]);

    refuseOversized(req, config);
    await asyncRun(rawBody, req, res);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const headerLength = req.headers[HEADER_LENGTH];
    const request = parseInferRequest(body, Array.isArray(headerLength) ? headerLength[0] : headerLength);
    const headerId = typeof req.headers['x-image-id'] === 'string' ? req.headers['x-image-id'] : undefined;

    const answer =
      model.kind === 'pipeline'
        ? await inferPipeline(res, impl, request, headerId)
        : await inferDetector(res, impl, model.model, request, headerId);
    const head = {
      model_name: model.name,
      model_version: versionOf(implName),
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: { implementation: implName, ep: host.ep },
    };
    const asked = new Map((request.outputs ?? []).map((o) => [o.name, o.binary]));
    const { body: out, headerLength: binaryHeader } = encodeInferResponse(head, answer, (name) => asked.get(name) ?? request.binaryOutput);
    if (binaryHeader !== undefined) res.set('Content-Type', 'application/octet-stream').set('Inference-Header-Content-Length', String(binaryHeader));
    else res.set('Content-Type', 'application/json');
    res.send(out);
  });

  /** The one input a model takes, by name; anything else is a 400 naming it. */
  function onlyInput(request: V2Request, name: string): V2Input {
    const others = request.inputs.filter((i) => i.name !== name);
    if (others.length > 0) throw new HttpError(400, 'unknown_input', `unknown input '${others[0]!.name}'; this model takes one input '${name}'`);
    if (request.inputs.length !== 1) throw new HttpError(400, 'invalid_tensor', `input '${name}' is given ${request.inputs.length} times`);
    return request.inputs[0]!;
  }

  function batchOf(input: V2Input, n: number): void {
    if (n === 0) throw new HttpError(400, 'empty_body', `input '${input.name}' has batch size 0`);
    if (n > config.requestMaxBatch) throw new HttpError(413, 'too_many_files', `input '${input.name}' has batch size ${n}, over the limit of ${config.requestMaxBatch} (REQUEST_MAX_BATCH)`);
  }

  function requestedOutputs(request: V2Request, known: readonly string[], fallback: readonly string[]): string[] {
    if (request.outputs === undefined || request.outputs.length === 0) return [...fallback];
    const unknown = request.outputs.filter((o) => !known.includes(o.name));
    if (unknown.length > 0) throw new HttpError(400, 'unknown_output', `unknown output '${unknown[0]!.name}'; this model has ${known.join(', ')}`);
    return request.outputs.map((o) => o.name);
  }

  /** efficientdet-dN: the client's letterboxed tensor in, the ONNX contract's tensors out. */
  async function inferDetector(res: Response, impl: Implementation, name: ModelName, request: V2Request, headerId: string | undefined): Promise<V2Output[]> {
    const info = host.models.find((m) => m.name === name)!;
    const S = info.inputSize;
    const input = onlyInput(request, INPUT_NAME);
    const [n = 0, c, h, w, ...rest] = input.shape;
    if (input.shape.length !== 4 || c !== 3 || h !== S || w !== S || rest.length > 0) {
      throw new HttpError(400, 'invalid_tensor', `input '${INPUT_NAME}' has shape [${input.shape.join(',')}]; efficientdet-${name} takes [N,3,${S},${S}]`);
    }
    batchOf(input, n);
    const outputs = requestedOutputs(request, [...DETECTION_OUTPUT_NAMES, ...RAW_OUTPUTS], DETECTION_OUTPUT_NAMES);
    const data = fp32Input(input);
    const per = 3 * S * S;
    const images: DecodedImage[] = Array.from({ length: n }, (_, i) => ({
      ...(n === 1 && headerId !== undefined ? { id: headerId } : {}),
      width: S,
      height: S,
      // Its own empty buffer: the pool transfers (detaches) whole pixel buffers.
      pixels: new Uint8Array(0),
      inputs: { [name]: data.subarray(i * per, (i + 1) * per) },
    }));
    const rawHeads = outputs.some((o) => (RAW_OUTPUTS as readonly string[]).includes(o));
    const outcome = await run(res, impl, images, [name], rawHeads, undefined);
    const all = [...detectionOutputs(outcome, name, info), ...(rawHeads ? rawOutputs(outcome, name, info) : [])];
    return outputs.map((o) => all.find((t) => t.name === o)!);
  }

  /** pipeline: encoded images in, every asked model's detections in original-image pixels out. */
  async function inferPipeline(res: Response, impl: Implementation, request: V2Request, headerId: string | undefined): Promise<V2Output[]> {
    const input = onlyInput(request, PIPELINE_INPUT);
    if (input.shape.length < 1 || input.shape.length > 2 || (input.shape.length === 2 && input.shape[1] !== 1)) {
      throw new HttpError(400, 'invalid_tensor', `input '${PIPELINE_INPUT}' has shape [${input.shape.join(',')}]; the pipeline takes [N] or [N,1] encoded images`);
    }
    batchOf(input, input.shape[0]!);
    const known = MODEL_NAMES.flatMap((m) => DETECTION_OUTPUT_NAMES.map((o) => `${m}/${o}`));
    const outputs = requestedOutputs(request, known, known);
    const models = MODEL_NAMES.filter((m) => outputs.some((o) => o.startsWith(`${m}/`)));
    const blobs = bytesInput(input);
    const t = performance.now();
    const inline = lone.inlineDecode(blobs.length);
    const images = await Promise.all(
      blobs.map((bytes, i) => decodeImage(bytes, { maxPixels: config.maxPixels, inline, ...(blobs.length === 1 && headerId !== undefined ? { id: headerId } : { id: `${request.id ?? 'image'}#${i}` }) })),
    );
    const outcome = await run(res, impl, images, models, false, performance.now() - t);
    const all = models.flatMap((m) => detectionOutputs(outcome, m, host.models.find((x) => x.name === m)!, `${m}/`));
    return outputs.map((o) => all.find((x) => x.name === o)!);
  }

  /** Runs the implementation and records what the booking needs (images, ids, decode time, outcome). */
  async function run(res: Response, impl: Implementation, images: DecodedImage[], models: ModelName[], rawHeads: boolean, decode_ms: number | undefined): Promise<InferOutcome> {
    const l = inferLocals(res);
    l.images = images.length;
    l.imageIds = images.map((i) => i.id ?? '-');
    if (decode_ms !== undefined) l.decode_ms = decode_ms;
    return (await inferBooked(res, impl, images, { models, rawHeads })).outcome;
  }

  router.use('/v2', (req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.originalUrl}; see GET /v2, /v2/health/{live,ready}, /v2/models/{model}[/versions/{v}][/ready|/config|/stats], POST .../infer`));
  });

  // The v2 error shape; same statuses and codes as the native API (server/http/error-handler.ts).
  router.use(errorHandler(log, config.maxDrainMb, (m) => ({ error: `${m.code}: ${m.detail}`, code: m.code }), (req) => req.path.startsWith('/v2')));
  return router;
}

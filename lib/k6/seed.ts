// The k6 client of the seed project's API, chosen by PROTOCOL=seed: POST /infer/{impl} with the image
// in the multipart field "file", one image per request; readiness from its /health (status healthy,
// models_loaded true). Its answers are converted by lib/seed.ts (boxes from the 512 x 512 resized
// input to original-image pixels, padding rows dropped, model names to d0-d2), so the in-run output
// checks and goodput read them as native answers. Requests carry the native tags.
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { multipartBody } from '../multipart.ts';
import { imageSize, type ImageSize } from '../image-size.ts';
import { parseSeedAnswer, seedAsInferResponse, seedHealth, seedReady, SEED_FILE_FIELD, type SeedResult } from '../seed.ts';
import { MODEL_NAMES, type HealthResponse } from '../types.ts';
import { planFor } from '../scenarios.ts';
import type { K6Config } from '../k6-config.ts';
import type { LoadedImage } from './dataset.ts';
import type { Exchange, ProtocolClient } from './exchange.ts';
import { checkOutputs } from './output-check.ts';
import { recordAnswer } from './answer-metrics.ts';
import { recordGoodput } from './goodput.ts';
import type { RequestTags } from './tags.ts';

declare const console: { warn(...args: unknown[]): void };

const oneImage = (scenario: string, n: number) => `PROTOCOL=seed sends one image per request (the seed's POST /infer/{impl} takes one "file"), SCENARIO=${scenario} sends up to ${n}: use PROTOCOL=native`;

function abort(msg: string): never {
  exec.test.abort(msg);
  throw new Error(msg);
}

/** Init context: refuses a plan whose requests carry several images (the seed takes one). */
export function seedClient(cfg: K6Config): ProtocolClient {
  const plan = planFor(cfg.scenario, __ENV);
  const most = Math.max(...plan.levels.map((l) => plan.imagesPerRequest(l)));
  if (most > 1) throw new Error(oneImage(cfg.scenario, most));
  /** The models every answer must carry: MODELS, else all three. */
  const expected = cfg.models.length > 0 ? cfg.models : [...MODEL_NAMES];
  const sizes = new Map<string, ImageSize>();
  let warned = 0;

  /** The original size of an image, read from its header once per VU (boxes are scaled back with it). */
  function sizeOf(img: LoadedImage): ImageSize {
    let s = sizes.get(img.id);
    if (!s) {
      s = imageSize(img.bytes) ?? abort(`image ${img.id}: its size cannot be read from its header (not a JPEG, PNG or WebP?); PROTOCOL=seed needs it to scale the seed's 512x512 boxes back`);
      sizes.set(img.id, s);
    }
    return s;
  }

  function gate(): HealthResponse {
    const deadline = Date.now() + cfg.healthWait_s * 1000;
    let last = '';
    for (;;) {
      const res = http.get(`${cfg.target}/health`, { tags: { name: 'GET /health', phase: 'setup' } as Record<string, string>, timeout: '5s' });
      if (res.status === 200) {
        let json: unknown;
        try {
          json = JSON.parse(res.body as string);
        } catch {
          json = undefined;
        }
        const ready = seedReady(json);
        if (ready.ready) {
          const health = seedHealth(json, cfg.impls);
          const missing = cfg.impls.filter((i) => !health.implementations.includes(i));
          if (missing.length > 0) abort(`IMPL=${missing.join(',')} is not served by ${cfg.target}: its /health lists ${health.implementations.join(', ')}`);
          return health;
        }
        last = ready.why;
      } else last = `GET /health answered ${res.status} ${res.error ?? ''}`;
      if (Date.now() > deadline) abort(`target ${cfg.target} (seed API) is not ready after ${cfg.healthWait_s}s: ${last}; start it, or raise HEALTH_WAIT`);
      sleep(1);
    }
  }

  /** The checks of one answer, built once; `current` is the answer being judged. */
  let current: { result: SeedResult | undefined; impl: string } = { result: undefined, impl: '' };
  const CHECKS = {
    'status is 200': (r: RefinedResponse<ResponseType>) => r.status === 200,
    'body is a seed answer of this implementation': () => current.result !== undefined && current.result.implementation === current.impl,
    'detections for every model': () => current.result !== undefined && expected.every((m) => current.result!.models[m] !== undefined),
  };

  function exchange(images: LoadedImage[], tags: RequestTags): Exchange {
    if (images.length !== 1) abort(oneImage(cfg.scenario, images.length));
    const img = images[0]!;
    const size = sizeOf(img);
    const mp = multipartBody([{ field: SEED_FILE_FIELD, filename: img.id, contentType: img.contentType, bytes: img.bytes }]);
    return {
      req: { method: 'POST', url: `${cfg.target}/infer/${tags.impl}`, body: mp.body, params: { headers: { 'Content-Type': mp.contentType, 'X-Image-Id': img.id }, tags: { ...tags, name: `POST /infer/${tags.impl}` }, timeout: '120s' } },
      check(res) {
        if (recordAnswer(res, tags) === 'refused') {
          recordGoodput(res, tags, false);
          return false;
        }
        let result: SeedResult | undefined;
        let error = '';
        if (res.status === 200) {
          try {
            result = parseSeedAnswer(res.json(), size);
          } catch (e) {
            error = (e as Error).message;
          }
        }
        current = { result, impl: tags.impl };
        const ok = check(res, CHECKS, tags);
        if (!ok && warned++ < 5) console.warn(`seed request ${tags.impl} image ${img.id}: status ${res.status}${error ? `, ${error}` : ''}, ${String(res.body ?? res.error).slice(0, 200)}`);
        // The in-run output checks (lib/k6/output-check.ts) on the converted answer; a no-op without REFERENCE.
        const outputsOk = res.status === 200 ? checkOutputs([img.id], result ? seedAsInferResponse(result, img.id, size) : null, tags) : false;
        recordGoodput(res, tags, ok && outputsOk);
        return ok;
      },
    };
  }

  // The seed API runs every model on each request: it cannot serve a mix stream of one model.
  return { gate, exchanges: async (images, tags, only) => (only ? abort('SCENARIO=mix needs requests for one model each, which the seed API cannot ask for (it runs every model): use PROTOCOL=native or v2') : [exchange(images, tags)]) };
}

// The native inference protocol: POST /infer/:impl with one raw image body or multipart `file`
// fields; JSON detections per image per model (raw heads with ?raw=1), plus the server's timings.
import { performance } from 'node:perf_hooks';
import { Router, type RequestHandler } from 'express';
import type { ImageResult, InferResponse } from '../../lib/types.ts';
import type { ServerConfig } from '../config.ts';
import { inferBooked, inferLocals } from '../http/booking.ts';
import type { LoneRequests } from '../http/lone-request.ts';
import { parseFlagParam, parseModelsParam } from '../http/query.ts';
import { uploadReader } from '../http/upload.ts';
import { withWireRaw } from '../http/wire.ts';
import type { DecodedImage } from '../runtime/infer-types.ts';
import type { ImplementationHost } from '../lifecycle.ts';
import { implementationNames } from '../implementations/registry.ts';
import { decodeImage } from '../runtime/decode.ts';

export function nativeRoutes(config: ServerConfig, host: ImplementationHost, booking: RequestHandler, lone: LoneRequests): Router {
  const router = Router();
  const readUploads = uploadReader(config);

  router.post('/infer/:impl', booking, lone.track, async (req, res) => {
    const locals = inferLocals(res);
    const implName = String(req.params.impl);
    locals.impl = implementationNames().includes(implName) ? implName : 'unknown';
    locals.images = 0;
    const impl = host.require(implName);
    const models = parseModelsParam(req.query.models);
    const rawHeads = parseFlagParam(req.query.raw);
    const uploads = await readUploads(req, res);
    locals.images = uploads.length;
    locals.imageIds = uploads.map((u) => u.id ?? '-');
    // A full queue refuses before the decode: a refusal should cost the server next to nothing.
    impl.refuseIfFull?.(models);

    const tDecode = performance.now();
    const inline = lone.inlineDecode(uploads.length);
    const images: DecodedImage[] = await Promise.all(
      uploads.map((u) => decodeImage(u.bytes, { maxPixels: config.maxPixels, inline, ...(u.id !== undefined ? { id: u.id } : {}) })),
    );
    locals.decode_ms = performance.now() - tDecode;

    const { outcome, split } = await inferBooked(res, impl, images, { models, rawHeads });
    const body: InferResponse = {
      implementation: implName,
      ep: host.ep,
      images: outcome.images.map((det, i): ImageResult => {
        const perModel: ImageResult['models'] = {};
        for (const name of models) {
          const d = det.models[name];
          if (d) perModel[name] = withWireRaw(d, rawHeads ? d.raw : undefined);
        }
        // The image objects stay intact: only their pixel buffers may have gone to a worker.
        const s = images[i]!;
        return { ...(s.id !== undefined ? { image_id: s.id } : {}), width: s.width, height: s.height, models: perModel };
      }),
      timing: {
        decode_ms: locals.decode_ms,
        preprocess_ms: outcome.preprocess_ms,
        queue_ms: split.queue_ms,
        infer_ms: outcome.infer_ms,
        total_ms: performance.now() - locals.t0,
      },
    };
    res.json(body);
  });
  return router;
}

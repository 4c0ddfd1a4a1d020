// A fake server of the seed project's API for the tests: exactly the seed's JSON (one entry per model
// named efficientdet_dN, 100 rows zero-padded, 1-based labels, boxes in the 512 x 512 resized input,
// written by lib/seed.ts toSeedAnswer), its /health without `ready` and a torch-style /vram.
// Its detections come from the reference of the image sent (the multipart filename is the image id),
// so good answers pass the output checks; `wrong: 'other-image'` answers every image with the next
// one's detections, `'swapped-models'` labels d0's entry as d1 and d1's as d0. `source: 'fixed'`
// answers a few fixed detections per image instead (no reference needed): a stack of its own whose
// baseline is recorded as the reference (REFERENCE_FROM). `invalid` always answers zero rows only.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from './run.ts';
import { toSeedAnswer, type SeedAnswer } from '../../lib/seed.ts';
import type { ModelName } from '../../lib/types.ts';
import type { ReferenceImage } from '../../lib/accuracy/reference.ts';

export type SeedWrong = 'other-image' | 'swapped-models';

export interface FakeSeed {
  url: string;
  /** Inference requests: the implementation, the multipart field name and filename (the image id). */
  received: { impl: string; field: string; filename: string }[];
  /** GET /health calls answered (the first `loadingPolls` say models_loaded false). */
  healthPolls: () => number;
  close(): Promise<void>;
}

/** Field name and filename of the first part of a multipart body (enough for the seed's one "file"). */
function firstPart(body: Buffer): { field: string; filename: string } | undefined {
  const head = body.subarray(0, Math.min(body.length, 1024)).toString('latin1');
  const m = /Content-Disposition: form-data; name="([^"]*)"(?:; filename="([^"]*)")?/i.exec(head);
  return m ? { field: m[1]!, filename: m[2] ?? '' } : undefined;
}

/** A few detections of an image that depend only on its id and size (source 'fixed'). */
function fixedDetections(id: string, width: number, height: number): ReferenceImage['models'] {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const models: ReferenceImage['models'] = {};
  (['d0', 'd1', 'd2'] as ModelName[]).forEach((m, k) => {
    const x = ((h >> k) % 50) / 100;
    models[m] = {
      boxes: [[x * width, 0.1 * height, (x + 0.4) * width, 0.7 * height], [0.05 * width, (0.2 + x) * height, 0.3 * width, (0.5 + x) * height]],
      scores: [0.8 - k / 10, 0.4], labels: [1 + ((h + k) % 90), 7], num_detections: 2,
    };
  });
  return models;
}

export async function fakeSeed(opts: { reference?: () => string; source?: 'reference' | 'fixed'; sizes?: Record<string, { width: number; height: number }>; wrong?: SeedWrong; loadingPolls?: number } = {}): Promise<FakeSeed> {
  const received: FakeSeed['received'] = [];
  let polls = 0;
  let images: ReferenceImage[] | undefined;
  const load = (): ReferenceImage[] => (images ??= (JSON.parse(readFileSync(opts.reference!(), 'utf8')) as { images: ReferenceImage[] }).images);

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/health') {
      polls++;
      return json(200, { status: 'healthy', models_loaded: polls > (opts.loadingPolls ?? 0), device: 'cpu', gpu_available: false });
    }
    if (path === '/vram') return json(200, { allocated_mb: 123, reserved_mb: 256, max_allocated_mb: 150 });
    const m = /^\/infer\/([^/]+)$/.exec(path);
    if (!m || req.method !== 'POST') return json(404, { detail: 'Not Found' });
    const impl = m[1]!;
    const part = firstPart(Buffer.concat(chunks));
    // FastAPI's answer to a form without its `file` field.
    if (!part || part.field !== 'file') return json(422, { detail: [{ loc: ['body', 'file'], msg: 'Field required', type: 'missing' }] });
    received.push({ impl, ...part });
    const id = part.filename;
    let answer: SeedAnswer;
    if (opts.source === 'fixed') {
      const size = opts.sizes?.[id] ?? { width: 512, height: 512 };
      answer = toSeedAnswer(impl, impl === 'invalid' ? { d0: noDetections, d1: noDetections, d2: noDetections } : fixedDetections(id, size.width, size.height)!, size);
    } else {
      const all = load();
      const i = all.findIndex((x) => x.id === id);
      if (i < 0) return json(400, { detail: `unknown image ${id}` });
      const ref = all[i]!;
      const size = { width: ref.width, height: ref.height };
      let models = opts.wrong === 'other-image' ? all[(i + 1) % all.length]!.models : ref.models;
      if (opts.wrong === 'swapped-models') models = { ...models, d0: models.d1!, d1: models.d0! };
      answer = toSeedAnswer(impl, impl === 'invalid' ? { d0: noDetections, d1: noDetections, d2: noDetections } : models, size);
    }
    json(200, answer);
  };
  const { url, server } = await listen(handler);
  return {
    url: url.replace(/\/$/, ''),
    received,
    healthPolls: () => polls,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const noDetections = { boxes: [], scores: [], labels: [] };

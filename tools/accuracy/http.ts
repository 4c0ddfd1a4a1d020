// Asking a running target for one image's detections over HTTP, in the run's protocol: the native API
// (raw image body, X-Image-Id) or the seed API (multipart "file", answer converted by lib/seed.ts).
// The replay (replay.ts) judges these answers; a reference recorded from a target (reference.ts,
// REFERENCE_FROM) stores them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentTypeOf } from '../../lib/dataset.ts';
import { imageSize, type ImageSize } from '../../lib/image-size.ts';
import { parseSeedAnswer, SEED_FILE_FIELD } from '../../lib/seed.ts';
import type { InferResponse, ModelDetections, ModelName } from '../../lib/types.ts';
import type { Protocol } from '../../lib/v2/config.ts';

export interface HttpAnswer {
  /** The image's original size (the native answer's, or read from the file's header). */
  size: ImageSize;
  models: Partial<Record<ModelName, ModelDetections>>;
}

/** One image's answer from `target`'s implementation `impl`; throws naming the status or what is wrong with the body. */
export async function askTarget(protocol: Protocol, target: string, impl: string, datasetDir: string, file: string, id: string): Promise<HttpAnswer> {
  if (protocol === 'v2') throw new Error('PROTOCOL=v2: the target is asked over the native or the seed API only (a v2 target has no image endpoint of ours)');
  const bytes = readFileSync(join(datasetDir, file));
  const url = `${target}/infer/${encodeURIComponent(impl)}`;
  if (protocol === 'seed') {
    const size = imageSize(bytes);
    if (!size) throw new Error(`${file}: its size cannot be read from its header (not a JPEG, PNG or WebP?)`);
    const form = new FormData();
    form.append(SEED_FILE_FIELD, new Blob([bytes], { type: contentTypeOf(file) }), id);
    const res = await fetch(url, { method: 'POST', headers: { 'X-Image-Id': id }, body: form });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    return { size, models: parseSeedAnswer(JSON.parse(text), size).models };
  }
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentTypeOf(file), 'X-Image-Id': id }, body: bytes });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  const image = (JSON.parse(text) as InferResponse).images?.[0];
  if (!image) throw new Error('response has no images[0]');
  return { size: { width: image.width, height: image.height }, models: image.models };
}

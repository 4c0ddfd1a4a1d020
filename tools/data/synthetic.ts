// `make data`: 50 deterministic 512x512 JPEGs in build/data/synthetic plus manifest.json, which the
// k6 scripts read (k6 cannot list folders). Idempotent: a manifest of the same generator version,
// seed and count whose files all exist means there is nothing to do.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, type DatasetManifest } from '../../lib/dataset.ts';
import { int, knob, readKnob } from '../../lib/knobs.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import { mulberry32 } from '../../lib/rng.ts';

export const GENERATOR_VERSION = 1;
export const DEFAULT_DIR = join('build', 'data', 'synthetic');

export const DATA_KNOBS = {
  count: knob({ env: 'DATA_COUNT', tier: 'expert', default: 50, ...int(1), doc: 'how many synthetic images `make data` writes' }),
};

interface SyntheticManifest extends DatasetManifest {
  generator: { version: number; seed: number; count: number; size: number };
}

/** Seeded, so the same seed always draws the same scenes. */
const rng = mulberry32;

/** A scene of a gradient background with a few boxes and ellipses (object-like blobs), RGB HWC. */
function scene(size: number, seed: number): Buffer {
  const r = rng(seed);
  const px = Buffer.alloc(size * size * 3);
  const c0 = [r() * 255, r() * 255, r() * 255];
  const c1 = [r() * 255, r() * 255, r() * 255];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = (x + y) / (2 * size);
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) px[o + c] = c0[c]! * (1 - t) + c1[c]! * t + (r() - 0.5) * 12;
    }
  }
  const shapes = 3 + Math.floor(r() * 6);
  for (let s = 0; s < shapes; s++) {
    const w = 30 + r() * 200, h = 30 + r() * 200;
    const x0 = r() * (size - w), y0 = r() * (size - h);
    const color = [r() * 255, r() * 255, r() * 255];
    const ellipse = r() < 0.5;
    for (let y = Math.floor(y0); y < y0 + h; y++) {
      for (let x = Math.floor(x0); x < x0 + w; x++) {
        if (ellipse) {
          const dx = (x - x0 - w / 2) / (w / 2), dy = (y - y0 - h / 2) / (h / 2);
          if (dx * dx + dy * dy > 1) continue;
        }
        const o = (y * size + x) * 3;
        for (let c = 0; c < 3; c++) px[o + c] = color[c]!;
      }
    }
  }
  return px;
}

export async function generate(dir = DEFAULT_DIR, count = 50, seed = 20240601, size = 512): Promise<{ created: number; manifest: string }> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const want = { version: GENERATOR_VERSION, seed, count, size };
  if (existsSync(manifestPath)) {
    const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as SyntheticManifest;
    const same = JSON.stringify(old.generator) === JSON.stringify(want);
    if (same && old.images.every((i) => existsSync(join(dir, i.file)) && statSync(join(dir, i.file)).size === i.bytes)) return { created: 0, manifest: manifestPath };
  }
  // sharp only when there is something to write: an up-to-date `make data` need not load it.
  const { default: sharp } = await import('sharp');
  mkdirSync(dir, { recursive: true });
  const images: SyntheticManifest['images'] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const id = `synthetic-${String(i).padStart(4, '0')}`;
    const file = `${id}.jpg`;
    const jpeg = await sharp(scene(size, seed + i), { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(dir, file), jpeg);
    images.push({ id, file, bytes: jpeg.length, width: size, height: size });
    if ((i + 1) % 10 === 0 || i + 1 === count) process.stdout.write(`data: ${i + 1}/${count} images (${Math.round(performance.now() - started)} ms)\n`);
  }
  const manifest: SyntheticManifest = { name: 'synthetic', generator: want, images };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return { created: count, manifest: manifestPath };
}

if (isMain(import.meta.url)) {
  runMain('data', async () => {
    const count = readKnob(DATA_KNOBS.count, process.env);
    const { created, manifest } = await generate(DEFAULT_DIR, count);
    console.log(created === 0 ? `data: ${manifest} is up to date` : `data: wrote ${created} images and ${manifest}`);
  });
}

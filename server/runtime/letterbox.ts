// Letterbox + normalisation: decoded pixels into the [N,3,S,S] float input of one model, in the
// worker threads (and in-process tools through server/index.ts). Every implementation uses these same
// functions, so lossless strategies see byte-identical input tensors. No decoder here: the workers
// load only what letterboxing needs.
import { FastResizeFilter, ResizeFit, Transformer } from '@napi-rs/image';
import type { ModelName } from '../../lib/types.ts';
import type { DecodedImage } from './infer-types.ts';

/** Per-channel normalisation, RGB order: (pixel / pixelScale - mean[c]) / std[c]. */
export interface Normalisation {
  pixelScale: number;
  mean: readonly number[];
  std: readonly number[];
}

/** How an image was placed into the square model input: resized by (scaleX, scaleY), top-left aligned. */
export interface Letterbox {
  /** Resized width and height inside the S x S input (the rest is padding). */
  width: number;
  height: number;
  scaleX: number;
  scaleY: number;
}

/**
 * What decodeImage (decode.ts) + letterboxBatch produce, as a number: stored references and v2 tensor files made
 * with another version are rebuilt, not reused. 1: sharp for both. 2: plain JPEGs through
 * @napi-rs/image (zune-jpeg), the resize through its fastResize. 3: plain JPEGs through libjpeg-turbo.
 */
export const PREPROCESS_VERSION = 3;

/** Where an image of width x height lands in an S x S letterboxed input. */
export function letterboxGeometry(width: number, height: number, size: number): Letterbox {
  const scale = size / Math.max(width, height);
  const w = Math.min(size, Math.max(1, Math.round(width * scale)));
  const h = Math.min(size, Math.max(1, Math.round(height * scale)));
  return { width: w, height: h, scaleX: w / width, scaleY: h / height };
}

/**
 * An image at its letterboxed size for one input size, before normalisation: HWC bytes, RGB (the
 * decoded pixels themselves when no resize was needed) or RGBA (the resizer's output).
 */
interface Resized {
  pixels: Uint8Array;
  channels: 3 | 4;
  box: Letterbox;
}

/**
 * Letterboxing, stage 1: the image resized for an S x S input with a bilinear filter (antialiased when
 * shrinking), aspect kept; stage 2 (placeInto) normalises it into the top-left corner, padding = 0
 * after normalisation (the mean colour). The resize is @napi-rs/image's fastResize (fast_image_resize, SIMD) on RGBA,
 * on libuv's pool, not sharp: libvips is slow at enlarging, and D1/D2 enlarge every image smaller
 * than their 640/768 inputs.
 */
async function resizeForInput(image: Pick<DecodedImage, 'width' | 'height' | 'pixels'>, size: number): Promise<Resized> {
  const box = letterboxGeometry(image.width, image.height, size);
  if (box.width === image.width && box.height === image.height) return { pixels: image.pixels, channels: 3, box };
  const resized = await Transformer.fromRgbaPixels(rgbaOf(image.pixels), image.width, image.height)
    .fastResize({ width: box.width, height: box.height, filter: FastResizeFilter.Bilinear, fit: ResizeFit.Fill })
    .rawPixels();
  if (resized.length !== box.width * box.height * 4) throw new Error(`resize to ${box.width}x${box.height} gave ${resized.length} bytes, expected RGBA`);
  return { pixels: resized, channels: 4, box };
}

/** Letterboxing, stage 2 (this thread): `resized` normalised into `out` (3 x S x S floats at `offset`, NCHW), top-left aligned. */
function placeInto(resized: Resized, size: number, norm: Normalisation, out: Float32Array, offset: number): Letterbox {
  normaliseInto(resized.pixels, resized.box.width, resized.box.height, size, norm, out, offset, resized.channels);
  return resized.box;
}

/** Typed arrays use the platform's byte order; the word paths below put R in the first byte. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The RGBA copy of decoded RGB pixels the resizer takes, made once per pixel buffer (the inputs of
 * D1 and D2 are resized from the same one), one 32-bit store per pixel rather than four byte stores,
 * since it runs over every pixel of every request. The bytes are R, G, B, 255 either way.
 */
const rgbaCache = new WeakMap<Uint8Array, Uint8Array>();
function rgbaOf(rgb: Uint8Array): Uint8Array {
  let rgba = rgbaCache.get(rgb);
  if (rgba) return rgba;
  const n = rgb.length / 3;
  const words = new Uint32Array(n);
  if (LITTLE_ENDIAN) for (let i = 0, j = 0; i < n; i++, j += 3) words[i] = rgb[j]! | (rgb[j + 1]! << 8) | (rgb[j + 2]! << 16) | 0xff000000;
  else for (let i = 0, j = 0; i < n; i++, j += 3) words[i] = (rgb[j]! << 24) | (rgb[j + 1]! << 16) | (rgb[j + 2]! << 8) | 0xff;
  rgba = new Uint8Array(words.buffer);
  rgbaCache.set(rgb, rgba);
  return rgba;
}

/**
 * HWC uint8 (w x h, `channels` bytes per pixel, RGB first) -> CHW float32 in the top-left corner of
 * an S x S plane set; the rest is set to 0. One pass in pixel order (not three strided passes)
 * through a 256-entry table per channel (a lookup, not a multiply-add per value), and only the
 * padding is zeroed, not the whole plane set: it runs over every input value of every model.
 */
export function normaliseInto(
  pixels: Uint8Array,
  w: number,
  h: number,
  size: number,
  norm: Normalisation,
  out: Float32Array,
  offset: number,
  channels: 3 | 4 = 3,
): void {
  const plane = size * size;
  const [r, g, b] = [0, 1, 2].map((c) => channelTable(norm, c)) as [Float32Array, Float32Array, Float32Array];
  for (let c = 0; c < 3; c++) {
    const base = offset + c * plane;
    if (w < size) for (let y = 0; y < h; y++) out.fill(0, base + y * size + w, base + (y + 1) * size);
    out.fill(0, base + h * size, base + plane);
  }
  if (channels === 4 && LITTLE_ENDIAN && pixels.byteOffset % 4 === 0) {
    // RGBA read a word per pixel: one load instead of three byte reads.
    const words = new Uint32Array(pixels.buffer, pixels.byteOffset, w * h);
    for (let y = 0; y < h; y++) {
      let src = y * w;
      for (let d = offset + y * size, end = d + w; d < end; d++, src++) {
        const v = words[src]!;
        out[d] = r[v & 0xff]!;
        out[d + plane] = g[(v >>> 8) & 0xff]!;
        out[d + 2 * plane] = b[(v >>> 16) & 0xff]!;
      }
    }
    return;
  }
  for (let y = 0; y < h; y++) {
    let src = y * w * channels;
    for (let d = offset + y * size, end = d + w; d < end; d++, src += channels) {
      out[d] = r[pixels[src]!]!;
      out[d + plane] = g[pixels[src + 1]!]!;
      out[d + 2 * plane] = b[pixels[src + 2]!]!;
    }
  }
}

/** (x / pixelScale - mean) / std for every byte value x of one channel. */
function channelTable(norm: Normalisation, c: number): Float32Array {
  const a = 1 / (norm.pixelScale * norm.std[c]!);
  const b = -norm.mean[c]! / norm.std[c]!;
  const table = new Float32Array(256);
  for (let x = 0; x < 256; x++) table[x] = x * a + b;
  return table;
}

export async function letterboxBatch(
  images: DecodedImage[],
  size: number,
  norm: Normalisation,
): Promise<{ data: Float32Array; boxes: Letterbox[] }> {
  return placeBatch(await Promise.all(images.map((img) => resizeForInput(img, size))), size, norm);
}

/** Stage 2 of a batch: the resized images normalised into one [N,3,S,S] tensor. */
function placeBatch(resized: Resized[], size: number, norm: Normalisation): { data: Float32Array; boxes: Letterbox[] } {
  const per = 3 * size * size;
  const data = new Float32Array(resized.length * per);
  return { data, boxes: resized.map((r, i) => placeInto(r, size, norm, data, i * per)) };
}

/**
 * The [N,3,S,S] input of one model for a batch: the images' own prepared inputs for this model when
 * they carry them (copied as they are, placed 1:1), else letterboxed from their pixels. A batch is
 * one or the other (the scheduler never mixes requests of different models into one run).
 */
export async function inputBatch(
  images: readonly (Pick<DecodedImage, 'width' | 'height' | 'pixels' | 'inputs'>)[],
  model: ModelName,
  size: number,
  norm: Normalisation,
): Promise<{ data: Float32Array; boxes: Letterbox[] }> {
  const prepared = images.filter((img) => img.inputs !== undefined).length;
  if (prepared === 0) return letterboxBatch(images as DecodedImage[], size, norm);
  const per = 3 * size * size;
  const data = new Float32Array(images.length * per);
  images.forEach((img, i) => {
    const input = img.inputs?.[model];
    if (!input || input.length !== per) throw new Error(`model ${model}: a prepared input of ${per} floats is missing or has ${input?.length ?? 0}`);
    data.set(input, i * per);
  });
  return { data, boxes: images.map(() => letterboxGeometry(size, size, size)) };
}

/** Maps model-input boxes (x1,y1,x2,y2) back to original-image pixels, clipped to the image. */
export function unletterboxBox(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  box: Letterbox,
  width: number,
  height: number,
): [number, number, number, number] {
  const clip = (v: number, max: number) => (v < 0 ? 0 : v > max ? max : v);
  return [
    clip(x1 / box.scaleX, width),
    clip(y1 / box.scaleY, height),
    clip(x2 / box.scaleX, width),
    clip(y2 / box.scaleY, height),
  ];
}

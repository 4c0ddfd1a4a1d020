// Image decoding (called on the main thread, run on libuv's pool) and letterbox + normalisation (worker threads). Every implementation
// uses these same functions, so lossless strategies see byte-identical input tensors.
import { FastResizeFilter, ResizeFit, Transformer } from '@napi-rs/image';
import jpegTurbo from '@julusian/jpeg-turbo';
import sharp, { type Metadata } from 'sharp';
import type { ModelName } from '../../lib/types.ts';
import type { DecodedImage } from '../implementations/types.ts';
import { fastPathJpeg, readJpegHeader, type JpegHeader } from './jpeg-header.ts';

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

/** A bad upload, mapped to a 4xx answer by the HTTP layer. */
export class ImageError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this before decoding them (decompression bombs). */
  maxPixels: number;
  id?: string;
  /**
   * Decode a plain JPEG on the calling thread instead of libuv's thread pool. The hand-off to the pool
   * and back cost more than the decode (stub at concurrency 1, multipart, vegeta: about 650 req/s
   * through the pool, 790 inline) but leaves this thread free for other requests (at concurrency 8:
   * about 1,200 req/s through the pool, 850 inline): the routes ask for it when a request is alone.
   */
  inline?: boolean;
}

/** Larger images go to the pool even when alone: /health and /metrics stay answered during the decode. */
const INLINE_MAX_PIXELS = 4_000_000;

/**
 * What decodeImage + letterboxBatch produce, as a number: stored references and v2 tensor files made
 * with another version are rebuilt, not reused. 1: sharp for both. 2: plain JPEGs through
 * @napi-rs/image (zune-jpeg), the resize through its fastResize. 3: plain JPEGs through libjpeg-turbo.
 */
export const PREPROCESS_VERSION = 3;

const SUPPORTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

/** JPEG, PNG or WebP by their magic bytes; undefined for anything else (sharp then says what it is). */
export function sniffFormat(b: Uint8Array): 'jpeg' | 'png' | 'webp' | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return undefined;
}

/** The slow path's answer for input that is not plainly JPEG/PNG/WebP, or over the pixel limit. */
async function refusal(buffer: Uint8Array, options: DecodeOptions): Promise<ImageError | undefined> {
  let meta: Metadata;
  try {
    meta = await sharp(buffer, { limitInputPixels: false }).metadata();
  } catch (err) {
    return new ImageError(400, 'invalid_image', `not a decodable image: ${shortMessage(err)}`);
  }
  if (!meta.format || !SUPPORTED_FORMATS.has(meta.format)) {
    return new ImageError(415, 'unsupported_image_format', `image format ${meta.format ?? 'unknown'} is not supported; send JPEG, PNG or WebP`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > options.maxPixels) {
    return new ImageError(413, 'image_too_large', `image is ${width}x${height} = ${width * height} pixels, over the limit of ${options.maxPixels} (MAX_PIXELS)`);
  }
  return undefined;
}

/**
 * Decodes JPEG, PNG or WebP once: EXIF orientation applied, alpha dropped, sRGB, 8-bit, HWC RGB.
 * Both decoders run on libuv's pool, so the event loop stays free. Throws ImageError on bad input.
 *
 * Plain JPEGs (fastPathJpeg: 8-bit YCbCr, as stored, no ICC profile, complete, within MAX_PIXELS: what
 * cameras and data sets mostly hold) go straight to libjpeg-turbo's TurboJPEG API
 * (@julusian/jpeg-turbo): 0.66 ms of wall time for a 512x512 JPEG here against 1.50 for @napi-rs/image
 * (zune-jpeg), 2.3 for sharp and 1.41 for Pillow (median of 300). Everything else, and anything it refuses,
 * goes to one sharp pipeline: the format comes from the magic bytes and the pixel limit is sharp's
 * own (checked from the header before decoding); only a refusal pays for a metadata() call, which
 * words it (unsupported format, WxH over MAX_PIXELS, not an image). A given file always takes the
 * same path, so every implementation sees the same pixels.
 */
export async function decodeImage(buffer: Uint8Array, options: DecodeOptions): Promise<DecodedImage> {
  if (buffer.byteLength === 0) throw new ImageError(400, 'empty_body', 'the request carried no image bytes');
  const format = sniffFormat(buffer);
  if (!format) throw (await refusal(buffer, options)) ?? new ImageError(400, 'invalid_image', 'not a JPEG, PNG or WebP image');
  const id = options.id !== undefined ? { id: options.id } : {};
  const header = fastPathHeader(buffer, format, options.maxPixels);
  if (header) {
    const pixels = await fastDecode(buffer, options.inline === true && header.width * header.height <= INLINE_MAX_PIXELS);
    if (pixels && pixels.byteLength === header.width * header.height * 3) return { ...id, width: header.width, height: header.height, pixels };
  }
  try {
    const { data, info } = await sharp(buffer, { limitInputPixels: options.maxPixels, failOn: 'truncated' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { ...id, width: info.width, height: info.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    throw (await refusal(buffer, options)) ?? new ImageError(400, 'invalid_image', `image could not be decoded (truncated or corrupt?): ${shortMessage(err)}`);
  }
}

/** The header of a JPEG the fast decoder takes (fastPathJpeg), else undefined. */
function fastPathHeader(buffer: Uint8Array, format: ReturnType<typeof sniffFormat>, maxPixels: number): JpegHeader | undefined {
  const header = format === 'jpeg' ? readJpegHeader(buffer) : undefined;
  return fastPathJpeg(header, maxPixels) ? header : undefined;
}

/** Which decoder decodeImage() tries first for these bytes: 'fast' (plain JPEG) or 'sharp'. */
export function decoderFor(buffer: Uint8Array, maxPixels: number): 'fast' | 'sharp' {
  return fastPathHeader(buffer, sniffFormat(buffer), maxPixels) ? 'fast' : 'sharp';
}

/**
 * The fast JPEG decoder's RGB pixels, or undefined when it refuses the file (sharp then judges it).
 * TurboJPEG reports a warning (a corrupt scan, say) as an error too, so such a file also goes to sharp.
 */
async function fastDecode(buffer: Uint8Array, inline: boolean): Promise<Uint8Array | undefined> {
  try {
    const src = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const options = { format: jpegTurbo.FORMAT_RGB };
    const { data } = inline ? jpegTurbo.decompressSync(src, options) : await jpegTurbo.decompress(src, options);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch {
    return undefined;
  }
}

function shortMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

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
 * on libuv's pool: 512 -> 768 took 6 ms against sharp's 15 ms here (libvips is slow at enlarging), and
 * D1/D2 enlarge every image smaller than their 640/768 inputs.
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
 * D1 and D2 are resized from the same one), one 32-bit store per pixel: 1.3 ms for 512 x 512 as four
 * byte stores, 0.6 ms this way (medians of 40 in-process). The bytes are R, G, B, 255 either way.
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
 * an S x S plane set; the rest is set to 0. One pass in pixel order through a 256-entry table per
 * channel, and only the padding is zeroed: 768 x 768 RGBA took 4.4 ms as three strided passes with
 * a multiply-add per value and a zeroed plane set, 3.8 ms this way (medians of 50 in-process).
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
    // RGBA read a word per pixel: 768 x 768 took 3.1 ms against 3.9 as three byte reads.
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

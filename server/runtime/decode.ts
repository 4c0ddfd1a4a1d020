// Image decoding: called on the main thread for every upload, run on libuv's pool (or inline for a
// lone request). Every implementation gets its pixels from here, so lossless strategies see the same
// images; letterbox.ts turns them into model inputs in the workers.
import jpegTurbo from '@julusian/jpeg-turbo';
import sharp, { type Metadata } from 'sharp';
import type { DecodedImage } from './infer-types.ts';
import { fastPathJpeg, readJpegHeader, type JpegHeader } from './jpeg-header.ts';

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

interface DecodeOptions {
  /** Refuse images with more pixels than this before decoding them (decompression bombs). */
  maxPixels: number;
  id?: string;
  /**
   * Decode a plain JPEG on the calling thread instead of libuv's thread pool. The hand-off to the pool
   * and back costs more than the decode of a small JPEG, but the pool leaves this thread free for
   * other requests: so the routes ask for it only when a request is alone (http/lone-request.ts).
   */
  inline?: boolean;
}

/** Larger images go to the pool even when alone: /health and /metrics stay answered during the decode. */
const INLINE_MAX_PIXELS = 4_000_000;

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
 * Both decoders run on libuv's pool (unless `inline`), so the event loop stays free. Throws ImageError on bad input.
 *
 * Plain JPEGs (fastPathJpeg: 8-bit YCbCr, as stored, no ICC profile, complete, within MAX_PIXELS: what
 * cameras and data sets mostly hold) go straight to libjpeg-turbo's TurboJPEG API
 * (@julusian/jpeg-turbo), the quickest of the decoders compared (@napi-rs/image's zune-jpeg, sharp,
 * Pillow: docs/harness.md, "Where the per-request cost went"). Everything else, and anything it refuses,
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

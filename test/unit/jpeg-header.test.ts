import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { fastPathJpeg, readJpegHeader } from '../../server/runtime/jpeg-header.ts';
import { decodeImage, decoderFor } from '../../server/runtime/decode.ts';

/** A 48 x 32 JPEG with a gradient (so the two decoders have real pixels to agree on). */
function gradient(width = 48, height = 32): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px.set([(x * 5) % 256, (y * 7) % 256, ((x + y) * 3) % 256], (y * width + x) * 3);
  return px;
}
const jpeg = (s: Sharp) => s.jpeg({ quality: 90 }).toBuffer();
const raw = (w = 48, h = 32) => sharp(gradient(w, h), { raw: { width: w, height: h, channels: 3 } });

test('jpeg header: frame, size, components, EOI; a plain file takes the fast path', async () => {
  const h = readJpegHeader(await jpeg(raw()));
  assert.deepEqual({ ...h }, { frame: 0, precision: 8, height: 32, width: 48, components: 3, rgbIds: false, orientation: 1, icc: false, endsWithEoi: true });
  assert.equal(fastPathJpeg(h, 1e6), true);
  assert.equal(fastPathJpeg(h, 48 * 32 - 1), false, 'over MAX_PIXELS: sharp refuses it with its wording');
  assert.equal(readJpegHeader(await raw().jpeg({ progressive: true }).toBuffer())?.frame, 2);
});

test('jpeg header: rotated, grey, ICC-tagged and cut-off files go to sharp', async () => {
  const rotated = readJpegHeader(await jpeg(raw().withMetadata({ orientation: 6 })));
  assert.equal(rotated?.orientation, 6);
  assert.equal(fastPathJpeg(rotated, 1e6), false);
  const grey = readJpegHeader(await jpeg(raw().toColourspace('b-w')));
  assert.equal(grey?.components, 1);
  assert.equal(fastPathJpeg(grey, 1e6), false);
  const icc = readJpegHeader(await jpeg(raw().withIccProfile('p3')));
  assert.equal(icc?.icc, true);
  assert.equal(fastPathJpeg(icc, 1e6), false);
  const full = await jpeg(raw());
  const cut = readJpegHeader(full.subarray(0, Math.floor(full.length * 0.7)));
  assert.equal(cut?.endsWithEoi, false);
  assert.equal(fastPathJpeg(cut, 1e6), false);
  assert.equal(readJpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00])), undefined, 'markers that run off the end');
  assert.equal(readJpegHeader(Buffer.from('not a jpeg')), undefined);
});

test('decode: the fast path (libjpeg-turbo, fast integer IDCT) gives sharp\'s pixels within rounding; a cut-off JPEG is still refused', async () => {
  const file = await jpeg(raw(64, 48));
  assert.equal(decoderFor(file, 1e6), 'fast');
  const fast = await decodeImage(file, { maxPixels: 1e6, id: 'g' });
  const ref = await sharp(file).raw().toBuffer();
  assert.deepEqual([fast.id, fast.width, fast.height, fast.pixels.length], ['g', 64, 48, ref.length]);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - fast.pixels[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  // TurboJPEG's fast integer IDCT (TJFLAG_FASTDCT; TensorFlow's decode_jpeg default too) against
  // sharp's accurate one: about one level on average.
  assert.ok(sum / ref.length < 1.5 && max <= 8, `mean |diff| ${sum / ref.length}, max ${max}`);
  const cut = file.subarray(0, Math.floor(file.length * 0.7));
  assert.equal(decoderFor(cut, 1e6), 'sharp');
  await assert.rejects(decodeImage(cut, { maxPixels: 1e6 }), (e: Error & { status?: number; code?: string }) => e.status === 400 && e.code === 'invalid_image');
});

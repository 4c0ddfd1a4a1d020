import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeImage, decoderFor, ImageError, sniffFormat } from '../../server/runtime/decode.ts';
import { letterboxBatch, letterboxGeometry, normaliseInto, unletterboxBox } from '../../server/runtime/letterbox.ts';
import { mapError } from '../../server/http/errors.ts';
import { parseModelsParam } from '../../server/http/query.ts';

const NORM = { pixelScale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

test('letterbox geometry keeps the aspect ratio and maps boxes back to original pixels', () => {
  const g = letterboxGeometry(1000, 500, 512);
  assert.deepEqual([g.width, g.height], [512, 256]);
  assert.equal(g.scaleX, 0.512);
  // A box covering the whole resized image maps back to the whole original image, clipped.
  assert.deepEqual(unletterboxBox(0, 0, 512, 256, g, 1000, 500), [0, 0, 1000, 500]);
  assert.deepEqual(unletterboxBox(-5, 100, 600, 400, g, 1000, 500), [0, 100 / 0.512, 1000, 500]);
});

test('normalise: CHW planes, ImageNet maths, padding stays 0', () => {
  const rgb = new Uint8Array([255, 0, 128, 10, 20, 30]); // 2x1 image
  const out = new Float32Array(3 * 3 * 3).fill(9);
  normaliseInto(rgb, 2, 1, 3, NORM, out, 0);
  const expect = (v: number, c: number) => Math.fround((v / 255 - NORM.mean[c]!) / NORM.std[c]!);
  assert.ok(Math.abs(out[0]! - expect(255, 0)) < 1e-6);
  assert.ok(Math.abs(out[1]! - expect(10, 0)) < 1e-6);
  assert.ok(Math.abs(out[9]! - expect(0, 1)) < 1e-6);
  assert.ok(Math.abs(out[18 + 1]! - expect(30, 2)) < 1e-6);
  assert.equal(out[2], 0); // padding column
  assert.equal(out[3], 0); // padding row
});

test('decode: EXIF orientation applied, RGB, alpha dropped; letterbox batch has the right shape', async () => {
  // 40x20 image stored with EXIF orientation 6 (rotate 90 cw) -> decoded as 20x40.
  const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImage(jpeg, { maxPixels: 1e6, id: 'x' });
  assert.deepEqual([img.width, img.height, img.id, img.pixels.length], [20, 40, 'x', 20 * 40 * 3]);
  const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toBuffer();
  const rgba = await decodeImage(png, { maxPixels: 1e6 });
  assert.equal(rgba.pixels.length, 8 * 8 * 3);
  const { data, boxes } = await letterboxBatch([img, rgba], 16, NORM);
  assert.equal(data.length, 2 * 3 * 16 * 16);
  assert.deepEqual([boxes[0]!.width, boxes[0]!.height], [8, 16]);
});

test('decode refuses empty, non-image, truncated, unsupported and over-limit input with the right status', async () => {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const cases: [Uint8Array, number, string][] = [
    [new Uint8Array(0), 400, 'empty_body'],
    [Buffer.from('hello, not an image'), 400, 'invalid_image'],
    [jpeg.subarray(0, jpeg.length >> 1), 400, 'invalid_image'],
    [await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).gif().toBuffer(), 415, 'unsupported_image_format'],
    [jpeg, 413, 'image_too_large'],
  ];
  // Both placements of the fast decoder (libuv's pool, and inline for a lone request) refuse alike.
  for (const inline of [false, true]) {
    for (const [bytes, status, code] of cases) {
      await assert.rejects(decodeImage(bytes, { maxPixels: code === 'image_too_large' ? 1000 : 1e6, inline }), (e: unknown) => {
        assert.ok(e instanceof ImageError, String(e));
        assert.deepEqual([e.status, e.code, inline], [status, code, inline]);
        return true;
      });
    }
  }
});

test('decode inline (a lone request) and in the pool give the same pixels', async () => {
  const jpeg = await sharp({ create: { width: 48, height: 32, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
  assert.equal(decoderFor(jpeg, 1e6), 'fast');
  const pooled = await decodeImage(jpeg, { maxPixels: 1e6 });
  const inline = await decodeImage(jpeg, { maxPixels: 1e6, inline: true });
  assert.deepEqual([inline.width, inline.height], [48, 32]);
  assert.ok(Buffer.from(inline.pixels).equals(Buffer.from(pooled.pixels)), 'the same bytes');
});

test('decode sniffs JPEG, PNG and WebP by their magic bytes and decodes each in one pipeline; a lying header is refused', async () => {
  const base = sharp({ create: { width: 24, height: 16, channels: 3, background: '#336699' } });
  for (const [format, bytes] of [
    ['jpeg', await base.clone().jpeg().toBuffer()],
    ['png', await base.clone().png().toBuffer()],
    ['webp', await base.clone().webp().toBuffer()],
  ] as const) {
    assert.equal(sniffFormat(bytes), format);
    const img = await decodeImage(bytes, { maxPixels: 1e6 });
    assert.deepEqual([img.width, img.height, img.pixels.length], [24, 16, 24 * 16 * 3], format);
  }
  assert.equal(sniffFormat(Buffer.from('GIF89a')), undefined);
  // JPEG magic followed by noise: the fast path fails, the slow path words it as not decodable.
  const liar = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]);
  await assert.rejects(decodeImage(liar, { maxPixels: 1e6 }), (e: unknown) => e instanceof ImageError && e.status === 400 && e.code === 'invalid_image');
});

test('?models parsing keeps D0-D1-D2 order and rejects unknown names', () => {
  assert.deepEqual(parseModelsParam(undefined), ['d0', 'd1', 'd2']);
  assert.deepEqual(parseModelsParam('d2,D0'), ['d0', 'd2']);
  assert.throws(() => parseModelsParam('d0,d7'), /unknown model\(s\) d7; known models are d0, d1, d2/);
  assert.throws(() => parseModelsParam(''), /empty/);
});

test('unknown errors become a 500 without internals', () => {
  const m = mapError(new Error('secret stack detail'));
  assert.equal(m.status, 500);
  assert.ok(!m.detail.includes('secret'));
  assert.equal(mapError({ type: 'entity.too.large', status: 413 }).status, 413);
});

test('letterbox word paths: the RGBA copy keeps R, G, B in order and the word read equals the byte read', async () => {
  // A uniform non-grey image enlarged (the resizer, fed the RGBA copy): every pixel of the box is that
  // colour normalised, so a swapped channel would show.
  const [R, G, B] = [200, 30, 90];
  const rgb = new Uint8Array(5 * 3 * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set([R, G, B], i);
  const { data, boxes } = await letterboxBatch([{ width: 5, height: 3, pixels: rgb }], 16, NORM);
  assert.deepEqual([boxes[0]!.width, boxes[0]!.height], [16, 10]);
  const expect = (v: number, c: number) => Math.fround((v / 255 - NORM.mean[c]!) / NORM.std[c]!);
  for (const [c, v] of [R, G, B].entries()) {
    for (const [x, y] of [[0, 0], [15, 9], [7, 4]] as const) assert.ok(Math.abs(data[c * 256 + y * 16 + x]! - expect(v, c)) < 1e-6, `channel ${c} at ${x},${y}`);
    assert.equal(data[c * 256 + 10 * 16], 0, 'padding row');
  }
  // normaliseInto reads aligned RGBA a word per pixel, unaligned RGBA a byte at a time: the same floats.
  const rgba = new Uint8Array(1 + 7 * 5 * 4);
  for (let i = 1; i < rgba.length; i++) rgba[i] = (i * 37) & 0xff;
  const aligned = new Uint8Array(rgba.subarray(1)); // a copy at offset 0
  const words = new Float32Array(3 * 8 * 8);
  const bytes = new Float32Array(3 * 8 * 8);
  normaliseInto(aligned, 7, 5, 8, NORM, words, 0, 4);
  normaliseInto(rgba.subarray(1), 7, 5, 8, NORM, bytes, 0, 4);
  assert.deepEqual(words, bytes);
  assert.ok(words.some((v) => v !== 0));
});

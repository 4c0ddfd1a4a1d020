// A seeded generator of malformed inference requests, as raw HTTP/1.1 bytes (so a request may lie
// about its Content-Length or carry headers fetch would refuse). The same seed gives the same
// requests. Every request is one the server must answer with a 4xx (or a 2xx where the input is odd
// but valid), never a 5xx, a crash or a hang. Kinds: broken multipart, lying Content-Length,
// truncated and corrupted JPEG/PNG/WebP, huge declared dimensions, odd headers and paths, random
// bytes, and v2 (Open Inference Protocol) tensors with wrong shapes, byte counts and headers.

import { mulberry32 } from '../../lib/rng.ts';

export interface MalformedRequest {
  /** Kind and variant, e.g. "truncated-image png at 37%". */
  name: string;
  /** The whole request as sent: request line, headers, body (may disagree with its headers). */
  bytes: Buffer;
  /** The client stops sending after these bytes (a lying Content-Length then leaves the server waiting for more). */
  halfClose: boolean;
}

export interface Seeds {
  jpeg: Buffer;
  png: Buffer;
  webp: Buffer;
}

/** Variants are picked reproducibly from the suite's one seeded PRNG. */
export const rng = mulberry32;

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function request(method: string, path: string, headers: [string, string][], body: Buffer, opts: { contentLength?: number | null } = {}): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  // null: no Content-Length at all; undefined: the true one.
  if (opts.contentLength !== null) lines.push(`Content-Length: ${opts.contentLength ?? body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

const IMAGE_TYPES = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const;

function multipart(boundary: string, parts: { name: string; filename?: string; type?: string; body: Buffer }[], close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`, 'latin1'), p.body, Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** A PNG whose IHDR declares width x height, with a tiny (wrong) image data chunk. */
function pngHeader(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

/** The JPEG with its first SOF marker's dimensions replaced. */
function jpegWithSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; i++) {
    if (out[i] === 0xff && (out[i + 1] === 0xc0 || out[i + 1] === 0xc2)) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
  }
  return out;
}

type Maker = (r: Rand, s: Seeds, impl: string) => MalformedRequest;

const MAKERS: Record<string, Maker> = {
  'broken-multipart': (r, s, impl) => {
    const good = multipart('b0und', [{ name: 'file', filename: 'x.jpg', type: 'image/jpeg', body: s.jpeg }]);
    const variant = pick(r, ['other boundary', 'no boundary param', 'no closing delimiter', 'cut mid-part', 'no file field', 'two boundaries', 'garbage preamble only', 'empty boundary']);
    const ct = (b: string) => [['Content-Type', `multipart/form-data; boundary=${b}`]] as [string, string][];
    const path = `/infer/${impl}`;
    switch (variant) {
      case 'other boundary':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, ct('different'), good), halfClose: false };
      case 'no boundary param':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, [['Content-Type', 'multipart/form-data']], good), halfClose: false };
      case 'no closing delimiter':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, ct('b0und'), multipart('b0und', [{ name: 'file', filename: 'x.jpg', type: 'image/jpeg', body: s.jpeg }], false)), halfClose: false };
      case 'cut mid-part':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, ct('b0und'), good.subarray(0, int(r, 10, good.length - 10))), halfClose: false };
      case 'no file field':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, ct('b0und'), multipart('b0und', [{ name: 'other', body: Buffer.from('x') }])), halfClose: false };
      case 'two boundaries':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, [['Content-Type', 'multipart/form-data; boundary=a; boundary=b0und']], good), halfClose: false };
      case 'garbage preamble only':
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, ct('b0und'), Buffer.from('this is not multipart at all')), halfClose: false };
      default:
        return { name: `broken-multipart ${variant}`, bytes: request('POST', path, [['Content-Type', 'multipart/form-data; boundary=']], good), halfClose: false };
    }
  },
  'lying-content-length': (r, s, impl) => {
    const longer = r() < 0.5;
    const cl = longer ? s.jpeg.length + int(r, 1, 5000) : int(r, 0, s.jpeg.length - 1);
    // Longer than sent: the client half-closes, the server sees the body end early. Shorter: the rest
    // of the body arrives where the next request should start.
    return { name: `lying-content-length ${longer ? 'longer' : 'shorter'} ${cl} vs ${s.jpeg.length}`, bytes: request('POST', `/infer/${impl}`, [['Content-Type', 'image/jpeg']], s.jpeg, { contentLength: cl }), halfClose: longer };
  },
  'truncated-image': (r, s, impl) => {
    const fmt = pick(r, ['jpeg', 'png', 'webp'] as const);
    const img = s[fmt];
    const at = int(r, 0, img.length - 1);
    return { name: `truncated-image ${fmt} at ${at}/${img.length}`, bytes: request('POST', `/infer/${impl}`, [['Content-Type', IMAGE_TYPES[fmt]]], img.subarray(0, at)), halfClose: false };
  },
  'corrupted-image': (r, s, impl) => {
    const fmt = pick(r, ['jpeg', 'png', 'webp'] as const);
    const img = Buffer.from(s[fmt]);
    const flips = int(r, 1, 64);
    // Headers first: a corrupted header is the interesting case; the rest anywhere.
    for (let i = 0; i < flips; i++) img[r() < 0.5 ? int(r, 0, Math.min(64, img.length - 1)) : int(r, 0, img.length - 1)] = int(r, 0, 255);
    return { name: `corrupted-image ${fmt} ${flips} byte(s)`, bytes: request('POST', `/infer/${impl}`, [['Content-Type', pick(r, [IMAGE_TYPES[fmt], 'application/octet-stream'])]], img), halfClose: false };
  },
  'huge-dimensions': (r, s, impl) => {
    if (r() < 0.5) {
      const w = pick(r, [100_000, 65_535, 1, 0x7fffffff, 50_000]);
      const h = pick(r, [100_000, 65_535, 1, 0x7fffffff, 1]);
      return { name: `huge-dimensions png ${w}x${h}`, bytes: request('POST', `/infer/${impl}`, [['Content-Type', 'image/png']], pngHeader(w, h)), halfClose: false };
    }
    const w = pick(r, [65_535, 30_000, 0]);
    const h = pick(r, [65_535, 30_000, 1]);
    return { name: `huge-dimensions jpeg ${w}x${h}`, bytes: request('POST', `/infer/${impl}`, [['Content-Type', 'image/jpeg']], jpegWithSize(s.jpeg, w, h)), halfClose: false };
  },
  'odd-headers': (r, s, impl) => {
    const variant = pick(r, ['bogus content-type', 'no content-type', 'control chars in X-Image-Id', 'huge X-Image-Id', 'unknown model', 'empty models', 'unknown implementation', 'wrong method', 'chunked and content-length', 'bad chunk size', 'non-ascii path', 'empty body', 'image/svg+xml', 'text/plain']);
    const path = `/infer/${impl}`;
    const n = `odd-headers ${variant}`;
    switch (variant) {
      case 'bogus content-type':
        return { name: n, bytes: request('POST', path, [['Content-Type', '%%%;;==']], s.jpeg), halfClose: false };
      case 'no content-type':
        return { name: n, bytes: request('POST', path, [], s.jpeg), halfClose: false };
      case 'control chars in X-Image-Id':
        return { name: n, bytes: request('POST', path, [['Content-Type', 'image/jpeg'], ['X-Image-Id', 'a\x01b\x7f\tc']], s.jpeg), halfClose: false };
      case 'huge X-Image-Id':
        return { name: n, bytes: request('POST', path, [['Content-Type', 'image/jpeg'], ['X-Image-Id', 'x'.repeat(int(r, 1000, 12000))]], s.jpeg), halfClose: false };
      case 'unknown model':
        return { name: n, bytes: request('POST', `${path}?models=d9,${'z'.repeat(int(r, 1, 300))}`, [['Content-Type', 'image/jpeg']], s.jpeg), halfClose: false };
      case 'empty models':
        return { name: n, bytes: request('POST', `${path}?models=&raw=maybe`, [['Content-Type', 'image/jpeg']], s.jpeg), halfClose: false };
      case 'unknown implementation':
        return { name: n, bytes: request('POST', `/infer/${'%00x'.repeat(int(r, 1, 4))}`, [['Content-Type', 'image/jpeg']], s.jpeg), halfClose: false };
      case 'wrong method':
        return { name: n, bytes: request(pick(r, ['PUT', 'DELETE', 'PATCH', 'GET']), path, [['Content-Type', 'image/jpeg']], s.jpeg), halfClose: false };
      case 'chunked and content-length':
        return { name: n, bytes: request('POST', path, [['Content-Type', 'image/jpeg'], ['Transfer-Encoding', 'chunked']], Buffer.from('5\r\nhello\r\n0\r\n\r\n')), halfClose: false };
      case 'bad chunk size':
        return { name: n, bytes: request('POST', path, [['Content-Type', 'image/jpeg'], ['Transfer-Encoding', 'chunked']], Buffer.from('zz\r\nhello\r\n0\r\n\r\n'), { contentLength: null }), halfClose: false };
      case 'non-ascii path':
        return { name: n, bytes: request('POST', `/infer/\u00e9\u00e8`, [['Content-Type', 'image/jpeg']], s.jpeg), halfClose: false };
      case 'empty body':
        return { name: n, bytes: request('POST', path, [['Content-Type', 'image/jpeg']], Buffer.alloc(0)), halfClose: false };
      default:
        return { name: n, bytes: request('POST', path, [['Content-Type', variant]], s.png), halfClose: false };
    }
  },
  'random-bytes': (r, _s, impl) => {
    const body = Buffer.alloc(int(r, 1, 4096));
    for (let i = 0; i < body.length; i++) body[i] = int(r, 0, 255);
    return { name: `random-bytes ${body.length}`, bytes: request('POST', `/infer/${impl}`, [['Content-Type', pick(r, ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'])]], body), halfClose: false };
  },
  // ==== v2 EXTENSION POINT: Open Inference Protocol tensors (see V2_MAKERS below) ====
};

/** v2 tensors: wrong shapes, byte counts, datatypes, header lengths and JSON, on /v2/models/.../infer. */
const V2_MAKERS: Record<string, Maker> = {
  'v2-tensor': (r, s, impl) => {
    const model = pick(r, ['efficientdet-d0', 'pipeline']);
    const path = `/v2/models/${model}/versions/${impl}/infer`;
    const variant = pick(r, ['wrong shape', 'byte count short', 'byte count long', 'wrong datatype', 'header length past body', 'header length not a number', 'broken JSON', 'JSON data wrong count', 'no inputs', 'negative dims', 'huge dims', 'unknown input', 'bytes element length lies']);
    const n = `v2-tensor ${model} ${variant}`;
    const binary = (head: unknown, data: Buffer, headerLength?: string) => {
      const h = Buffer.from(JSON.stringify(head), 'latin1');
      return request('POST', path, [['Content-Type', 'application/octet-stream'], ['Inference-Header-Content-Length', headerLength ?? String(h.length)]], Buffer.concat([h, data]));
    };
    const json = (body: string) => request('POST', path, [['Content-Type', 'application/json']], Buffer.from(body, 'latin1'));
    const input = (shape: number[], datatype: string, bytes: number) => ({ inputs: [{ name: model === 'pipeline' ? 'image' : 'images', datatype, shape, parameters: { binary_data_size: bytes } }] });
    const S = 512;
    const full = 3 * S * S * 4;
    switch (variant) {
      case 'wrong shape':
        return { name: n, bytes: binary(input([1, 3, int(r, 1, 64), int(r, 1, 64)], 'FP32', 4096), Buffer.alloc(4096)), halfClose: false };
      case 'byte count short':
        return { name: n, bytes: binary(input([1, 3, S, S], 'FP32', full), Buffer.alloc(int(r, 0, 4096))), halfClose: false };
      case 'byte count long':
        return { name: n, bytes: binary(input([1, 3, 8, 8], 'FP32', 100), Buffer.alloc(int(r, 200, 4096))), halfClose: false };
      case 'wrong datatype':
        return { name: n, bytes: binary(input([1], pick(r, ['INT8', 'FP64', 'BOOL', 'NOPE']), 16), Buffer.alloc(16)), halfClose: false };
      case 'header length past body':
        return { name: n, bytes: binary(input([1], 'BYTES', 8), Buffer.alloc(8), String(int(r, 10_000, 1_000_000))), halfClose: false };
      case 'header length not a number':
        return { name: n, bytes: binary(input([1], 'BYTES', 8), Buffer.alloc(8), pick(r, ['-1', 'abc', '1e3', ''])), halfClose: false };
      case 'broken JSON':
        return { name: n, bytes: json(pick(r, ['{', '{"inputs": [}', 'null', '[]', '{"inputs": 5}', '"x"'])), halfClose: false };
      case 'JSON data wrong count':
        return { name: n, bytes: json(JSON.stringify({ inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 3, 2, 2], data: [1, 2, 3] }] })), halfClose: false };
      case 'no inputs':
        return { name: n, bytes: json(JSON.stringify({ inputs: [] })), halfClose: false };
      case 'negative dims':
        return { name: n, bytes: json(JSON.stringify({ inputs: [{ name: 'images', datatype: 'FP32', shape: [-1, 3, S, S], data: [] }] })), halfClose: false };
      case 'huge dims':
        return { name: n, bytes: binary(input([1_000_000, 3, 65_535, 65_535], 'FP32', 16), Buffer.alloc(16)), halfClose: false };
      case 'unknown input':
        return { name: n, bytes: json(JSON.stringify({ inputs: [{ name: 'nope', datatype: 'FP32', shape: [1], data: [1] }] })), halfClose: false };
      default: {
        // A BYTES element whose 4-byte length claims more than follows.
        const el = Buffer.alloc(4 + 16);
        el.writeUInt32LE(int(r, 17, 1_000_000), 0);
        s.jpeg.copy(el, 4, 0, 16);
        return { name: n, bytes: binary(input([1], 'BYTES', el.length), el), halfClose: false };
      }
    }
  },
};

/**
 * `count` malformed requests for implementation `impl`, reproducible from `seed`. `v2` adds the
 * Open Inference Protocol tensor cases (only where the server has the v2 routes).
 */
export function malformedRequests(seed: number, count: number, seeds: Seeds, opts: { impl: string; v2?: boolean }): MalformedRequest[] {
  const r = rng(seed);
  const makers = Object.values({ ...MAKERS, ...(opts.v2 ? V2_MAKERS : {}) });
  return Array.from({ length: count }, () => pick(r, makers)(r, seeds, opts.impl));
}

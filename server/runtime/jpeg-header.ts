// Reads a JPEG's markers up to the first scan (a few hundred bytes, no pixels): frame type, precision,
// components, size, EXIF orientation, colour profile and Adobe transform, and whether the file ends
// with its end-of-image marker. The decoder (decode.ts) uses it to choose its fast path only for
// files that path decodes exactly as sharp would treat them; anything else goes to sharp.

export interface JpegHeader {
  /** SOF marker number: 0 baseline, 1 extended, 2 progressive (Huffman); others are rarer codings. */
  frame: number;
  precision: number;
  components: number;
  width: number;
  height: number;
  /** EXIF orientation (1 = as stored); 1 without EXIF. */
  orientation: number;
  /** An embedded ICC profile (APP2 ICC_PROFILE): sharp converts it to sRGB. */
  icc: boolean;
  /** Adobe APP14 colour transform (0 none = RGB/CMYK, 1 YCbCr, 2 YCCK); undefined without APP14. */
  adobeTransform?: number;
  /** Component ids 'R','G','B': libjpeg reads such a file as RGB, not YCbCr. */
  rgbIds: boolean;
  /** The last two bytes are the EOI marker (FF D9): a cut-off file lacks it. */
  endsWithEoi: boolean;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function exifOrientation(b: Uint8Array, start: number, end: number): number {
  // "Exif\0\0" then a TIFF header: byte order, 42, offset of IFD0.
  if (end - start < 14 || b[start] !== 0x45 || b[start + 1] !== 0x78 || b[start + 2] !== 0x69 || b[start + 3] !== 0x66) return 1;
  const t = start + 6;
  const little = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!little && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return 1;
  const u16 = (o: number) => (o + 2 > end ? -1 : little ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!);
  const u32 = (o: number) => (o + 4 > end ? -1 : little ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000 : b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!));
  const ifd = u32(t + 4);
  if (ifd < 0) return 1;
  const entries = u16(t + ifd);
  for (let i = 0; i < entries; i++) {
    const e = t + ifd + 2 + i * 12;
    if (e + 12 > end) return 1;
    if (u16(e) === 0x0112) return u16(e + 8);
  }
  return 1;
}

/** The header of a JPEG (starting FF D8), or undefined when its markers cannot be walked to a frame. */
export function readJpegHeader(b: Uint8Array): JpegHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let orientation = 1;
  let icc = false;
  let adobeTransform: number | undefined;
  let frame: Omit<JpegHeader, 'orientation' | 'icc' | 'adobeTransform' | 'endsWithEoi'> | undefined;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // standalone markers
      continue;
    }
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    if (len < 2 || p + 2 + len > b.length) return undefined;
    const start = p + 4;
    const end = p + 2 + len;
    if (marker === 0xda) break; // start of scan: the header is over
    if (marker === 0xe1) orientation = exifOrientation(b, start, end);
    else if (marker === 0xe2 && len >= 14 && String.fromCharCode(...b.subarray(start, start + 11)) === 'ICC_PROFILE') icc = true;
    else if (marker === 0xee && len >= 14 && String.fromCharCode(...b.subarray(start, start + 5)) === 'Adobe') adobeTransform = b[start + 11];
    else if (SOF_MARKERS.has(marker) && len >= 8) {
      frame = { frame: marker - 0xc0, precision: b[start]!, height: (b[start + 1]! << 8) | b[start + 2]!, width: (b[start + 3]! << 8) | b[start + 4]!, components: b[start + 5]!, rgbIds: len >= 17 && b[start + 6] === 0x52 && b[start + 9] === 0x47 && b[start + 12] === 0x42 };
    }
    p = end;
  }
  if (!frame) return undefined;
  const endsWithEoi = b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
  return { ...frame, orientation, icc, ...(adobeTransform !== undefined ? { adobeTransform } : {}), endsWithEoi };
}

/**
 * True when the fast decoder gives what the sharp pipeline would: 8-bit YCbCr (3 components, no
 * Adobe RGB/YCCK transform), Huffman-coded baseline, extended or progressive, as stored (orientation
 * 1), no ICC profile to convert, a complete file, and within the pixel limit.
 */
export function fastPathJpeg(h: JpegHeader | undefined, maxPixels: number): h is JpegHeader {
  return (
    h !== undefined &&
    h.frame <= 2 &&
    h.precision === 8 &&
    h.components === 3 &&
    (h.adobeTransform === undefined || h.adobeTransform === 1) &&
    !h.rgbIds &&
    h.orientation === 1 &&
    !h.icc &&
    h.endsWithEoi &&
    h.width > 0 &&
    h.height > 0 &&
    h.width * h.height <= maxPixels
  );
}

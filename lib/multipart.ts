// multipart/form-data body with several parts of the same field name (k6's object form cannot
// repeat a field). Pure TypeScript: headers are ASCII, so no TextEncoder is needed in k6.

interface FilePart {
  field: string;
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) throw new Error(`multipart: non-ASCII character in header text ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

/** Builds the body and its Content-Type; the boundary is fixed per call so bodies are reproducible. */
export function multipartBody(parts: FilePart[], boundary = '----multidet-bench-boundary-7d3c1f'): { body: ArrayBuffer; contentType: string } {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    chunks.push(ascii(`--${boundary}\r\nContent-Disposition: form-data; name="${p.field}"; filename="${p.filename}"\r\nContent-Type: ${p.contentType}\r\n\r\n`));
    chunks.push(p.bytes);
    chunks.push(ascii('\r\n'));
  }
  chunks.push(ascii(`--${boundary}--\r\n`));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return { body: out.buffer, contentType: `multipart/form-data; boundary=${boundary}` };
}

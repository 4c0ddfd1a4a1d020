// A few hundred malformed requests from the seeded generator (test/helpers/malformed.ts) against the
// real server: none is answered 5xx, the server does not crash or hang, /health stays ready, and a
// valid request afterwards gets the same answer as before the barrage. MALFORMED_SEED and
// MALFORMED_COUNT reproduce or widen a run; a failure names the seed and the request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import sharp from 'sharp';
import type { HealthResponse, InferResponse } from '../../lib/types.ts';
import { malformedRequests, type MalformedRequest } from '../helpers/malformed.ts';
import { spawnServer, testJpeg, waitFor, type Spawned } from './server-helpers.ts';

const SEED = Number(process.env['MALFORMED_SEED'] ?? 14);
const COUNT = Number(process.env['MALFORMED_COUNT'] ?? 300);
let server: Spawned;
let port: number;
let jpeg: Buffer;

before(async () => {
  jpeg = await testJpeg(160, 120);
  server = await spawnServer({ IMPL: 'invalid,baseline', MAX_BODY_MB: '2', REQUEST_TIMEOUT: '3s', HEADERS_TIMEOUT: '2s', LOG_LEVEL: 'info' });
  port = Number(new URL(server.url).port);
  await waitFor(server, () => / ready http/.test(server.stdout()), 240_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

/** Sends the raw bytes; resolves with the status of the first answer (null: the connection closed without one). */
function send(m: MalformedRequest): Promise<{ status: number | null; head: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: status ? Number(status[1]) : null, head: text.slice(0, 300) });
    };
    const timer = setTimeout(done, 15_000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (/\r\n\r\n/.test(text) && (/^HTTP\/1\.1 \d{3}[\s\S]*\r\n\r\n[\s\S]*\}/.test(text) || !/content-type: application\/json/i.test(text))) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(m.bytes, () => {
      if (m.halfClose) socket.end();
    });
  });
}

async function inferBaseline(): Promise<InferResponse> {
  const res = await fetch(`${server.url}/infer/baseline?models=d0`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg', 'x-image-id': 'valid' } });
  assert.equal(res.status, 200);
  return (await res.json()) as InferResponse;
}

test(`${COUNT} malformed requests (seed ${SEED}): no 5xx, no crash, ready after, and a valid request answered as before`, async (t) => {
  const before = await inferBaseline();
  const seeds = { jpeg, png: await sharp(jpeg).png().toBuffer(), webp: await sharp(jpeg).webp().toBuffer() };
  // Mostly the stub (it decodes like the others but runs no model), a tenth on baseline's queue and models.
  const requests = [
    ...malformedRequests(SEED, Math.round(COUNT * 0.9), seeds, { impl: 'invalid', v2: true }),
    ...malformedRequests(SEED + 1, Math.round(COUNT * 0.1), seeds, { impl: 'baseline', v2: true }),
  ];
  const results: { m: MalformedRequest; status: number | null; head: string }[] = [];
  // Four at a time: concurrent bad input, and a run of a few minutes at most on a busy CPU.
  for (let i = 0; i < requests.length; i += 4) {
    const batch = requests.slice(i, i + 4);
    results.push(...(await Promise.all(batch.map(async (m) => ({ m, ...(await send(m)) })))));
  }
  const byKind = new Map<string, Map<string, number>>();
  for (const r of results) {
    const kind = r.m.name.split(' ')[0]!;
    const m = byKind.get(kind) ?? new Map<string, number>();
    m.set(String(r.status ?? 'closed'), (m.get(String(r.status ?? 'closed')) ?? 0) + 1);
    byKind.set(kind, m);
  }
  for (const [kind, m] of byKind) t.diagnostic(`${kind}: ${[...m].map(([s, n]) => `${s} x${n}`).join(', ')}`);
  const fivexx = results.filter((r) => r.status !== null && r.status >= 500);
  assert.deepEqual(fivexx.map((r) => `${r.m.name}: ${r.head}`), [], `seed ${SEED}: 5xx answers`);
  // Without an answer only where the client itself hung up mid-body.
  const unanswered = results.filter((r) => r.status === null && !r.m.halfClose);
  assert.deepEqual(unanswered.map((r) => r.m.name), [], `seed ${SEED}: requests left without an answer`);
  const kinds = new Set(results.map((r) => r.m.name.split(' ')[0]));
  assert.ok(kinds.size >= 8, `every kind was sent: ${[...kinds].join(', ')}`);
  assert.ok(results.filter((r) => r.status !== null && r.status >= 400 && r.status < 500).length > COUNT / 2, 'most were refused with a 4xx');

  assert.equal(server.child.exitCode, null, 'the server is still running');
  const health = (await (await fetch(`${server.url}/health`)).json()) as HealthResponse;
  assert.equal(health.ready, true);
  const afterwards = await inferBaseline();
  // Detections equal; only the timing differs.
  const detections = (r: InferResponse) => r.images.map((img) => ({ ...img, models: Object.fromEntries(Object.entries(img.models).map(([k, { inference_ms: _t, ...d }]) => [k, d])) }));
  assert.deepEqual(detections(afterwards), detections(before), 'the same answer as before the malformed requests');
  assert.doesNotMatch(await (await fetch(`${server.url}/metrics`)).text(), /nv_inference_request_failure\{[^}]*status="5\d\d"[^}]*reason="(?!queue_|upload_limit|not_ready|shutting_down)/);
});

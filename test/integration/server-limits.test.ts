// The server always lets the client read its answer, and slow or greedy clients cannot hold it: an
// oversized upload gets the 413 JSON every time (Node's fetch and a raw socket, declared and chunked
// bodies, one far over the drain cap), a client trickling its headers is dropped, and uploads in
// flight together are bounded (503 upload_limit). The stub implementation serves: no models needed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { ErrorResponse } from '../../lib/types.ts';
import { spawnServer, waitFor, type Spawned } from './server-helpers.ts';

const MB = 1024 * 1024;
let server: Spawned;
let port: number;

before(async () => {
  server = await spawnServer({ IMPL: 'invalid', MAX_BODY_MB: '1', MAX_INFLIGHT_UPLOAD_MB: '1.5', MAX_DRAIN_MB: '8', HEADERS_TIMEOUT: '1500ms', LOG_LEVEL: 'info' });
  port = Number(new URL(server.url).port);
  await waitFor(server, () => / ready http/.test(server.stdout()), 120_000, "the 'ready' line");
});

after(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

/** Stub requests in flight as /metrics counts them (a request's upload reservation is taken before it
 * is counted, and given back when its response closes, as its count is). */
async function inFlight(): Promise<number> {
  return Number(/^nv_inference_inflight_requests\{impl="invalid"\} (\S+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
}

/** Waits until `inFlight()` is `n`. */
async function inFlightReaches(n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let now = await inFlight(); now !== n; now = await inFlight()) {
    if (Date.now() > deadline) assert.fail(`${now} stub request(s) in flight after 30 s, waiting for ${n}`);
  }
}

/** Opens a raw connection; `answer` resolves with everything the server sent once it closes or `until` matches. */
function rawClient(until: RegExp = /\r\n\r\n[\s\S]*\}$/): { socket: Socket; answer: Promise<{ text: string; closed: boolean; error?: string }> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  const answer = new Promise<{ text: string; closed: boolean; error?: string }>((resolve) => {
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (until.test(text)) resolve({ text, closed: false });
    });
    socket.on('error', (e) => resolve({ text, closed: true, error: e.message }));
    socket.on('close', () => resolve({ text, closed: true }));
  });
  return { socket, answer };
}

function assert413(text: string, what: string): void {
  assert.match(text, /^HTTP\/1\.1 413 /, `${what}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as ErrorResponse;
  assert.equal(body.error, 'body_too_large', what);
}

test('50 oversized uploads in a row through fetch: each gets the 413 JSON, never a reset', async () => {
  const body = new Uint8Array(2 * MB);
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${server.url}/infer/invalid`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(res.status, 413, `upload ${i}`);
    assert.equal(((await res.json()) as ErrorResponse).error, 'body_too_large', `upload ${i}`);
  }
});

test('oversized uploads through a raw socket: declared length, chunked, and far over the drain cap', async () => {
  for (let i = 0; i < 10; i++) {
    const { socket, answer } = rawClient();
    socket.write(`POST /infer/invalid HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${2 * MB}\r\n\r\n`);
    socket.write(Buffer.alloc(2 * MB));
    const a = await answer;
    assert413(a.text, `raw upload ${i}`);
    socket.destroy();
  }
  // No Content-Length: the limit trips while reading; the answer still reaches the client.
  {
    const { socket, answer } = rawClient();
    socket.write(`POST /infer/invalid HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let k = 0; k < 32; k++) socket.write(`10000\r\n${'a'.repeat(0x10000)}\r\n`);
    socket.write('0\r\n\r\n');
    assert413((await answer).text, 'chunked');
    socket.destroy();
  }
  // 20 MB against a drain cap of 8 MB: the server stops reading, but only closes after the client had the answer.
  {
    const { socket, answer } = rawClient();
    socket.on('error', () => {});
    socket.write(`POST /infer/invalid HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${20 * MB}\r\n\r\n`);
    for (let k = 0; k < 20; k++) socket.write(Buffer.alloc(MB));
    assert413((await answer).text, 'over the drain cap');
    socket.destroy();
  }
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
});

test('a body drained within the cap leaves the connection usable: a second request on the same socket is answered', async () => {
  const { socket, answer } = rawClient(/\}[\s\S]*\r\n\r\n[\s\S]*\}$/);
  socket.write(`POST /infer/invalid HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${2 * MB}\r\n\r\n`);
  socket.write(Buffer.alloc(2 * MB));
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  const a = await answer;
  assert.match(a.text, /^HTTP\/1\.1 413 [\s\S]*HTTP\/1\.1 200 /, a.text.slice(0, 400));
  socket.destroy();
});

test('a client trickling its headers is answered 408 and dropped after HEADERS_TIMEOUT', async () => {
  const { socket, answer } = rawClient(/$^/);
  socket.write('POST /infer/invalid HTTP/1.1\r\nHost: x\r\n');
  const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 300);
  const started = Date.now();
  let guard: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([answer, new Promise<'still open'>((r) => (guard = setTimeout(() => r('still open'), 15_000)))]);
  clearTimeout(guard); // or the file's process lives on 15 s after its last test
  clearInterval(trickle);
  socket.destroy();
  assert.notEqual(outcome, 'still open', 'the slow client was dropped');
  if (outcome !== 'still open') {
    assert.ok(outcome.closed);
    assert.match(outcome.text, /^HTTP\/1\.1 408 /);
  }
  assert.ok(Date.now() - started >= 1000, 'not before the timeout');
  assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the server still serves');
});

test('uploads in flight are bounded: past MAX_INFLIGHT_UPLOAD_MB a request gets 503 upload_limit with Retry-After', async () => {
  const idle = await inFlight();
  // A slow client holds a reservation of 1,000,000 bytes (its declared body) while it sends nothing more.
  const { socket: slow } = rawClient();
  slow.on('error', () => {});
  slow.write(`POST /infer/invalid HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n`);
  slow.write(Buffer.alloc(1000));
  await inFlightReaches(idle + 1);
  const res = await fetch(`${server.url}/infer/invalid`, { method: 'POST', body: new Uint8Array(800_000), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
  const body = (await res.json()) as ErrorResponse;
  assert.equal(body.error, 'upload_limit');
  assert.match(body.detail, /MAX_INFLIGHT_UPLOAD_MB=1\.5/);
  // The reservation ends with its request: the same upload is then read (and refused as not an image).
  slow.destroy();
  await inFlightReaches(idle);
  const again = await fetch(`${server.url}/infer/invalid`, { method: 'POST', body: new Uint8Array(800_000), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(again.status, 400);
  assert.match(await (await fetch(`${server.url}/metrics`)).text(), /nv_inference_request_failure\{impl="invalid",status="503",reason="upload_limit"\} 1\b/);
});

// Helpers for the bench e2e tests: a fake inference target speaking the server's wire contract
// (so k6-side behaviour can be proven without models), and a runner for tools/bench/run.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, run, type Completed } from '../helpers/run.ts';
import type { InferResponse } from '../../lib/types.ts';

export interface FakeTarget {
  url: string;
  /** Requests received by /infer, in arrival order, with their X-Image-Id (and X-Runner of a RUNNERS=N run). */
  received: { impl: string; ids: string[]; runner?: string; models?: string }[];
  /** POST /vram/reset calls: the window named, and how many inference requests had arrived. */
  resets: { window: string | undefined; afterRequests: number }[];
  close(): Promise<void>;
}

/** Ways an answer can be wrong that the native protocol's checks must catch. */
export type WrongAnswer = 'other-implementation' | 'swapped-ids' | 'no-models' | 'scores-missing';

/** The first `slowFirst` inference requests take `slowMs`, every later one `fastMs`; `memoryMb(n)` is
 * what /vram reports after n inference requests (default a flat 100 MB); after `healthHangsAfter`
 * inference requests /health hangs; `runnerMs` delays the requests of one runner (X-Runner);
 * `wrong` spoils the answer of every request that arrives after the first `wrongAfter`; `msAfter(s)`,
 * when given, is the delay of a request arriving s seconds after the first one (a latency that changes over time);
 * `modelMs` delays the requests whose `?models=` is exactly that key (one slow model of a mix);
 * `serialMs` serves requests one at a time, each taking its `?models=` key's time (a one-worker server
 * whose capacity is known: 1 / service time). */
export async function fakeTarget(opts: { slowFirst?: number; slowMs?: number; fastMs?: number; memoryMb?: (requests: number) => number; runnerMs?: Record<string, number>; healthHangsAfter?: number; wrong?: WrongAnswer; wrongAfter?: number; msAfter?: (s: number) => number; modelMs?: Record<string, number>; serialMs?: Record<string, number> } = {}): Promise<FakeTarget> {
  let worker: Promise<void> = Promise.resolve();
  const received: FakeTarget['received'] = [];
  const resets: FakeTarget['resets'] = [];
  let window: string | undefined;
  let firstAt: number | undefined;
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    for await (const _ of req); // drain the upload
    // A hung server: after `healthHangsAfter` inference requests /health never answers.
    if (url.pathname === '/health' && opts.healthHangsAfter !== undefined && received.length >= opts.healthHangsAfter) return;
    if (url.pathname === '/health') return json(200, { status: 'ok', ready: true, ep: 'cpu', models: [], implementations: ['baseline', 'invalid'], uptime_s: 1, version: 'fake' });
    // Like the server, /vram names the window of the last reset.
    const used = opts.memoryMb?.(received.length) ?? 100;
    const memory = () => ({ device: 'host', used_mb: used, peak_mb: used, ...(window ? { window } : {}) });
    if (url.pathname === '/vram') return json(200, memory());
    if (url.pathname === '/vram/reset') {
      window = url.searchParams.get('window') ?? undefined;
      resets.push({ window, afterRequests: received.length });
      return json(200, memory());
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end(`# TYPE nv_inference_request_success counter\nnv_inference_request_success ${received.length}\n`);
    }
    const m = /^\/infer\/([^/]+)$/.exec(url.pathname);
    if (!m || req.method !== 'POST') return json(404, { error: 'not_found', detail: url.pathname });
    const ids = String(req.headers['x-image-id'] ?? '').split(',');
    const runner = req.headers['x-runner'] === undefined ? undefined : String(req.headers['x-runner']);
    // The request's place in arrival order decides how it is answered (slow, wrong), not the count when it is answered.
    const models = url.searchParams.get('models') ?? undefined;
    const nth = received.push({ impl: m[1]!, ids, ...(runner !== undefined ? { runner } : {}), ...(models !== undefined ? { models } : {}) });
    // runnerMs: the delay of every request one runner sends (keyed on the X-Runner header).
    firstAt ??= Date.now();
    const delay =
      runner !== undefined && opts.runnerMs?.[runner] !== undefined
        ? opts.runnerMs[runner]!
        : models !== undefined && opts.modelMs?.[models] !== undefined
          ? opts.modelMs[models]!
          : opts.msAfter
          ? opts.msAfter((Date.now() - firstAt) / 1000)
          : nth <= (opts.slowFirst ?? 0)
            ? (opts.slowMs ?? 0)
            : (opts.fastMs ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const service = models !== undefined ? opts.serialMs?.[models] : undefined;
    if (service !== undefined) {
      const turn = worker.then(() => new Promise<void>((r) => setTimeout(r, service)));
      worker = turn;
      await turn;
    }
    const det = { boxes: [], scores: [], labels: [], num_detections: 0, inference_ms: 0 };
    const body: InferResponse = { implementation: m[1]!, images: ids.map((id) => ({ image_id: id, width: 512, height: 512, models: { d0: det, d1: det, d2: det } })), timing: { decode_ms: 0, preprocess_ms: 0, queue_ms: 0, infer_ms: 0, total_ms: delay } };
    json(200, opts.wrong && nth > (opts.wrongAfter ?? 0) ? spoil(body, opts.wrong) : body);
  };
  const { url, server } = await listen(handler);
  return { url: url.replace(/\/$/, ''), received, resets, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function spoil(body: InferResponse, how: WrongAnswer): unknown {
  const det = { boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [1], num_detections: 1, inference_ms: 0 };
  switch (how) {
    case 'other-implementation':
      return { ...body, implementation: `not-${body.implementation}` };
    case 'swapped-ids':
      return { ...body, images: body.images.map((img) => ({ ...img, image_id: `${img.image_id ?? ''}-other` })) };
    case 'no-models':
      return { ...body, images: body.images.map((img) => ({ ...img, models: {} })) };
    case 'scores-missing':
      return { ...body, images: body.images.map((img) => ({ ...img, models: { d0: { ...det, scores: [] } } })) };
  }
}

/** Runs `node --import tsx tools/bench/run.ts` with the given env (CI=true: no live dashboard). */
export function runBenchCli(env: Record<string, string>, timeoutMs = 240_000): Promise<Completed> {
  return run(process.execPath, ['--import', 'tsx', 'tools/bench/run.ts'], { env: { CI: 'true', ACCURACY: '0', HOST_BOUNDS: '0', ...env }, timeoutMs });
}

/** Runs a make target the way a user does. */
export function runMake(args: string[], env: Record<string, string>, timeoutMs = 300_000): Promise<Completed> {
  return run('make', ['--no-print-directory', ...args], { env: { CI: 'true', ...env }, timeoutMs });
}

// The in-process limit of a served request: the same implementation (server/index.ts's registry), the
// same decode, worker threads and sessions, the same image, with no HTTP in between. A served p50 at
// concurrency 1 minus this median is what the HTTP path adds (receiving, routing, the JSON answer),
// like MLPerf's "with and without loadgen overhead". The models' own in-process medians (bench-models,
// each model timed in a loop of its own) are the other, lower limit.
import { readFileSync } from 'node:fs';
import { MODEL_NAMES } from '../../lib/types.ts';
import { createImplementation, decodeImage, loadConfig } from '../../server/index.ts';
import { quantileSorted } from '../../lib/stats.ts';

export interface InProcessRequests {
  impl: string;
  runs: number;
  /** Median wall time of decode + infer of one request, ms. */
  median_ms: number;
  p90_ms: number;
  /** Medians of its parts: the decode, and the implementation's infer (letterboxes, hand-off, the models). */
  decode_ms: number;
  infer_ms: number;
  /** Median of the letterboxes inside infer, as the implementation reports them (preprocess_ms). */
  letterbox_ms: number;
}

/** Runs `runs` requests of `imageFile` through `impl` in this process (after `warmup` untimed ones). */
export async function inProcessRequests(impl: string, imageFile: string, runs: number, modelsDir: string, warmup = 3): Promise<InProcessRequests> {
  const bytes = readFileSync(imageFile);
  const { maxPixels } = loadConfig(process.env, []);
  const implementation = await createImplementation(impl, { modelsDir });
  const total: number[] = [];
  const decode: number[] = [];
  const infer: number[] = [];
  const letterbox: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      // One request at a time, as the served one at concurrency 1: decoded inline, as the routes then do.
      const image = await decodeImage(bytes, { maxPixels, inline: true });
      const t1 = performance.now();
      const outcome = await implementation.infer([image], { models: [...MODEL_NAMES] });
      const t2 = performance.now();
      if (i < warmup) continue;
      total.push(t2 - t0);
      decode.push(t1 - t0);
      infer.push(t2 - t1);
      letterbox.push(outcome.preprocess_ms);
    }
  } finally {
    await implementation.close();
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const totals = sorted(total);
  return { impl, runs, median_ms: quantileSorted(totals, 0.5), p90_ms: quantileSorted(totals, 0.9), decode_ms: quantileSorted(sorted(decode), 0.5), infer_ms: quantileSorted(sorted(infer), 0.5), letterbox_ms: quantileSorted(sorted(letterbox), 0.5) };
}

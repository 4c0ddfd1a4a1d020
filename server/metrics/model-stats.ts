// Per implementation and model, the counts and cumulative durations Triton's statistics extension
// reports (GET /v2/models/{m}/stats), booked from the same request records as /metrics, whatever
// protocol the request came in by. Key '*' holds the whole implementation (the v2 `pipeline` model).
// Each adds up as Triton's does (success >= queue + compute_input + compute_infer + compute_output per
// request): '*' books the request's queue and its compute critical path; a model its own wait and its
// own letterbox and session.run (docs/server.md, "The breakdown").
import type { RequestRecord } from './request-record.ts';

interface Duration {
  count: number;
  ns: number;
}

interface ModelStats {
  success: Duration;
  fail: Duration;
  queue: Duration;
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
  inference_count: number;
  execution_count: number;
  /** ms since the epoch of the last successful inference; 0 = none. */
  last_inference: number;
}

const empty = (): ModelStats => ({
  success: { count: 0, ns: 0 },
  fail: { count: 0, ns: 0 },
  queue: { count: 0, ns: 0 },
  compute_input: { count: 0, ns: 0 },
  compute_infer: { count: 0, ns: 0 },
  compute_output: { count: 0, ns: 0 },
  inference_count: 0,
  execution_count: 0,
  last_inference: 0,
});

const add = (d: Duration, seconds: number) => {
  d.count++;
  d.ns += Math.round(seconds * 1e9);
};

export const ALL_MODELS = '*';

/**
 * The whole request's compute (its critical path) in Triton's three parts: the letterboxes and the
 * session runs as summed over its models, scaled down by the share of them that overlapped (concurrent,
 * batched, int8 run them side by side), and the rest of the path as output (decoding the detections,
 * the hops to and from the workers). Without a critical path (no split booked): the sums as they are.
 */
function pipelineCompute(r: RequestRecord): { input: number; infer: number; output: number } {
  const input = r.preprocess_s ?? 0;
  const infer = r.infer_s ?? (r.executions ?? []).reduce((s, e) => s + e.infer_s, 0);
  if (r.compute_s === undefined) return { input, infer, output: 0 };
  const sum = input + infer;
  const scale = sum > r.compute_s ? r.compute_s / sum : 1;
  return { input: input * scale, infer: infer * scale, output: Math.max(0, r.compute_s - sum * scale) };
}

export class ModelStatsLedger {
  private readonly entries = new Map<string, ModelStats>();

  private entry(impl: string, model: string): ModelStats {
    const key = `${impl}\u0000${model}`;
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = empty()));
    return e;
  }

  /** A copy of the figures of (impl, model); model '*' = every request of the implementation. */
  get(impl: string, model: string): ModelStats {
    return structuredClone(this.entry(impl, model));
  }

  book(r: RequestRecord): void {
    const all = this.entry(r.impl, ALL_MODELS);
    const executions = r.executions ?? [];
    all.execution_count += executions.length;
    if (r.status >= 400) {
      add(all.fail, r.total_s);
      return;
    }
    const now = Date.now();
    add(all.success, r.total_s);
    add(all.queue, r.queue_s ?? 0);
    const compute = pipelineCompute(r);
    add(all.compute_input, compute.input);
    add(all.compute_infer, compute.infer);
    add(all.compute_output, compute.output);
    all.inference_count += r.images;
    all.last_inference = now;
    const models = r.models ?? [];
    for (const model of models) {
      const e = this.entry(r.impl, model);
      // A stacked run served every model of the request at once: each gets its share.
      const own = executions.filter((x) => x.model === model);
      const shared = executions.filter((x) => x.model === 'stacked');
      e.execution_count += own.length + shared.length;
      add(e.success, r.total_s);
      add(e.queue, r.model_queue_s?.[model] ?? r.queue_s ?? 0);
      add(e.compute_input, (r.preprocess_s ?? 0) / models.length);
      add(e.compute_infer, own.reduce((s, x) => s + x.infer_s, 0) + shared.reduce((s, x) => s + x.infer_s, 0) / models.length);
      add(e.compute_output, 0);
      e.inference_count += r.images;
      e.last_inference = now;
    }
  }
}

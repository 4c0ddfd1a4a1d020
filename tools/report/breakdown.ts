// Server-side time split of one run from the server's own Prometheus counters, scraped before and
// after it (server-metrics.before.prom, server-metrics.prom): queue, compute and the rest
// (overhead: HTTP, decode, (de)serialisation, copies to and from the backend) per request, the three
// adding up to the request time. Our server and Triton use the same metric names (ours are modelled
// on Triton's); ours label by impl, Triton by model and version, so every series of a family counts
// unless it names another impl. Compute is our server's critical path per request where it exports
// one (nv_inference_compute_critical_path_duration_us: a request's models may run side by side, so
// the sum of their runs can exceed the request); else (Triton, one model per request)
// compute_input + compute_infer + compute_output. TorchServe has names of its own (torchserveBreakdown).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerBreakdown {
  /** Successful requests the server booked in the run (Triton and our v2: one per model). */
  requests: number;
  /** Mean per request, ms. */
  request_ms: number;
  queue_ms: number;
  /** The critical path of the request's jobs (ours); compute_input + compute_infer + compute_output (Triton). */
  compute_ms: number;
  /** request - queue - compute. */
  overhead_ms: number;
  /** Images inferred over model executions: the batch size that actually ran. */
  mean_batch: number | null;
}

type Series = { name: string; labels: Record<string, string>; value: number }[];

/** The samples of a Prometheus text exposition (histogram buckets and comments skipped). */
export function parsePrometheus(text: string): Series {
  const out: Series = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function total(series: Series, name: string, impl: string): number {
  return series.filter((s) => s.name === name && (s.labels['impl'] === undefined || s.labels['impl'] === impl) && Number.isFinite(s.value)).reduce((a, s) => a + s.value, 0);
}

/** The split between two scrapes; null when the run booked no request (or a scrape failed). */
export function breakdownOf(before: string, after: string, impl: string): ServerBreakdown | null {
  const [b, a] = [parsePrometheus(before), parsePrometheus(after)];
  const delta = (name: string) => total(a, name, impl) - total(b, name, impl);
  if (a.some((s) => s.name === 'ts_inference_requests_total')) return torchserveBreakdown(delta);
  const requests = delta('nv_inference_request_success');
  if (!(requests > 0)) return null;
  const us = (name: string) => delta(name) / requests / 1000;
  const request_ms = us('nv_inference_request_duration_us');
  const queue_ms = us('nv_inference_queue_duration_us');
  const critical = 'nv_inference_compute_critical_path_duration_us';
  const compute_ms = a.some((s) => s.name === critical && (s.labels['impl'] === undefined || s.labels['impl'] === impl))
    ? us(critical)
    : us('nv_inference_compute_input_duration_us') + us('nv_inference_compute_infer_duration_us') + us('nv_inference_compute_output_duration_us');
  const execs = delta('nv_inference_exec_count');
  return { requests, request_ms, queue_ms, compute_ms, overhead_ms: request_ms - queue_ms - compute_ms, mean_batch: execs > 0 ? delta('nv_inference_count') / execs : null };
}

/**
 * TorchServe's names (the TorchServe peer, peers/torchserve): its frontend's per-model counters
 * ts_inference_latency_microseconds (from the request's job to its answer, queue included) and
 * ts_queue_latency_microseconds, and the peer handler's own ts_handler_compute_microseconds (the
 * onnxruntime run, booked once per request of the batch, as Triton books compute),
 * ts_handler_execution_count and ts_handler_image_count. Overhead: the worker's socket round trip,
 * (de)serialisation in Java and Python, and the HTTP answer.
 */
function torchserveBreakdown(delta: (name: string) => number): ServerBreakdown | null {
  const requests = delta('ts_inference_requests_total');
  if (!(requests > 0)) return null;
  const us = (name: string) => delta(name) / requests / 1000;
  const request_ms = us('ts_inference_latency_microseconds');
  const queue_ms = us('ts_queue_latency_microseconds');
  const compute_ms = us('ts_handler_compute_microseconds');
  const execs = delta('ts_handler_execution_count');
  return { requests, request_ms, queue_ms, compute_ms, overhead_ms: request_ms - queue_ms - compute_ms, mean_batch: execs > 0 ? delta('ts_handler_image_count') / execs : null };
}

/** A run folder's breakdown for `impl`, from its two scrapes. */
export function runBreakdown(dir: string, impl: string): ServerBreakdown | null {
  const [before, after] = ['server-metrics.before.prom', 'server-metrics.prom'].map((f) => join(dir, f));
  if (!existsSync(before!) || !existsSync(after!)) return null;
  return breakdownOf(readFileSync(before!, 'utf8'), readFileSync(after!, 'utf8'), impl);
}

/**
 * The split per request over several runs, each run weighted by its requests. Each run's parts add up
 * to its request time, so the pooled parts do too (the median of each part over rounds need not).
 */
export function pooledBreakdown(runs: readonly ServerBreakdown[]): Pick<ServerBreakdown, 'requests' | 'request_ms' | 'queue_ms' | 'compute_ms' | 'overhead_ms'> {
  const requests = runs.reduce((n, b) => n + b.requests, 0);
  const mean = (pick: (b: ServerBreakdown) => number) => (requests > 0 ? runs.reduce((sum, b) => sum + pick(b) * b.requests, 0) / requests : 0);
  return { requests, request_ms: mean((b) => b.request_ms), queue_ms: mean((b) => b.queue_ms), compute_ms: mean((b) => b.compute_ms), overhead_ms: mean((b) => b.overhead_ms) };
}

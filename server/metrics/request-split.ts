// The server-side split of one request into queue, compute and overhead, defined so that the three add
// up to the request time whatever the implementation runs side by side (docs/server.md, "The
// breakdown"). Summing the model runs' own times does not: concurrent, batched and int8 run a
// request's models at the same time, so that sum can exceed the request. Here compute is the request's
// critical path: the time during which at least one of its jobs was running.
import type { ModelName } from '../../lib/types.ts';
import type { JobSpan } from '../runtime/infer-types.ts';

export interface Interval {
  start: number;
  end: number;
}

/** The measure of the union of `intervals` (overlaps counted once; empty or reversed ones count 0). */
export function unionLength(intervals: readonly Interval[]): number {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  let total = 0;
  let start = -Infinity;
  let end = -Infinity;
  for (const i of sorted) {
    if (i.start > end) {
      if (end > start) total += end - start;
      start = i.start;
      end = i.end;
    } else if (i.end > end) {
      end = i.end;
    }
  }
  if (end > start) total += end - start;
  return total;
}

export interface RequestSplit {
  /** Waiting for the lock, a worker or a batch, before and between its jobs: (end of its last job - ready) - compute. */
  queue_ms: number;
  /** The critical path of its jobs: the union of their run intervals. */
  compute_ms: number;
  /** Per model: from ready to the start of the first job that ran it (the wait that model saw). */
  model_queue_ms: Partial<Record<ModelName, number>>;
}

/**
 * Splits a request handed to its implementation at `readyAt` (after decoding) whose jobs ran over
 * `jobs` (the same clock). The rest of the request (receive, decode, merging, serialising) is
 * the overhead, total - queue - compute, which is >= 0 since every job starts after readyAt and ends
 * before the answer. No job (invalid): 0 and 0.
 */
export function splitRequest(readyAt: number, jobs: readonly JobSpan[]): RequestSplit {
  const model_queue_ms: Partial<Record<ModelName, number>> = {};
  if (jobs.length === 0) return { queue_ms: 0, compute_ms: 0, model_queue_ms };
  const compute_ms = unionLength(jobs);
  const lastEnd = Math.max(...jobs.map((j) => j.end));
  for (const job of jobs) {
    for (const m of job.models) model_queue_ms[m] = Math.max(0, Math.min(model_queue_ms[m] ?? Infinity, job.start - readyAt));
  }
  return { queue_ms: Math.max(0, lastEnd - readyAt - compute_ms), compute_ms, model_queue_ms };
}

// What the server books about each inference request when it closes (server/http/booking.ts): one
// record feeds both ledgers, /metrics (server-metrics.ts) and the v2 statistics (model-stats.ts).
import type { ModelName } from '../../lib/types.ts';

export interface RequestRecord {
  impl: string;
  status: number;
  /** Error code for failures (e.g. invalid_image), 'ok' otherwise. */
  reason: string;
  total_s: number;
  images: number;
  decode_s?: number;
  /** Letterbox + normalise, summed over its models (a batch's shared in proportion to its images). */
  preprocess_s?: number;
  /** session.run, summed over the runs it took part in (a batched request: each whole batch's run). */
  infer_s?: number;
  /**
   * The split of total_s (request-split.ts): queue_s (waiting for the lock, a worker or a batch, before
   * and between its jobs) + compute_s (the critical path of its jobs) <= total_s; the rest is overhead.
   */
  queue_s?: number;
  compute_s?: number;
  /** Per model: from the hand-off to the implementation to the start of the first job that ran it. */
  model_queue_s?: Partial<Record<ModelName, number>>;
  /** Models that answered this request (each counts the request's images in nv_inference_count). */
  models?: ModelName[];
  /** Session runs this request accounts for (seconds); booked whatever the request's status. */
  executions?: { model: string; batch_size: number; infer_s: number }[];
}

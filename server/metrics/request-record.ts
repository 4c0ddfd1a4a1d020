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
  preprocess_s?: number;
  queue_s?: number;
  /** Models that answered this request (each counts the request's images in nv_inference_count). */
  models?: ModelName[];
  /** Session runs this request accounts for (seconds); booked whatever the request's status. */
  executions?: { model: string; batch_size: number; infer_s: number }[];
}

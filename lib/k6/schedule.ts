// Open-loop latency from the intended arrival time (coordinated omission, as wrk2 and MLPerf
// LoadGen define it). k6's http_req_duration starts when k6 sends; an arrival that waited for a free
// VU, or for k6 itself, has already lost that time, and an arrival k6 dropped is in no percentile.
// latency_from_schedule starts at the arrival's scheduled start (lib/load-shapes.ts scheduledStart,
// or the drawn time of a Poisson arrival) and ends when the answer is in; late_from_schedule says
// per answer whether that exceeded the level's SLO (lib/k6/goodput.ts goodputSlo). Both carry the
// request's tags, so the summary reads them per level; dropped arrivals are added there as misses.
import { Rate, Trend } from 'k6/metrics';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { answerKind } from '../answer.ts';
import { goodputSlo } from './goodput.ts';
import type { RequestTags } from './tags.ts';

const fromSchedule = new Trend('latency_from_schedule', true);
const late = new Rate('late_from_schedule');

/** Records an accepted answer's latency from its scheduled start (Unix ms); refusals and failures have their own counts. */
export function recordFromSchedule(res: RefinedResponse<ResponseType>, tags: RequestTags, scheduledMs: number, answeredMs: number): void {
  if (answerKind(res.status) !== 'accepted') return;
  const ms = Math.max(res.timings.duration, answeredMs - scheduledMs);
  fromSchedule.add(ms, tags);
  const slo = goodputSlo(tags.impl, tags.level);
  late.add(slo !== undefined && ms > slo, tags);
}

// Goodput: answers that were accepted (2xx), on time and correct, counted per request with the
// request's tags (impl, scenario, level, phase; v2 adds model), so the summary divides a level's
// count by its measured seconds. Every answer adds a sample (0 or 1): a level whose answers were all
// late or wrong still shows a count of 0 rather than no figure.
//   on time: the answer's duration (k6's http_req_duration) <= the level's goodput SLO
//            (lib/bounds.ts goodput_slo_ms: goodput_latency_ms, else the level's p99 bound, else
//            capacity's step SLO); a level with no SLO: every accepted answer is on time.
//   correct: the protocol checks passed and, when a reference is loaded (REFERENCE), the in-run
//            output checks too; without one only the protocol checks (the summary says so).
import { Counter } from 'k6/metrics';
import type { RefinedResponse, ResponseType } from 'k6/http';
import type { ResolvedBounds } from '../bounds.ts';
import type { RequestTags } from './tags.ts';
import { isGood } from '../answer.ts';

const good = new Counter('requests_good');

/** impl \n level -> the level's goodput SLO in ms (undefined: none). */
const slos = new Map<string, number | undefined>();

/** Called once per VU in the init context (lib/k6/suite.ts) with the run's resolved bounds. */
export function setGoodputSlos(bounds: readonly ResolvedBounds[]): void {
  slos.clear();
  for (const b of bounds) for (const [level, lb] of Object.entries(b.levels)) slos.set(`${b.impl}\n${level}`, lb.goodput_slo_ms);
}

/** The SLO an answer of (impl, level) is held to; undefined when none. */
export function goodputSlo(impl: string, level: string): number | undefined {
  return slos.get(`${impl}\n${level}`);
}

/** Adds one answer's sample (1 good, 0 not) to requests_good, tagged like the request. */
export function recordGoodput(res: RefinedResponse<ResponseType>, tags: RequestTags, correct: boolean): void {
  good.add(isGood(res.status, res.timings.duration, correct, goodputSlo(tags.impl, tags.level)) ? 1 : 0, tags);
}

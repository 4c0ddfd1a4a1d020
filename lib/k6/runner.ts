// Which runner of a distributed run this k6 process is (k6 only): derived from the execution segment
// k6 itself reports, so a local `make bench RUNNERS=N` runner and a k6-operator pod (which gets only
// the segment flags) identify alike. Not available in the init context (exec.test.options).
import exec from 'k6/execution';
import { runnerIdentity, type RunnerIdentity } from '../segment.ts';

/** Header naming the runner on every inference request of a multi-runner run (test targets key on it). */
const RUNNER_HEADER = 'X-Runner';

let identity: RunnerIdentity | undefined;

export function thisRunner(): RunnerIdentity {
  // Read once: exec.test.options builds the whole options object (JSON in and out) on every access,
  // far too much to pay per request.
  if (identity) return identity;
  const o = exec.test.options;
  return (identity = runnerIdentity(o.executionSegment ?? null, o.executionSegmentSequence ?? null));
}

/** Adds the runner header when the run has several runners; a single run's requests are unchanged. */
export function withRunnerHeader<T extends { params: object }>(req: T): T {
  const r = thisRunner();
  if (r.count > 1) {
    const params = req.params as { headers?: Record<string, string> };
    params.headers = { ...params.headers, [RUNNER_HEADER]: String(r.index) };
  }
  return req;
}

// The pure steps of make bench's run (tools/bench/run.ts): the exit code's precedence and what k6 is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchExitCode, k6RunEnv } from '../../tools/bench/run.ts';
import { EXIT_POSTPROCESS_FAILED, EXIT_SERVER_LOST } from '../../lib/exit-codes.ts';
import { benchConfig } from '../../tools/bench/config.ts';
import { planFor } from '../../lib/scenarios.ts';

test('exit code: a lost server outranks k6, k6 outranks a failed post-processing gate', () => {
  assert.equal(benchExitCode('server exited (SIGKILL) at level 1', 99, 2), EXIT_SERVER_LOST);
  assert.equal(benchExitCode(undefined, 99, 2), 99);
  assert.equal(benchExitCode(undefined, 107, 0), 107);
  assert.equal(benchExitCode(undefined, 0, 1), EXIT_POSTPROCESS_FAILED);
  assert.equal(benchExitCode(undefined, 0, 0), 0);
});

test("k6's environment: the prepared files, the Go runtime over the user's, the dashboard on or export-only", () => {
  const plan = planFor('concurrency1', { DURATION: '40s' });
  const base = { plan, target: 'http://127.0.0.1:9', impls: ['baseline'], manifest: '/m.json', runDir: '/r', v2Env: {}, runtime: { GOMAXPROCS: '1' } };
  const live = k6RunEnv({ ...base, env: { GOMAXPROCS: '8', KEEP: 'x' }, cfg: benchConfig({ DASHBOARD: '1', DASHBOARD_PORT: '5777' }), reference: '/ref/detections.json' });
  assert.equal(live['KEEP'], 'x');
  assert.equal(live['GOMAXPROCS'], '1', 'the load generator runtime overrides the caller');
  assert.equal(live['REFERENCE'], '/ref/detections.json');
  assert.equal(live['BOUNDS_RESOLVED'], '/r/bounds.json');
  assert.equal(live['RESULTS_DIR'], '/r');
  assert.equal(live['K6_WEB_DASHBOARD_PORT'], '5777');
  assert.equal(live['K6_WEB_DASHBOARD_EXPORT'], '/r/dashboard.html');
  assert.equal(live['K6_WEB_DASHBOARD_PERIOD'], '4s', 'about ten snapshots of a 40 s run');
  const ci = k6RunEnv({ ...base, env: {}, cfg: benchConfig({ DASHBOARD: '0', DASHBOARD_PERIOD: '1s' }) });
  assert.equal(ci['K6_WEB_DASHBOARD_PORT'], '-1', 'no live server, the HTML export is still written');
  assert.equal(ci['K6_WEB_DASHBOARD_PERIOD'], '1s', "the user's DASHBOARD_PERIOD wins");
  assert.equal(k6RunEnv({ ...base, env: {}, cfg: benchConfig({ DASHBOARD_PERIOD: '500ms' }) })['K6_WEB_DASHBOARD_PERIOD'], '500ms');
  assert.equal(ci['REFERENCE'], undefined, 'no output checks without a reference');
});

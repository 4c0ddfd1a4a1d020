// make harness's `k6-bare` generator: k6's engine alone. It sends the request the suite's scenarios
// send (the image as the raw body, its Content-Type and X-Image-Id) from a script that does nothing
// else: no checks, tags, custom metrics or thresholds, no dataset reader, no setup. Against vegeta it
// shows what k6 itself costs; against the `k6` generator (scenarios/sweep.ts, same executor) what the
// suite's checks and thresholds add. It reads the sweep scenario's knobs, as that generator does.
// The harness warms up with a separate run (k6 run --vus L --iterations N), as it does vegeta, so the
// measured run's summary holds measured requests only.
import http from 'k6/http';
import { k6Config } from '../../../lib/k6-config.ts';
import { planFor } from '../../../lib/scenarios.ts';
import { contentTypeOf, manifestFilePath, type DatasetManifest } from '../../../lib/dataset.ts';

const cfg = k6Config(__ENV, 'sweep');
const plan = planFor(cfg.scenario, __ENV);
if (plan.kind !== 'sweep') throw new Error(`SCENARIO=${cfg.scenario}: the bare harness script runs the sweep scenario's executor only; unset SCENARIO`);
const manifest = JSON.parse(open(cfg.manifest)) as DatasetManifest;
const image = manifest.images[0];
if (!image) throw new Error(`dataset manifest ${cfg.manifest} lists no images: make harness writes a one-image manifest`);
const body = open(manifestFilePath(cfg.manifest, image.file), 'b');
const url = `${cfg.target}/infer/${cfg.impls[0]}`;
const params = { headers: { 'Content-Type': contentTypeOf(image.file), 'X-Image-Id': image.id }, timeout: '120s' };

// The sweep scenario's own executors (constant VUs per level, no graceful stop), without its thresholds.
export const options = { scenarios: plan.k6Scenarios, summaryTrendStats: ['med', 'p(99)'] };

export function measure(): void {
  http.post(url, body, params);
}

// The warm-up run (k6's --iterations) calls the default function.
export default measure;

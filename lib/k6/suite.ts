// Builds a runnable k6 suite (options, setup, measure, handleSummary) for a named scenario.
// Scenario files in scenarios/ are a few lines that call this with their kind.
import http from 'k6/http';
import exec from 'k6/execution';
import { sleep } from 'k6';
import { DEFAULT_BOUNDS, resolveBounds, thresholdsFor, type ResolvedBounds } from '../bounds.ts';
import { planFor, type Level, type ScenarioKind } from '../scenarios.ts';
import { stepAt } from '../load-shapes.ts';
import { buildSummary, junitXml, summaryText, type K6SummaryData } from '../summary.ts';
import { MEASURE_WINDOW, type HealthResponse } from '../types.ts';
import { k6Config, resolvedBounds } from './config.ts';
import { loadDataset, type LoadedImage } from './dataset.ts';
import { checkResponse, inferRequest, send, type RequestTags } from './request.ts';
import { inRunThresholds } from './output-check.ts';
import { retryAfterS } from './outcome.ts';
import { answerOutcome } from '../outcome.ts';

/** Tags k6 adds by itself, minus `scenario`: ours names the bench scenario, not k6's per-level one. */
const SYSTEM_TAGS = ['proto', 'subproto', 'status', 'method', 'url', 'name', 'group', 'check', 'error', 'error_code', 'tls_version', 'service', 'expected_response'];

export interface SetupData {
  health: HealthResponse;
  warmupRequests: number;
}

export async function buildSuite(kind: ScenarioKind, defaultName: string = kind) {
  const cfg = k6Config(__ENV);
  const name = __ENV['SCENARIO'] && __ENV['SCENARIO'] !== '' ? __ENV['SCENARIO'] : defaultName;
  const plan = planFor(name, __ENV);
  if (plan.kind !== kind) throw new Error(`SCENARIO=${name} is a ${plan.kind} scenario but this script runs ${kind}: use build/k6/${plan.kind}.js (make bench picks it)`);
  if (kind !== 'smoke' && cfg.impls.length !== 1) throw new Error(`IMPL=${cfg.impls.join(',')}: only the smoke scenario takes several implementations; name one`);
  const bounds: ResolvedBounds[] = resolvedBounds(cfg.boundsResolved) ?? cfg.impls.map((impl) => resolveBounds(DEFAULT_BOUNDS, plan, impl));
  const dataset = await loadDataset(cfg.manifest, cfg.maxImages);

  const options = {
    scenarios: plan.k6Scenarios,
    thresholds: {
      ...thresholdsFor(plan, bounds),
      // In-run output checks (issue 6): output_match / output_*_mse per impl; {} without REFERENCE.
      ...inRunThresholds(cfg.impls),
      // Informational, so the warm-up sub-metrics appear in the summary (proof they are kept apart).
      'http_reqs{phase:warmup}': ['count>=0'],
      'http_req_duration{phase:warmup}': ['max>=0'],
    },
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
    systemTags: SYSTEM_TAGS,
    setupTimeout: `${cfg.setupTimeout_s}s`,
    // Warm-up requests go out through http.batch, `concurrency` at a time.
    batch: Math.max(1, plan.warmup.concurrency),
    batchPerHost: Math.max(1, plan.warmup.concurrency),
  };

  const tagsFor = (impl: string, level: Level | string, phase: RequestTags['phase']): RequestTags => ({ impl, scenario: name, level: typeof level === 'string' ? level : level.tag, phase });

  async function imagesFor(first: number, count: number): Promise<LoadedImage[]> {
    const out: LoadedImage[] = [];
    // Sequential reads: a VU's file handles are shared by its reads.
    for (let i = 0; i < count; i++) out.push(await dataset.read(first + i));
    return out;
  }

  /** Refuses to start against a target that is not ready or lacks an implementation under test. */
  function healthGate(): HealthResponse {
    const deadline = Date.now() + cfg.healthWait_s * 1000;
    let last = '';
    for (;;) {
      const res = http.get(`${cfg.target}/health`, { tags: { name: 'GET /health', phase: 'setup' } as Record<string, string>, timeout: '5s' });
      if (res.status === 200) {
        const health = JSON.parse(res.body as string) as HealthResponse;
        if (health.ready) {
          const missing = cfg.impls.filter((i) => !health.implementations.includes(i));
          if (missing.length > 0) exec.test.abort(`IMPL=${missing.join(',')} is not served by ${cfg.target}: expected one of ${health.implementations.join(', ')}`);
          return health;
        }
        last = `not ready (status ${health.status})`;
      } else last = `GET /health answered ${res.status} ${res.error ?? ''}`;
      if (Date.now() > deadline) exec.test.abort(`target ${cfg.target} is not ready after ${cfg.healthWait_s}s: ${last}; start it with 'make server' or let 'make bench' start it`);
      sleep(1);
    }
  }

  async function setup(): Promise<SetupData> {
    const health = healthGate();
    // Warm-up: WARMUP requests per implementation, `concurrency` at a time, tagged phase=warmup;
    // thresholds and the measured figures select phase=measure, so these never count.
    const n = plan.warmup.requests;
    const level = plan.levels[0]!;
    for (const impl of cfg.impls) {
      for (let sent = 0; sent < n; sent += plan.warmup.concurrency) {
        const batch = Math.min(plan.warmup.concurrency, n - sent);
        const groups: LoadedImage[][] = [];
        for (let i = 0; i < batch; i++) groups.push(await imagesFor((sent + i) * plan.imagesPerRequest(level), plan.imagesPerRequest(level)));
        const tags = tagsFor(impl, String(plan.warmup.concurrency), 'warmup');
        const reqs = groups.map((g) => inferRequest(cfg.target, g, tags, cfg.models));
        const responses = http.batch(reqs.map((r) => ({ method: r.method, url: r.url, body: r.body, params: r.params })));
        responses.forEach((res, i) => checkResponse(res, groups[i]!, tags));
      }
    }
    // Marks the end of the warm-up on the server: /vram then names the window `measure`, so memory
    // growth (soak) counts from here and the peak covers the measured phase only. A target without
    // the marker (404) is fine: the bench then counts from its first sample and says so.
    http.post(`${cfg.target}/vram/reset?window=${MEASURE_WINDOW}`, null, { tags: { name: 'POST /vram/reset', phase: 'setup' } as Record<string, string>, timeout: '5s' });
    return { health, warmupRequests: n * cfg.impls.length };
  }

  function currentLevel(): Level {
    if (plan.kind === 'capacity') return stepAt(plan.levels, (Date.now() - exec.scenario.startTime) / 1000);
    if (plan.kind === 'coldstart') return plan.levels[Math.min(exec.scenario.iterationInTest, plan.levels.length - 1)]!;
    const tag = __ENV['LEVEL'];
    return plan.levels.find((l) => l.tag === tag) ?? plan.levels[0]!;
  }

  async function measure(): Promise<void> {
    const level = currentLevel();
    const per = plan.imagesPerRequest(level);
    const images = await imagesFor(exec.scenario.iterationInTest * per, per);
    for (const impl of cfg.impls) {
      const tags = tagsFor(impl, level, 'measure');
      const res = send(inferRequest(cfg.target, images, tags, cfg.models));
      checkResponse(res, images, tags);
      // A well-behaved client (overload) waits the Retry-After of a refusal before asking again.
      if (plan.retryAfterCap_s > 0 && answerOutcome(res.status) === 'refused') sleep(retryAfterS(res, plan.retryAfterCap_s));
    }
  }

  function handleSummary(data: K6SummaryData): Record<string, string> {
    const summary = buildSummary(data, plan, cfg.impls, bounds[0]?.slo.capacity_slo_p99_ms);
    const text = summaryText(summary);
    const out: Record<string, string> = { stdout: `\n${text}` };
    if (cfg.resultsDir) {
      out[`${cfg.resultsDir}/summary.json`] = JSON.stringify(summary, null, 2);
      out[`${cfg.resultsDir}/summary.txt`] = text;
      out[`${cfg.resultsDir}/junit.xml`] = junitXml(summary);
    }
    return out;
  }

  return { options, setup, measure, handleSummary, plan };
}

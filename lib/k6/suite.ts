// Builds a runnable k6 suite (options, setup, measure, handleSummary) for a named scenario.
// Scenario files in scenarios/ are a few lines that call this with their kind.
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import exec from 'k6/execution';
import { setTimeout } from 'k6/timers';
import { sleep } from 'k6';
import { DEFAULT_BOUNDS, resolveBounds, thresholdsFor, type ResolvedBounds } from '../bounds.ts';
import { planFor, type ScenarioKind } from '../scenarios.ts';
import { scheduledStart, stepAt, type Level } from '../load-shapes.ts';
import { buildSummary, summaryFiles, summaryText, type K6SummaryData } from '../summary.ts';
import { SUMMARY_TREND_STATS } from '../quantile-grid.ts';
import { MEASURE_WINDOW, type HealthResponse, type ModelName } from '../types.ts';
import { k6Config, LEVEL_KNOB } from '../k6-config.ts';
import { readKnob } from '../knobs.ts';
import { resolvedBounds } from './resolved-bounds.ts';
import { loadDataset, type LoadedImage } from './dataset.ts';
import { checkResponse, inferRequest } from './request.ts';
import type { RequestTags } from './tags.ts';
import { inRunThresholds } from './output-check.ts';
import { thisRunner, withRunnerHeader } from './runner.ts';
import { shareOf, shareStart } from '../segment.ts';
import { v2Client } from './v2.ts';
import { seedClient } from './seed.ts';
import { torchserveClient } from './torchserve.ts';
import type { Exchange, ProtocolClient } from './exchange.ts';
import { retryAfterS } from './answer-metrics.ts';
import { setGoodputSlos } from './goodput.ts';
import { recordFromSchedule } from './schedule.ts';
import { laneSeed, poissonArrivals } from '../arrivals.ts';
import { answerKind } from '../answer.ts';
import { windowIndex, windowsOf, windowThresholds } from '../stability.ts';

/** Tags k6 adds by itself, minus `scenario`: ours names the bench scenario, not k6's per-level one. */
const SYSTEM_TAGS = ['proto', 'subproto', 'status', 'method', 'url', 'name', 'group', 'check', 'error', 'error_code', 'tls_version', 'service', 'expected_response'];

interface SetupData {
  health: HealthResponse;
  warmupRequests: number;
}

export async function buildSuite(kind: ScenarioKind, defaultName: string = kind) {
  const cfg = k6Config(__ENV, defaultName);
  const name = cfg.scenario;
  const plan = planFor(name, __ENV);
  if (plan.kind !== kind) throw new Error(`SCENARIO=${name} is a ${plan.kind} scenario but this script runs ${kind}: use build/k6/${plan.kind}.js (make bench picks it)`);
  if (kind !== 'smoke' && cfg.impls.length !== 1) throw new Error(`IMPL=${cfg.impls.join(',')}: only the smoke scenario takes several implementations; name one`);
  const bounds: ResolvedBounds[] = resolvedBounds(cfg.boundsResolved) ?? cfg.impls.map((impl) => resolveBounds(DEFAULT_BOUNDS, plan, impl));
  setGoodputSlos(bounds);
  const dataset = await loadDataset(cfg.manifest, cfg.maxImages, cfg.datasetCacheMb);
  // PROTOCOL=v2 / seed / torchserve: that protocol's client (lib/k6/v2.ts, seed.ts, torchserve.ts) builds and checks the
  // requests; native: the exchanges below, which keep the requests of kept images.
  const client: ProtocolClient | undefined = cfg.protocol === 'v2' ? await v2Client(cfg) : cfg.protocol === 'seed' ? seedClient(cfg) : cfg.protocol === 'torchserve' ? await torchserveClient(cfg) : undefined;
  /** The requests of one iteration and the check of each answer, whatever the protocol. */
  const exchanges = async (images: LoadedImage[], tags: RequestTags, only?: readonly ModelName[]): Promise<Exchange[]> => {
    if (client) return client.exchanges(images, tags, only);
    return [nativeExchange(images, tags, only)];
  };

  const options = {
    scenarios: plan.k6Scenarios,
    thresholds: {
      ...thresholdsFor(plan, bounds),
      // In-run output checks: output_match / output_*_mse per impl; {} without REFERENCE.
      ...inRunThresholds(cfg.impls),
      // Stability (lib/stability.ts): each timed level's accepted latency per window, informational.
      ...windowThresholds(plan, cfg.impls, cfg.stabilityWindows),
      // Informational, so the warm-up sub-metrics appear in the summary (proof they are kept apart).
      'http_reqs{phase:warmup}': ['count>=0'],
      'http_req_duration{phase:warmup}': ['max>=0'],
    },
    // The reported figures, each trend's sample count, and the quantile grid its 95 % intervals and
    // threshold decisions are read off (lib/quantile-grid.ts): handleSummary sees no samples.
    summaryTrendStats: [...SUMMARY_TREND_STATS],
    systemTags: SYSTEM_TAGS,
    setupTimeout: `${cfg.setupTimeout_s}s`,
    // Warm-up requests go out through http.batch, `concurrency` at a time.
    batch: Math.max(1, plan.warmup.concurrency),
    batchPerHost: Math.max(1, plan.warmup.concurrency),
  };

  // A mix stream's requests also carry the model they ask for (one stream per model).
  const tagsFor = (impl: string, level: Level | string, phase: RequestTags['phase'], window?: string): RequestTags => ({
    impl, scenario: name, level: typeof level === 'string' ? level : level.tag, phase, ...(window !== undefined ? { window } : {}),
    ...(typeof level !== 'string' && level.models ? { model: level.models.join('+') } : {}),
  });

  /** Windows per timed level (lib/stability.ts; 0: not judged), and a measured request's window by its send time. */
  const windows = windowsOf(plan.kind, cfg.stabilityWindows);
  const windowOf = (level: Level): string | undefined => (windows > 0 ? String(windowIndex((Date.now() - scenario().startTime) / 1000, level.duration_s, windows)) : undefined);

  async function imagesFor(first: number, count: number): Promise<LoadedImage[]> {
    const out: LoadedImage[] = [];
    // Sequential reads: a VU's file handles are shared by its reads.
    for (let i = 0; i < count; i++) out.push(await dataset.read(first + i));
    return out;
  }

  /** The `count` images from `first` when this VU keeps them all (no read), else undefined. */
  function keptImages(first: number, count: number): LoadedImage[] | undefined {
    const out: LoadedImage[] = [];
    for (let i = 0; i < count; i++) {
      const img = dataset.kept(first + i);
      if (!img) return undefined;
      out.push(img);
    }
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
    const health = client ? client.gate() : healthGate();
    // Warm-up: WARMUP requests per implementation, `concurrency` at a time, tagged phase=warmup;
    // thresholds and the measured figures select phase=measure, so these never count.
    // setup() runs in every runner of a segmented run: each sends its segment's share of the
    // requests and of the concurrency, so N runners together warm up exactly as one does.
    const runner = thisRunner().segment;
    const n = shareOf(runner, plan.warmup.requests);
    const first = shareStart(runner, plan.warmup.requests);
    const concurrency = Math.max(1, shareOf(runner, plan.warmup.concurrency));
    const level = plan.levels[0]!;
    for (const impl of cfg.impls) {
      for (let sent = 0; sent < n; sent += concurrency) {
        const batch = Math.min(concurrency, n - sent);
        const groups: LoadedImage[][] = [];
        for (let i = 0; i < batch; i++) groups.push(await imagesFor((first + sent + i) * plan.imagesPerRequest(level), plan.imagesPerRequest(level)));
        const tags = tagsFor(impl, String(plan.warmup.concurrency), 'warmup');
        const xs: Exchange[] = [];
        for (const g of groups) xs.push(...(await exchanges(g, tags)));
        const responses = http.batch(xs.map(({ req }) => withRunnerHeader(req)).map((r) => ({ method: r.method, url: r.url, body: r.body, params: r.params })));
        responses.forEach((res, i) => xs[i]!.check(res));
      }
    }
    // Marks the end of the warm-up on the server: /vram then names the window `measure`, so memory
    // growth (soak) counts from here and the peak covers the measured phase only. A target without
    // the marker (404) is fine: the bench then counts from its first sample and says so.
    http.post(`${cfg.target}/vram/reset?window=${MEASURE_WINDOW}`, null, { tags: { name: 'POST /vram/reset', phase: 'setup' } as Record<string, string>, timeout: '5s' });
    return { health, warmupRequests: n * cfg.impls.length };
  }

  /**
   * k6's scenario info, fetched once per VU: every read of `exec.scenario` builds a new object of six
   * accessors (a cost pprof shows on every request), and those accessors read the VU's
   * state when called, so one object follows the VU through every scenario (each sweep level is one).
   */
  let scenarioInfo: typeof exec.scenario | undefined;
  const scenario = (): typeof exec.scenario => (scenarioInfo ??= exec.scenario);

  /** The level of a sweep scenario, parsed once per activation: k6 sets a new __ENV object for each scenario it runs on a VU. */
  let levelEnv: typeof __ENV | undefined;
  let envLevel: Level = plan.levels[0]!;

  function currentLevel(): Level {
    if (plan.kind === 'capacity') return stepAt(plan.levels, (Date.now() - scenario().startTime) / 1000);
    if (plan.kind === 'coldstart') return plan.levels[Math.min(scenario().iterationInTest, plan.levels.length - 1)]!;
    if (__ENV !== levelEnv) {
      levelEnv = __ENV;
      const tag = readKnob(LEVEL_KNOB, __ENV);
      envLevel = plan.levels.find((l) => l.tag === tag) ?? plan.levels[0]!;
    }
    return envLevel;
  }

  /** Open loop: this iteration's scheduled start in Unix ms (lib/load-shapes.ts scheduledStart); undefined in closed loops. */
  function scheduledMs(): number | undefined {
    if (plan.unit !== 'rps') return undefined;
    const sc = scenario();
    const shape = plan.k6Scenarios[sc.name];
    const at = shape ? scheduledStart(shape, (Date.now() - sc.startTime) / 1000) : undefined;
    return at === undefined ? undefined : sc.startTime + at * 1000;
  }

  /** Sends one request of an iteration and checks its answer; in open loop also its latency from `due`, the scheduled start. */
  function sendAndCheck(x: Exchange, due?: number): void {
    const r = withRunnerHeader(x.req);
    const res = http.post(r.url, r.body, r.params);
    if (due !== undefined) recordFromSchedule(res, r.params.tags as RequestTags, due, Date.now());
    x.check(res);
    // A well-behaved client (overload) waits the Retry-After of a refusal before asking again.
    if (plan.retryAfterCap_s > 0 && answerKind(res.status) === 'refused') sleep(retryAfterS(res, plan.retryAfterCap_s));
  }

  /** The native protocol's exchange of a request (built without a promise: see measure()). */
  const nativeExchange = (images: LoadedImage[], tags: RequestTags, only?: readonly ModelName[]): Exchange => {
    const req = inferRequest(cfg.target, images, tags, (only ?? cfg.models).join(','));
    return { req, check: (res: RefinedResponse<ResponseType>) => checkResponse(res, images, tags, only) };
  };

  /**
   * Native exchanges of kept images, built once per (implementation, level, images): the request of
   * a kept image never changes, so an iteration sends it again instead of building URL, tags,
   * headers and body anew. Bounded by what the VU keeps (DATASET_CACHE_MB) x implementations x levels.
   */
  const keptExchanges = new Map<string, Exchange>();
  function keptExchange(impl: string, level: Level, images: LoadedImage[], window?: string): Exchange {
    const key = `${impl}\n${level.tag}\n${window ?? ''}\n${images.length === 1 ? images[0]!.id : images.map((i) => i.id).join('\n')}`;
    let x = keptExchanges.get(key);
    if (!x) keptExchanges.set(key, (x = nativeExchange(images, tagsFor(impl, level, 'measure', window), level.models)));
    return x;
  }

  /**
   * One iteration. When the VU already keeps the iteration's images and the protocol is native, it
   * runs without a promise (no file read to wait for): k6 then spends what a plain script spends
   * around each request, not the extra CPU an async iteration costs it. Otherwise
   * it reads the images (k6/experimental/fs is promise-based) and returns that promise.
   */
  function measure(): void | Promise<void> {
    if (plan.arrivals === 'poisson') return poissonLane();
    const due = scheduledMs();
    const level = currentLevel();
    const window = windowOf(level);
    const per = plan.imagesPerRequest(level);
    const first = scenario().iterationInTest * per;
    const kept = client ? undefined : keptImages(first, per);
    if (kept) {
      for (const impl of cfg.impls) sendAndCheck(keptExchange(impl, level, kept, window), due);
      return;
    }
    return (async () => {
      const images = await imagesFor(first, per);
      for (const impl of cfg.impls) for (const x of await exchanges(images, tagsFor(impl, level, 'measure', window), level.models)) sendAndCheck(x, due);
    })();
  }

  /**
   * ARRIVALS=poisson: this VU is one scheduler lane of the level (lib/load-shapes.ts 'lanes', one
   * iteration for the whole level). It fires each of its drawn arrivals (lib/arrivals.ts) at its time
   * with http.asyncRequest and never waits for an answer before the next arrival, so arrivals stay
   * independent of answers and none is dropped. (constant-arrival-rate plus an exponential sleep would
   * not do: every arrival would still need a free VU, be dropped without one, and its spacing would be
   * k6's even ticks plus noise, not a Poisson process.) Each answer is checked and timed from its
   * drawn arrival when it comes; the lane ends when every answer has come (or at gracefulStop).
   */
  async function poissonLane(): Promise<void> {
    const level = currentLevel();
    const sc = scenario();
    const lanes = plan.k6Scenarios[sc.name]?.vus ?? 1;
    const lane = sc.iterationInTest;
    // Lanes of rate/lanes with their own seeds superpose to one Poisson process of the level's rate.
    const times = poissonArrivals(level.value / lanes, level.duration_s, laneSeed(lane, plan.levels.indexOf(level)));
    const pending: Promise<void>[] = [];
    for (let j = 0; j < times.length; j++) {
      const due = sc.startTime + times[j]! * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
      const first = j * lanes + lane;
      const kept = client ? undefined : keptImages(first, 1);
      // The stability window (lib/stability.ts) of the arrival, by its send time as in measure().
      const window = windowOf(level);
      const xs: Exchange[] = [];
      if (kept) for (const impl of cfg.impls) xs.push(keptExchange(impl, level, kept, window));
      else for (const impl of cfg.impls) xs.push(...(await exchanges(await imagesFor(first, 1), tagsFor(impl, level, 'measure', window), level.models)));
      for (const x of xs) {
        const r = withRunnerHeader(x.req);
        pending.push(
          http.asyncRequest('POST', r.url, r.body, r.params).then((res) => {
            recordFromSchedule(res, r.params.tags as RequestTags, due, Date.now());
            x.check(res);
          }),
        );
      }
    }
    await Promise.all(pending);
  }

  function handleSummary(data: K6SummaryData): Record<string, string> {
    const summary = buildSummary(data, plan, cfg.impls, bounds[0]?.slo.capacity_slo_p99_ms, {
      min_duration_s: cfg.minDuration_s,
      undecided: cfg.undecided,
      stability_windows: cfg.stabilityWindows,
      stability_tolerance: cfg.stabilityTolerance / 100,
    });
    const text = summaryText(summary);
    const out: Record<string, string> = { stdout: `\n${text}` };
    if (cfg.resultsDir) {
      for (const [name, content] of Object.entries(summaryFiles(summary))) out[`${cfg.resultsDir}/${name}`] = content;
    }
    return out;
  }

  return { options, setup, measure, handleSummary, plan };
}

// Post-processing after the load run, while the server is still up: a list of hooks, each deciding
// whether it applies and returning pass/fail with lines for summary.txt. A failed hook fails the run.
import type { ResolvedBounds } from '../../lib/bounds.ts';
import type { Plan } from '../../lib/scenarios.ts';
import { MEASURE_WINDOW } from '../../lib/types.ts';
import { percentileText, type PostRunResult, type Summary } from '../../lib/summary.ts';
import type { MemorySample } from '../common/server-process.ts';
import { accuracyTablesOf, runAccuracy } from '../accuracy/replay.ts';
import type { Protocol } from '../../lib/v2/config.ts';

export interface PostRunContext {
  target: string;
  impls: string[];
  plan: Plan;
  runDir: string;
  datasetDir: string;
  maxImages: number;
  summary: Summary;
  memory: MemorySample[];
  bounds: ResolvedBounds[];
  accuracy: boolean;
  /** The run's PROTOCOL: the replay asks the target in it (seed: the seed API; else the native one). */
  protocol?: Protocol;
  /** Spawn-to-ready time of a server the bench started; null with TARGET. */
  serverReadyMs: number | null;
}

interface PostRunStep {
  name: string;
  applies(ctx: PostRunContext): boolean;
  run(ctx: PostRunContext): Promise<PostRunResult[]>;
}

const capacity: PostRunStep = {
  name: 'capacity',
  applies: (ctx) => ctx.plan.kind === 'capacity',
  async run(ctx) {
    const c = ctx.summary.capacity;
    const min = ctx.bounds[0]?.slo.capacity_min_rps ?? 0;
    const got = c?.max_rps_under_slo ?? null;
    const rows = ctx.summary.levels.map((r) => `offered ${r.level} req/s: achieved ${r.rps} req/s, p99 ${percentileText(r.latency_ms, 'p99')} over ${r.requests} requests`);
    return [{ name: 'capacity', passed: (got ?? 0) >= min, lines: [...rows, `highest rate with p99 < ${c?.slo_p99_ms} ms: ${got ?? 'none'} req/s (bound: >= ${min})`] }];
  },
};

const batch: PostRunStep = {
  name: 'batch',
  applies: (ctx) => ctx.plan.kind === 'batch',
  async run(ctx) {
    return [{ name: 'batch images/s', passed: true, lines: ctx.summary.levels.map((r) => `batch ${r.level}: ${r.images_per_s} images/s (${r.rps} req/s, p99 ${percentileText(r.latency_ms, 'p99')}, ${r.requests} requests)`) }];
  },
};

const soakMemory: PostRunStep = {
  name: 'memory growth',
  applies: (ctx) => ctx.plan.kind === 'soak',
  async run(ctx) {
    const max = ctx.bounds[0]?.slo.memory_growth_max_mb;
    if (ctx.memory.length < 2) return [{ name: 'memory growth', passed: false, lines: [`only ${ctx.memory.length} memory sample(s): is GET /vram answering?`] }];
    // From the first sample after the warm-up (k6's setup names the window `measure`): what the
    // warm-up allocates (arenas, caches, JIT) is start-up, not growth.
    const measured = ctx.memory.filter((s) => s.window === MEASURE_WINDOW);
    const from = measured.length >= 2 ? measured : ctx.memory;
    const first = from[0]!, last = from[from.length - 1]!;
    const growth = Math.round((last.used_mb - first.used_mb) * 10) / 10;
    const passed = max === undefined || growth <= max;
    const since = measured.length >= 2 ? `after the warm-up, ${first.t_s}-${last.t_s} s` : `from the first sample (no two samples after the warm-up marker), 0-${last.t_s} s`;
    return [{ name: 'memory growth', passed, lines: [`${first.device} memory ${Math.round(first.used_mb)} MB -> ${Math.round(last.used_mb)} MB ${since} (${from.length} samples): growth ${growth} MB, bound <= ${max ?? 'none'} MB`] }];
  },
};

const coldstart: PostRunStep = {
  name: 'coldstart',
  applies: (ctx) => ctx.plan.kind === 'coldstart',
  async run(ctx) {
    const row = (level: string) => ctx.summary.levels.find((r) => r.level === level)?.latency_ms;
    const lines = [
      ctx.serverReadyMs === null ? 'server not started by the bench (TARGET set): the first request is not a cold one' : `server start to ready: ${ctx.serverReadyMs} ms`,
      `first request: ${row('first')?.max ?? '-'} ms (one sample); later requests p50 ${percentileText(row('warm'), 'p50')}, max ${row('warm')?.max ?? '-'} ms`,
    ];
    return [{ name: 'coldstart', passed: true, lines }];
  },
};

const accuracy: PostRunStep = {
  name: 'accuracy',
  applies: (ctx) => ctx.accuracy,
  async run(ctx) {
    const out: PostRunResult[] = [];
    for (const impl of ctx.impls) {
      const bounds = ctx.bounds.find((b) => b.impl === impl)?.accuracy;
      const r = await runAccuracy({ target: ctx.target, impl, runDir: ctx.runDir, datasetDir: ctx.datasetDir, maxImages: ctx.maxImages, ...(ctx.protocol ? { protocol: ctx.protocol } : {}), ...(bounds ? { bounds } : {}) });
      out.push({ name: `accuracy ${impl}`, passed: r.passed, lines: r.lines });
    }
    // The accuracy tables go into summary.txt, which the bench rewrites after post-processing.
    const table = accuracyTablesOf(ctx.runDir);
    if (table && out.length > 0) out[out.length - 1]!.table = table;
    return out;
  },
};

export const POST_RUN_STEPS: PostRunStep[] = [capacity, batch, soakMemory, coldstart, accuracy];

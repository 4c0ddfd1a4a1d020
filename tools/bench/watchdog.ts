// The bench's watchdog over the server under test while k6 runs. A server that dies mid-run must not
// be reported as a fast one: k6 would go on against a closed port and count connection refusals as
// requests. The watchdog sees the server process exit (when the bench started it) or /health stop
// answering (always, TARGET included), names the fault in one line ("server exited with signal
// SIGKILL 25.1 s into level 4", "stopped answering /health ..."), and calls onFault so the bench
// stops k6 (SIGINT first, so k6 still writes its summary) and keeps the partial results.
import type { ChildProcess } from 'node:child_process';
import type { Level } from '../../lib/load-shapes.ts';
import type { LevelRow } from '../../lib/summary.ts';

interface WatchdogOptions {
  /** Base URL of the server under test. */
  target: string;
  /** The server process, when the bench started it. */
  child?: ChildProcess;
  /** The plan's levels, to name the level a fault fell in. */
  levels: readonly Level[];
  /** When the measured phase began (ms, performance.now()), once known; before that: the warm-up. */
  measureStartedAt: () => number | undefined;
  /** /health polling period and per-poll timeout, ms. */
  interval_ms?: number;
  timeout_ms?: number;
  /** Consecutive unanswered polls that make a fault (a busy server may miss one). */
  misses?: number;
  /** Every how many polls /metrics is scraped too, so a lost run keeps its last figures. */
  metricsEvery?: number;
}

interface Watchdog {
  /** The fault, once one happened. */
  readonly fault: string | undefined;
  /** Seconds of measured phase before the fault (undefined: no fault, or it came in the warm-up). */
  readonly measuredBeforeFault_s: number | undefined;
  /** The last /metrics text scraped while the server answered, with how long ago (s). */
  lastMetrics(): { text: string; age_s: number } | undefined;
  /** Registers what to do on a fault (called once; at once if one already happened). */
  onFault(fn: (fault: string) => void): void;
  stop(): void;
}

/** "level 4" (the level whose measured window holds t), "the warm-up", or "the gap after level 4". */
function whereInRun(levels: readonly Level[], measureStartedAt: number | undefined, now: number): string {
  if (measureStartedAt === undefined) return 'the warm-up';
  const t = (now - measureStartedAt) / 1000;
  let last: Level | undefined;
  for (const l of levels) {
    if (t < l.start_s) break;
    last = l;
    if (t < l.start_s + l.duration_s) return `level ${l.tag}`;
  }
  return last ? `the end of level ${last.tag}` : 'the warm-up';
}

export function watchServer(opts: WatchdogOptions): Watchdog {
  const interval = opts.interval_ms ?? 1000;
  const timeout = opts.timeout_ms ?? 2000;
  const misses = opts.misses ?? 3;
  const started = performance.now();
  let fault: string | undefined;
  let measuredBeforeFault_s: number | undefined;
  const handlers: ((fault: string) => void)[] = [];
  let stopped = false;

  const since = () => {
    const now = performance.now();
    const measured = opts.measureStartedAt();
    const base = measured ?? started;
    return `${((now - base) / 1000).toFixed(1)} s into ${whereInRun(opts.levels, measured, now)}`;
  };
  const raise = (line: string) => {
    if (fault !== undefined || stopped) return;
    fault = line;
    const m = opts.measureStartedAt();
    if (m !== undefined) measuredBeforeFault_s = (performance.now() - m) / 1000;
    for (const h of handlers) h(line);
  };

  const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
    raise(`server exited with ${signal ? `signal ${signal}` : `code ${code}`} ${since()}`);
  };
  opts.child?.once('exit', onExit);

  let missed = 0;
  let last = '';
  let busy = false;
  let polls = 0;
  let metrics: { text: string; at: number } | undefined;
  const metricsEvery = opts.metricsEvery ?? 5;
  const poll = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const res = await fetch(`${opts.target}/health`, { signal: AbortSignal.timeout(timeout) });
      await res.arrayBuffer();
      // 503 is an answer (loading, shutting down): the server is alive and says why.
      missed = 0;
      if (polls++ % metricsEvery === 0) {
        const m = await fetch(`${opts.target}/metrics`, { signal: AbortSignal.timeout(timeout) });
        if (m.ok) metrics = { text: await m.text(), at: performance.now() };
      }
    } catch (e) {
      missed++;
      last = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      // A dead child is reported by its exit, which names the signal; give it the chance first.
      if (missed >= misses && (opts.child === undefined || opts.child.exitCode === null)) {
        raise(`${opts.target} stopped answering /health (${misses} polls in a row failed, last: ${last}) ${since()}`);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), interval);
  timer.unref();

  return {
    get fault() {
      return fault;
    },
    get measuredBeforeFault_s() {
      return measuredBeforeFault_s;
    },
    lastMetrics() {
      return metrics ? { text: metrics.text, age_s: Math.round((performance.now() - metrics.at) / 100) / 10 } : undefined;
    },
    onFault(fn) {
      if (fault !== undefined) fn(fault);
      else handlers.push(fn);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      opts.child?.off('exit', onExit);
    },
  };
}

/**
 * A run cut short measured each level only until the fault: its req/s divide by the seconds it really
 * ran, not the planned ones (a level the fault never reached keeps its row of zeros).
 */
export function cutAtFault(rows: LevelRow[], levels: readonly Level[], measured_s: number): void {
  for (const row of rows) {
    const level = levels.find((l) => l.tag === row.level);
    if (!level) continue;
    const ran = Math.max(0, Math.min(level.duration_s, measured_s - level.start_s));
    if (ran >= level.duration_s) continue;
    row.duration_s = Math.round(ran * 1000) / 1000;
    // From the rounded seconds, so that rps = requests / duration_s holds in the row as written (at a
    // high rate the unrounded figure differs visibly).
    row.rps = row.duration_s > 0 ? Math.round((row.requests / row.duration_s) * 1000) / 1000 : 0;
    row.images_per_s = Math.round(row.rps * row.images_per_request * 1000) / 1000;
  }
}

/** Stops k6 so it still writes its summary: SIGINT (k6 runs teardown and handleSummary), SIGKILL after `grace_ms`. */
export function interruptK6(child: ChildProcess, grace_ms = 15_000): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), grace_ms);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

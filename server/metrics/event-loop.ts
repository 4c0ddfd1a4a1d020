// The main thread's event-loop delay: the thread that accepts uploads and answers /health must stay
// free (sessions run in worker threads), so how long it was blocked is a metric of its own.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop delay since start, 10 ms resolution (perf_hooks.monitorEventLoopDelay), until stop(). */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
  }

  /** Seconds: the 0.5, 0.9 and 0.99 quantiles, the max and the mean (0 before any sample). */
  quantiles(): Record<string, number> {
    const h = this.histogram;
    const out: Record<string, number> = {};
    for (const q of [0.5, 0.9, 0.99]) out[String(q)] = h.percentile(q * 100) / 1e9;
    out['max'] = h.max / 1e9;
    out['mean'] = Number.isFinite(h.mean) ? h.mean / 1e9 : 0;
    return out;
  }

  stop(): void {
    this.histogram.disable();
  }
}

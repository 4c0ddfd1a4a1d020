// The session's plan: which implementation runs when (interleaved, rotated per round) and how long
// the rest will take, for the progress lines.
import type { ReportConfig } from './config.ts';

export interface ScheduledRun {
  /** 1-based position in the session. */
  index: number;
  round: number;
  impl: string;
}

/** Round-robin over implementations, REPEATS rounds, each round starting one implementation later. */
export function schedule(impls: string[], repeats: number): ScheduledRun[] {
  const out: ScheduledRun[] = [];
  for (let round = 1; round <= repeats; round++) {
    for (let i = 0; i < impls.length; i++) out.push({ index: out.length + 1, round, impl: impls[(i + round - 1) % impls.length]! });
  }
  return out;
}

/** Seconds one sweep is planned to take: measured levels, gaps, and a fixed allowance for k6 start,
 * warm-up and post-processing. A mix runs its streams at once: one measured DURATION. */
export function plannedRunSeconds(cfg: Pick<ReportConfig, 'levels' | 'duration_s' | 'gap_s'> & { mix?: ReportConfig['mix'] }, overhead_s = 15): number {
  const steps = cfg.mix ? 1 : cfg.levels.length;
  return steps * cfg.duration_s + Math.max(0, steps - 1) * cfg.gap_s + overhead_s;
}

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** Remaining time: mean wall time of the runs done so far (the plan before the first one) times the runs left. */
export function eta(doneWall_s: number[], remaining: number, planned_s: number): number {
  const per = doneWall_s.length > 0 ? doneWall_s.reduce((a, b) => a + b, 0) / doneWall_s.length : planned_s;
  return per * remaining;
}

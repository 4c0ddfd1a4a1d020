// STABILITY_MAX_DURATION: measure a level again, longer, until its windows are stable (perf_analyzer
// extends its measurement until the last three windows agree, up to a limit). A k6 scenario's duration
// is fixed when it starts, so the bench cannot stretch a running level: it runs the whole bench again
// with twice the duration, up to the limit, and keeps every attempt's folder (nothing measured is lost).
// The last attempt's exit code is the bench's.
import type { Summary } from '../../lib/summary.ts';
import { durationText } from '../../lib/knobs.ts';
import { planFor } from '../../lib/scenarios.ts';
import { WINDOWED } from '../../lib/stability.ts';
import { note } from '../common/progress.ts';

/** What an attempt leaves: its folder, its exit code and summary, and why it is incomplete if it is. */
export interface Attempt {
  runDir: string;
  exitCode: number;
  summary: Summary | null;
  fault?: string;
}

/** The levels whose windows did not agree (unstable or unresolved), as `impl level` words. */
export function unsettledLevels(summary: Summary | null): string[] {
  return (summary?.levels ?? []).filter((r) => r.stability && !r.stability.stable).map((r) => `${r.impl} ${r.level} (${r.stability!.verdict ?? 'unstable'})`);
}

/**
 * The next DURATION to try after `duration_s`: twice it, capped at `max_s`; null when extending is
 * off (max 0), the scenario is not judged in windows, or the cap is reached.
 */
export function nextDuration(kind: string, duration_s: number, max_s: number): number | null {
  if (!(max_s > 0) || !(WINDOWED as readonly string[]).includes(kind) || !(duration_s > 0)) return null;
  const next = Math.min(2 * duration_s, max_s);
  return next > duration_s ? next : null;
}

/**
 * Runs `bench` (with DURATION overridden after the first attempt) until no level is unsettled, the
 * run fails for another reason (a lost server), or STABILITY_MAX_DURATION is reached. Each attempt
 * after the first prints why it runs; the result lists the earlier attempts' folders.
 */
export async function runUntilStable<A extends Attempt>(
  scenario: string,
  env: NodeJS.ProcessEnv,
  max_s: number,
  bench: (extraEnv: Record<string, string>) => Promise<A>,
): Promise<A & { attempts: string[] }> {
  const plan = planFor(scenario, { ...env, SCENARIO: scenario });
  let duration_s = plan.levels[0]?.duration_s ?? 0;
  const attempts: string[] = [];
  let extra: Record<string, string> = {};
  for (;;) {
    const result = await bench(extra);
    const unsettled = unsettledLevels(result.summary);
    const next = result.fault || unsettled.length === 0 ? null : nextDuration(plan.kind, duration_s, max_s);
    if (next === null) {
      if (max_s > 0 && unsettled.length > 0 && !result.fault) note(`still not stable at DURATION=${durationText(duration_s)} (STABILITY_MAX_DURATION=${durationText(max_s)} reached): ${unsettled.join(', ')}`);
      if (attempts.length > 0) note(`earlier attempts kept: ${attempts.join(', ')}`);
      return { ...result, attempts };
    }
    attempts.push(result.runDir);
    note(`not stable: ${unsettled.join(', ')}; measuring again with DURATION=${durationText(next)} (attempt ${attempts.length + 1}, up to STABILITY_MAX_DURATION=${durationText(max_s)})`);
    duration_s = next;
    extra = { DURATION: durationText(next) };
  }
}

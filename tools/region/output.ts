// Where `make region` and `make interference` write: RESULTS_ROOT/<tool>/<timestamp>/ with a `latest`
// link beside it, and the time budget both tools stop at.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { timestamp } from '../common/results.ts';

export function toolDir(resultsRoot: string, tool: 'region' | 'interference'): { dir: string; link(): void } {
  const root = resolve(resultsRoot, tool);
  const dir = join(root, timestamp());
  mkdirSync(join(dir, 'probes'), { recursive: true });
  return {
    dir,
    link: () => {
      rmSync(join(root, 'latest'), { force: true });
      symlinkSync(basename(dir), join(root, 'latest'));
    },
  };
}

/** A wall-clock budget: `left()` false once spent; `text()` for progress lines. */
export function budget(seconds: number): { left(): boolean; elapsed_s(): number; text(): string } {
  const t0 = performance.now();
  const elapsed_s = () => (performance.now() - t0) / 1000;
  return { left: () => elapsed_s() < seconds, elapsed_s, text: () => `${Math.round(elapsed_s())} of ${Math.round(seconds)} s` };
}

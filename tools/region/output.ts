// Where `make region`, `make interference` and `make tune` write: RESULTS_ROOT/<tool>/<timestamp>/ with
// a `latest` link beside it, and the time budget the tools stop at.
import { mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { timestamp } from '../common/results.ts';

/** The run's folder (with its `sub` folder for the bench runs); `dir`: an existing one (a resumed run) instead of a new one. */
export function toolDir(resultsRoot: string, tool: string, o: { sub?: string; dir?: string } = {}): { dir: string; link(): void } {
  const root = resolve(resultsRoot, tool);
  // realpath: `latest` itself may be the folder named, and must not end up pointing at itself.
  const dir = o.dir ? realpathSync(o.dir) : join(root, timestamp());
  mkdirSync(join(dir, o.sub ?? 'probes'), { recursive: true });
  mkdirSync(root, { recursive: true });
  return {
    dir,
    link: () => {
      rmSync(join(root, 'latest'), { force: true });
      symlinkSync(relative(root, dir), join(root, 'latest'));
    },
  };
}

/** A wall-clock budget: `left()` false once spent; `text()` for progress lines. */
export function budget(seconds: number): { left(): boolean; elapsed_s(): number; text(): string } {
  const t0 = performance.now();
  const elapsed_s = () => (performance.now() - t0) / 1000;
  return { left: () => elapsed_s() < seconds, elapsed_s, text: () => `${Math.round(elapsed_s())} of ${Math.round(seconds)} s` };
}

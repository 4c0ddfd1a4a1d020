// Builds what a test needs through make, as a user would: each target is idempotent, so a file that
// runs alone (or first) builds its inputs and a later one finds them in place.
import { run } from './run.ts';

/** `make <target>`; throws with make's output when it fails. */
export async function makeTarget(target: string, timeoutMs = 600_000): Promise<void> {
  const r = await run('make', ['--no-print-directory', target], { timeoutMs });
  if (r.code !== 0) throw new Error(`make ${target} failed (exit ${r.code}):\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
}

/**
 * The int8 model files (build/models/*-int8.onnx). Not a prerequisite of `make test`: the few files
 * that serve int8 build them in their before() hook, so each also passes when run by itself. The first
 * build takes about 30 s (once per checkout, whoever asks first); up to date, make's checks take seconds.
 */
export const ensureInt8Models = (): Promise<void> => makeTarget('models-int8');

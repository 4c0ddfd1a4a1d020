// The Go runtime settings the load generators run with (k6 in make bench / report / harness, and
// vegeta in make harness: both are Go programs and get the same settings, so the comparison stays fair).
//
// Why: on a host that also runs the server under test, Go's defaults spend the CPU the server needs.
// With GOMAXPROCS = every core, each request's goroutines (the VU, net/http's read and write loops)
// are handed across cores and the scheduler spins idle threads looking for work (futex wake-ups,
// findRunnable in a pprof of k6); with GOGC=100, k6's short-lived per-request garbage is collected
// many times a second. `make harness` measures the effect (docs/harness.md): less k6 CPU per request and
// more requests/s on a shared host, while vegeta's own figures do not move with the same settings.
//
// GOMAXPROCS=1 only when the server is on this machine: a remote target (a GPU server driven from a
// many-core load machine) keeps Go's default, so k6 can use every core it has.
import type { Env } from '../../lib/env.ts';
import { autoOrInt, int, knob, readKnob } from '../../lib/knobs.ts';

export const LOADGEN_RUNTIME_KNOBS = {
  gomaxprocs: knob({
    env: 'LOADGEN_GOMAXPROCS', tier: 'expert',
    default: 'auto' as 'auto' | number,
    ...autoOrInt(1),
    doc: "Go's GOMAXPROCS for k6 (and vegeta in make harness): auto = 1 when the server under test runs on this machine (the bench starts it, or TARGET is loopback), else Go's default (every core)",
  }),
  gogc: knob({ env: 'LOADGEN_GOGC', tier: 'expert', default: 400, ...int(25, 10000), doc: "Go's GOGC for the load generators (100 is Go's default: more collections, less memory)" }),
};

/** True when `target` is empty (the bench starts the server here) or names this machine. */
export function isLocalTarget(target: string): boolean {
  if (target === '') return true;
  try {
    const host = new URL(target).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || host === '0.0.0.0' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** The two settings as the knobs give them (a tool's config carries them from its registry). */
export interface LoadgenRuntime {
  gomaxprocs: 'auto' | number;
  gogc: number;
}

export function readLoadgenRuntime(env: Env): LoadgenRuntime {
  return { gomaxprocs: readKnob(LOADGEN_RUNTIME_KNOBS.gomaxprocs, env), gogc: readKnob(LOADGEN_RUNTIME_KNOBS.gogc, env) };
}

/** The GOMAXPROCS / GOGC variables a generator process gets (none for GOMAXPROCS on a remote target in auto). */
export function loadgenRuntimeEnv(settings: LoadgenRuntime, target: string): Record<string, string> {
  const gomaxprocs = settings.gomaxprocs === 'auto' ? (isLocalTarget(target) ? 1 : undefined) : settings.gomaxprocs;
  return { ...(gomaxprocs !== undefined ? { GOMAXPROCS: String(gomaxprocs) } : {}), GOGC: String(settings.gogc) };
}

/** `GOMAXPROCS=1 GOGC=400`: the variables as a progress line, a table heading and env.json readers see them. */
export function describeLoadgenRuntime(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(' ');
}

// The one ConfigError, and small env readers for one-off k6 scripts of a user's own (the test
// fixtures use them). The product's knobs are declared in registries and read through lib/knobs.ts.
// Every error names the variable, what it got and what it accepts, so a run stops with one useful line.

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function stringEnv(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function requireEnv(env: Env, name: string, hint: string): string {
  const v = raw(env, name);
  if (v === undefined) throw new ConfigError(`${name} is not set: ${hint}`);
  return v;
}

export function numberEnv(env: Env, name: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  const kind = opts.integer ? 'an integer' : 'a number';
  const range = `${opts.min ?? '-inf'}..${opts.max ?? 'inf'}`;
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw new ConfigError(`${name}=${v} is not valid: expected ${kind} in ${range}`);
  }
  return n;
}

export function enumEnv<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${name}=${v} is not valid: expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function boolEnv(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name}=${v} is not valid: expected one of 1, true, yes, on, 0, false, no, off`);
}

/** k6-style durations: "30s", "2m", "1m30s", "500ms". Returns seconds. */
export function durationEnv(env: Env, name: string, fallback: string): number {
  const v = raw(env, name) ?? fallback;
  const parts = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(v);
  if (!parts || v === '') throw new ConfigError(`${name}=${v} is not valid: expected a duration such as 30s, 2m, 1m30s or 500ms`);
  const [, h, m, s, ms] = parts;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0) + Number(ms ?? 0) / 1000;
}

// The knob registry, after grafana/k6-jslib-testing's config: every knob of a runtime is declared once
// (env variable, flag where there is one, default, parser, one-line doc) and read through here.
// One precedence everywhere: flag > env > default (typed overrides from code last). One error form,
// from lib/env.ts's ConfigError: `NAME=value is not valid: expected <what is allowed>`.
// Pure TypeScript, both runtimes (k6 passes __ENV, Node process.env); flags come from
// lib/node/flags.ts (util.parseArgs), which only Node entry points use.
import { ConfigError, type Env } from './env.ts';

export type { Env };

/** How one knob's text becomes a value. `parse` returns INVALID for a value outside `allowed`. */
export interface Parser<T> {
  /** What is allowed, for the error and the README: "an integer from 0 to 65535". */
  readonly allowed: string;
  parse(raw: string): T | typeof INVALID;
  /** The value as a user writes it, where that is not String(value) (a duration kept in µs shows as 2ms). */
  show?(value: T): string;
}

export const INVALID: unique symbol = Symbol('invalid');

export interface Knob<T> extends Parser<T> {
  /** The environment variable; the same name in every runtime that reads it. */
  readonly env: string;
  /** The command-line flag (without --), where there is one. */
  readonly flag?: string;
  readonly default: T;
  /** The default as the README shows it, when it is not plain (computed, per scenario, ...). */
  readonly defaultText?: string;
  /** One line: what it does. */
  readonly doc: string;
  /** Who it is for: the README's table (essential), the configuration page (expert) or that page's
   * developer section (internal: plumbing the commands set for each other, not for users). Every knob says. */
  readonly tier: KnobTier;
}

export type KnobTier = 'essential' | 'expert' | 'internal';

export function tierOf(k: Knob<unknown>): KnobTier {
  return k.tier;
}

export type Registry = Readonly<Record<string, Knob<unknown>>>;
export type Values<R extends Registry> = { -readonly [K in keyof R]: R[K] extends Knob<infer T> ? T : never };

/** Declares a knob; the object literal keeps each knob's own value type. */
export function knob<T>(spec: Knob<T>): Knob<T> {
  return spec;
}

/** Blank counts as unset: `make bench DURATION=` means the default, as in the Makefile. */
function given(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Parses `raw` for `label` (the variable, or --flag); the one error message form. */
export function parseKnob<T>(k: Parser<T>, label: string, raw: string): T {
  const v = k.parse(raw);
  if (v === INVALID) throw new ConfigError(`${label}=${raw} is not valid: expected ${k.allowed}`);
  return v;
}

/**
 * Names no command reads any more, each with what replaced it: the new variable first, then, where the
 * value's form changed too, what it takes. One name per concept in every command (IMPL everywhere,
 * <SCOPE>_MAX_BATCH, durations as duration strings, "calibration" only for int8). Setting a retired
 * name is refused by every reader of its new knob (both runtimes), so an old command line cannot fall
 * back to a default without a word; a retired server flag (--batch-max-size) likewise.
 */
export const RETIRED_KNOBS: Readonly<Record<string, string>> = {
  IMPLS: 'IMPL',
  MAX_BATCH: 'REQUEST_MAX_BATCH',
  BATCH_MAX_SIZE: 'BATCHER_MAX_BATCH',
  BATCH_MAX_DELAY_US: 'BATCHER_MAX_DELAY (a duration such as 2ms)',
  QUEUE_TIMEOUT_US: 'QUEUE_TIMEOUT (a duration such as 50ms; 0s = none)',
  HEADERS_TIMEOUT_MS: 'HEADERS_TIMEOUT (a duration such as 20s)',
  REQUEST_TIMEOUT_MS: 'REQUEST_TIMEOUT (a duration such as 300s)',
  DURATION_S: 'TEST_DURATION (a duration such as 90s)',
  DIR: 'SAMPLES_DIR',
  SPEC: 'MERGE_SPEC',
  CONCURRENCY: 'LEVELS',
  MODEL: 'V2_MODELS (one of d0, d1, d2)',
  RUNS: 'MODEL_RUNS',
  IMAGES: 'DATASET_DIR',
  CALIBRATION_FILE: 'HOST_BOUNDS_FILE',
  CALIBRATION: 'HOST_BOUNDS',
  CALIB_DIR: 'INT8_CALIBRATION_DIR',
  CALIB_IMAGES: 'INT8_CALIBRATION_IMAGES',
  K6_WEB_DASHBOARD_PERIOD: 'DASHBOARD_PERIOD (a duration such as 10s; the bench passes it to k6)',
  TRITON_HTTP_PORT: 'TRITON_PORT',
  TRITON_MAX_BATCH_SIZE: 'TRITON_MAX_BATCH',
  TRITON_PREFERRED_BATCH_SIZE: 'TRITON_PREFERRED_BATCH',
  TRITON_MAX_QUEUE_DELAY_MICROSECONDS: 'TRITON_MAX_DELAY (a duration such as 2ms)',
};

/** The variable a retired name's entry names (its first word). */
export function retiredTo(old: string): string {
  return /^[A-Z0-9_]+/.exec(RETIRED_KNOBS[old] ?? '')?.[0] ?? '';
}

/** The retired names of each new variable, for readKnob's check. */
const RETIRED_BY_NEW: ReadonlyMap<string, readonly string[]> = Object.keys(RETIRED_KNOBS).reduce((m, old) => {
  m.set(retiredTo(old), [...(m.get(retiredTo(old)) ?? []), old]);
  return m;
}, new Map<string, string[]>());

/** The one line for a retired name (`--flag` for a flag). */
export function retiredMessage(old: string, flag = false): string {
  const to = RETIRED_KNOBS[old]!;
  if (!flag) return `${old} was renamed: set ${to} instead`;
  const asFlag = (name: string) => `--${name.toLowerCase().replace(/_/g, '-')}`;
  return `${asFlag(old)} was renamed: use ${asFlag(retiredTo(old))}${to.slice(retiredTo(old).length)} instead`;
}

/** Throws the one line when `env` sets a retired name whose new variable is `name`. */
export function refuseRetired(env: Env, name: string): void {
  for (const old of RETIRED_BY_NEW.get(name) ?? []) if (given(env, old) !== undefined) throw new ConfigError(retiredMessage(old));
}

/** refuseRetired for every knob of `registries`: a command that hands its environment on (the bench to
 * k6 and to the server it starts) stops at once, not in a child. */
export function refuseRetiredIn(env: Env, ...registries: Registry[]): void {
  for (const r of registries) for (const k of Object.values(r)) refuseRetired(env, k.env);
}

/** One knob: flag > env > `fallback` (the knob's default unless the caller computes one). A retired name of it is refused. */
export function readKnob<T>(k: Knob<T>, env: Env, flags: Readonly<Record<string, string>> = {}, fallback: T = k.default): T {
  refuseRetired(env, k.env);
  if (k.flag !== undefined && flags[k.flag] !== undefined) return parseKnob(k, `--${k.flag}`, flags[k.flag]!);
  const raw = given(env, k.env);
  return raw === undefined ? fallback : parseKnob(k, k.env, raw);
}

/** Every knob of a registry. */
export function readKnobs<R extends Registry>(registry: R, env: Env, flags: Readonly<Record<string, string>> = {}): Values<R> {
  const out: Record<string, unknown> = {};
  for (const [key, k] of Object.entries(registry)) out[key] = readKnob(k, env, flags);
  return out as Values<R>;
}

/** The variables of registries that are set in `env`, for env.json's knob record. */
export function setKnobs(env: Env, ...registries: Registry[]): Record<string, string> {
  const names = [...new Set(registries.flatMap((r) => Object.values(r).map((k) => k.env)))];
  return Object.fromEntries(names.filter((n) => given(env, n) !== undefined).map((n) => [n, env[n]!]));
}

// ---- Parsers -------------------------------------------------------------------------------------

export function int(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return {
    allowed: max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
    parse: (raw) => {
      const n = Number(raw);
      return /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(n) && n >= min && n <= max ? n : INVALID;
    },
  };
}

/** `auto`, or an integer in [min, max]. */
export function autoOrInt(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number | 'auto'> {
  const n = int(min, max);
  return { allowed: `auto or ${n.allowed}`, parse: (raw) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : n.parse(raw)) };
}

export function num(min: number, max = Infinity): Parser<number> {
  return {
    allowed: max === Infinity ? `a number >= ${min}` : `a number from ${min} to ${max}`,
    parse: (raw) => {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) && n >= min && n <= max ? n : INVALID;
    },
  };
}

export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return {
    allowed: `one of ${values.join(', ')}`,
    parse: (raw) => {
      const v = raw.trim().toLowerCase().replace(/\s+/g, '');
      return (values as readonly string[]).includes(v) ? (v as T) : INVALID;
    },
  };
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];
/** The same words everywhere: FORCE=true, FORCE=1 and FORCE=yes mean the same. */
export const bool: Parser<boolean> = {
  allowed: `one of ${[...TRUE, ...FALSE].join(', ')}`,
  parse: (raw) => {
    const v = raw.trim().toLowerCase();
    return TRUE.includes(v) ? true : FALSE.includes(v) ? false : INVALID;
  },
};

/** k6-style durations: "30s", "2m", "1m30s", "500ms", "1h", and "250us" (or µs) for microseconds. Parses to seconds. */
export const duration: Parser<number> = {
  allowed: 'a duration such as 30s, 2m, 1m30s or 500ms',
  parse: (raw) => {
    const parts = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?(?:(\d+)[uµ]s)?$/.exec(raw.trim());
    if (!parts || raw.trim() === '') return INVALID;
    const [, h, m, s, ms, us] = parts;
    return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0) + Number(ms ?? 0) / 1000 + Number(us ?? 0) / 1e6;
  },
};

const PER_SECOND = { s: 1, ms: 1e3, us: 1e6 } as const;

/**
 * A duration string from `min` to `max` (both durations), read as a whole number of `unit`s: the
 * knob takes `2ms` while the code keeps the microseconds (or milliseconds) it works in.
 */
export function durationIn(unit: keyof typeof PER_SECOND, min: string, max: string): Parser<number> {
  const [lo, hi] = [duration.parse(min) as number, duration.parse(max) as number];
  return {
    allowed: `a duration from ${min} to ${max} such as ${unit === 'us' ? '500us, 2ms or 1s' : '500ms, 20s or 5m'}`,
    parse: (raw) => {
      const s = duration.parse(raw);
      return s === INVALID || s < lo || s > hi ? INVALID : Math.round(s * PER_SECOND[unit]);
    },
    show: (n) => durationText(n / PER_SECOND[unit]),
  };
}

/** A duration in seconds as a duration string (`2ms`, `1.5s`, `250us`), for a knob passed on to another command. */
export function durationText(s: number): string {
  if (s === 0) return '0s';
  if (s < 1e-3 || !Number.isInteger(Math.round(s * 1e9) / 1e6)) return `${Math.round(s * 1e6)}us`;
  if (s < 1) return `${Math.round(s * 1e3)}ms`;
  return `${s}s`;
}

/** Free text (a path, a URL, a name); blank is unset, so anything given is accepted. */
export function text(what: string): Parser<string> {
  return { allowed: what, parse: (raw) => raw.trim() };
}

/** A comma list whose every item the item parser accepts; empty items are refused. */
export function list<T>(item: Parser<T>, allowed: string): Parser<T[]> {
  return {
    allowed,
    parse: (raw) => {
      const items = raw.split(',').map((s) => s.trim());
      const out: T[] = [];
      for (const s of items) {
        const v = s === '' ? INVALID : item.parse(s);
        if (v === INVALID) return INVALID;
        out.push(v);
      }
      return out;
    },
  };
}

// ---- Documentation -------------------------------------------------------------------------------

function defaultOf(k: Knob<unknown>): string {
  if (k.defaultText !== undefined) return k.defaultText;
  const d = k.default;
  if (k.show) return k.show(d);
  if (d === '' || d === undefined) return '-';
  if (Array.isArray(d)) return d.join(',');
  if (typeof d === 'boolean') return d ? '1' : '0';
  return String(d);
}

/** The docs' table of one registry (the knobs `include` keeps): variable (and flag), default, allowed, meaning. */
export function knobTable(registry: Registry, include: (k: Knob<unknown>) => boolean = () => true): string {
  const knobs = Object.values(registry).filter(include);
  const withFlags = knobs.some((k) => k.flag !== undefined);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const head = withFlags ? '| env / flag (flags win) | default | allowed | meaning |' : '| variable | default | allowed | meaning |';
  const rows = knobs.map((k) => {
    const name = withFlags && k.flag ? `${k.env} / --${k.flag}` : k.env;
    return `| ${name} | ${cell(defaultOf(k))} | ${cell(k.allowed)} | ${cell(k.doc)} |`;
  });
  return [head, '|---|---|---|---|', ...rows].join('\n');
}

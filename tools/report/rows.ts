// The report's rows: IMPL names one row per entry, `impl` or `impl@label`. A label lets one
// implementation be measured as two rows (IMPL=invalid@a,invalid@b: an A/A comparison whose ratio
// must come out "not distinguishable"); the server and each bench run only ever see the part before @.
import { ConfigError } from '../../lib/env.ts';

const LABEL = /^[A-Za-z0-9_.-]+$/;

/** The server implementation a row measures: the part before @ (the whole name when unlabelled). */
export function rowImpl(row: string): string {
  const at = row.indexOf('@');
  return at < 0 ? row : row.slice(0, at);
}

/** The implementations behind some rows, each once, in order. */
export const distinctImpls = (rows: readonly string[]): string[] => [...new Set(rows.map(rowImpl))];

/** Refuses a malformed label and a row named twice (their runs would be pooled into one row). */
export function checkRows(rows: readonly string[], knob = 'IMPL'): void {
  for (const row of rows) {
    const at = row.indexOf('@');
    if (at < 0) continue;
    const label = row.slice(at + 1);
    if (at === 0 || !LABEL.test(label)) throw new ConfigError(`${knob}=${rows.join(',')}: ${row} is not implementation@label (the label in letters, digits, _ . -), e.g. invalid@a`);
  }
  const twice = rows.filter((r, i) => rows.indexOf(r) !== i);
  if (twice.length > 0) throw new ConfigError(`${knob}=${rows.join(',')} names ${[...new Set(twice)].join(', ')} twice: give each row a label of its own, e.g. ${twice[0]}@a,${twice[0]}@b`);
}

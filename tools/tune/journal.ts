// make tune's journal: every measurement a search makes, one Outcome per line (JSON lines), appended
// and flushed as soon as it is made, so a search that is killed loses at most the measurement in
// flight and the next run with the same journal picks up where it stopped (tools/tune/search.ts looks
// each (configuration, stage) up before measuring it). A kill in the middle of a write leaves a
// truncated last line: it is dropped, and cut off the file so the next line starts clean.
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Outcome, Stage } from './types.ts';

export interface Journal {
  readonly path: string;
  /** The stored outcome of this configuration at this stage (the last one written), or undefined. */
  lookup(stack: string, key: string, stage: Stage): Outcome | undefined;
  /** Appends (and flushes) one measurement. */
  record(o: Outcome): void;
  /** Everything read and recorded, in file order. */
  readonly entries: readonly Outcome[];
}

const id = (stack: string, key: string, stage: Stage): string => `${stack}\t${key}\t${stage}`;

/** Opens (or starts) the journal at `path`; refuses a file whose lines, other than a truncated last one, are not outcomes. */
export function openJournal(path: string): Journal {
  const entries: Outcome[] = [];
  const index = new Map<string, Outcome>();
  const add = (o: Outcome): void => {
    entries.push(o);
    index.set(id(o.stack, o.key, o.stage), o);
  };
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    // A complete file ends with '\n', so its last piece is ''; anything else there is a line cut short.
    const tail = lines.pop()!;
    if (tail !== '') truncateSync(path, Buffer.byteLength(text) - Buffer.byteLength(tail));
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        throw new Error(`tune journal ${path}: line ${i + 1} is not JSON; delete that line (or the file, to start over)`);
      }
      if (!isOutcome(o)) throw new Error(`tune journal ${path}: line ${i + 1} is not a tune outcome (key, stack, stage, config); delete that line (or the file, to start over)`);
      add(o);
    });
  }
  return {
    path,
    entries,
    lookup: (stack, key, stage) => index.get(id(stack, key, stage)),
    record(o) {
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, JSON.stringify(o) + '\n');
      add(o);
    },
  };
}

const isOutcome = (o: unknown): o is Outcome => {
  const x = o as Partial<Outcome> | null;
  return (
    typeof x === 'object' && x !== null && typeof x.key === 'string' && typeof x.stack === 'string' && (x.stage === 'probe' || x.stage === 'full') &&
    typeof x.config === 'object' && x.config !== null && typeof x.objective === 'number' && Array.isArray(x.violations) && Array.isArray(x.clear_violations)
  );
};

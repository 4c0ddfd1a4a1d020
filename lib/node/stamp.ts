// make's idempotent steps (models, models-int8, data's tensors) prove their outputs up to date by
// reading them back (ONNX metadata, decoded calibration images, the models' input sizes), which costs
// a second or more on every `make bench`. Once that check has passed, or the outputs were written, a
// stamp records what the check depended on: a key (versions, knobs, sources' digests) and the size and
// modification time of every file it read. While nothing of that changed, the next run trusts the
// stamp; any change (a file rewritten or removed, another seed, a new preprocessing) falls back to the
// full check, which decides as before.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

/** size and mtime of each file, null for one that is missing. */
function filesSeen(files: readonly string[]): Record<string, [number, number] | null> {
  return Object.fromEntries(
    files.map((f) => {
      if (!existsSync(f)) return [f, null];
      const s = statSync(f);
      return [f, [s.size, s.mtimeMs]];
    }),
  );
}

const record = (key: unknown, files: readonly string[]): string => JSON.stringify({ key, files: filesSeen(files) });

/** True when `stamp` was written for this key and every file still has the size and mtime it had then. */
export function stampHolds(stamp: string, key: unknown, files: readonly string[]): boolean {
  try {
    return existsSync(stamp) && readFileSync(stamp, 'utf8') === record(key, files);
  } catch {
    return false; // unreadable stamp: do the full check
  }
}

/** Writes the stamp after a full check passed or the outputs were written (a missing file is recorded as missing). */
export function writeStamp(stamp: string, key: unknown, files: readonly string[]): void {
  writeFileSync(stamp, record(key, files));
}

/** sha256 of files' contents (source files whose change must invalidate a stamp). */
export function digestOf(files: readonly string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

// The bounds make bench resolved for this run (BOUNDS_RESOLVED: an absolute path), read with k6's
// open() in the init context, once per VU, and shared by the suite's thresholds and the in-run check.
import type { ResolvedBounds } from '../bounds.ts';

let resolved: { path: string; bounds: ResolvedBounds[] } | undefined;

/** undefined without a path (k6 run by hand: the checked-in bounds apply). */
export function resolvedBounds(raw: string): ResolvedBounds[] | undefined {
  const path = raw.trim();
  if (!path) return undefined;
  if (resolved?.path !== path) resolved = { path, bounds: JSON.parse(open(path)) as ResolvedBounds[] };
  return resolved.bounds;
}

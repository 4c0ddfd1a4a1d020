// The Pareto frontier of a set of points on two figures (throughput against p99, throughput against
// memory): the points no other point beats on one figure without losing on the other. Pure.

/** One figure of a point and which way is better; a point whose figure is null or not finite is left out. */
export interface ParetoAxis<T> {
  get(p: T): number | null | undefined;
  better: 'higher' | 'lower';
}

/** The non-dominated points, in ascending x order (ties by ascending y); equal points are all kept. */
export function pareto<T>(points: readonly T[], x: ParetoAxis<T>, y: ParetoAxis<T>): T[] {
  const rows = points
    .map((p) => ({ p, x: x.get(p), y: y.get(p) }))
    .filter((r): r is { p: T; x: number; y: number } => Number.isFinite(r.x) && Number.isFinite(r.y));
  // Signed so that larger is better on both figures.
  const sx = x.better === 'higher' ? 1 : -1;
  const sy = y.better === 'higher' ? 1 : -1;
  const dominates = (a: (typeof rows)[number], b: (typeof rows)[number]): boolean =>
    sx * a.x >= sx * b.x && sy * a.y >= sy * b.y && (sx * a.x > sx * b.x || sy * a.y > sy * b.y);
  return rows
    .filter((r) => !rows.some((q) => dominates(q, r)))
    .sort((a, b) => a.x - b.x || a.y - b.y)
    .map((r) => r.p);
}

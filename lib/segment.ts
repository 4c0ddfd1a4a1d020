// k6 execution segments (https://grafana.com/docs/k6/latest/using-k6/k6-options/reference/#execution-segment):
// N runners each take a disjoint slice of every scenario. Pure TypeScript: the bench builds the
// flags from it, and the k6 side derives its runner index and its share of the warm-up from the
// segment k6 reports (so k6-operator pods, which get only the flags, behave like local runners).

/** A fraction such as "1/4", "0.25", "25%", "0" or "1", as k6 writes and accepts them. */
export function parseFraction(text: string): number {
  const s = text.trim();
  let v: number;
  if (s.endsWith('%')) v = Number(s.slice(0, -1)) / 100;
  else if (s.includes('/')) {
    const [n, d] = s.split('/');
    v = Number(n) / Number(d);
  } else v = Number(s);
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`execution segment value ${text} is not a fraction in 0..1`);
  return v;
}

interface Segment {
  start: number;
  end: number;
}

/** "a:b" (or just "b", meaning "0:b"), as in --execution-segment. */
export function parseSegment(text: string): Segment {
  const parts = text.split(':');
  const [start, end] = parts.length === 1 ? [0, parseFraction(parts[0]!)] : [parseFraction(parts[0]!), parseFraction(parts[1]!)];
  if (end <= start) throw new Error(`execution segment ${text} is empty: its end must be after its start`);
  return { start, end };
}

/** The k6 flags of runner `index` of `count` equal runners. */
export function segmentArgs(index: number, count: number): string[] {
  const sequence = Array.from({ length: count + 1 }, (_, i) => (i === 0 ? '0' : i === count ? '1' : `${i}/${count}`));
  return ['--execution-segment', `${sequence[index]}:${sequence[index + 1]}`, '--execution-segment-sequence', sequence.join(',')];
}

/**
 * This segment's part of a whole count (e.g. the warm-up requests): floor(end*n) - floor(start*n),
 * so the parts of a full sequence sum to n exactly. Tolerant of float error in k6's reduced fractions.
 */
export function shareOf(seg: Segment, n: number): number {
  const at = (f: number) => Math.floor(f * n + 1e-9);
  return at(seg.end) - at(seg.start);
}

/** Index of the first item of a segment's share (offset of its warm-up images). */
export function shareStart(seg: Segment, n: number): number {
  return Math.floor(seg.start * n + 1e-9);
}

export interface RunnerIdentity {
  /** 0-based position of this runner's segment in the sequence; 0 without segments. */
  index: number;
  /** Runners in the sequence; 1 without segments. */
  count: number;
  segment: Segment;
}

/** From k6's consolidated options (exec.test.options): executionSegment "a:b", executionSegmentSequence "0,a,b,...,1". */
export function runnerIdentity(segment: string | null | undefined, sequence: string | null | undefined): RunnerIdentity {
  if (!segment) return { index: 0, count: 1, segment: { start: 0, end: 1 } };
  const seg = parseSegment(segment);
  const points = sequence ? sequence.split(',').map(parseFraction) : [0, seg.start, seg.end, 1].filter((v, i, a) => a.indexOf(v) === i);
  const index = points.findIndex((p) => Math.abs(p - seg.start) < 1e-9);
  return { index: Math.max(0, index), count: Math.max(1, points.length - 1), segment: seg };
}

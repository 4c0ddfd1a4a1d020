// Float comparisons with absolute and relative tolerance, as onnxruntime's js/node tests do:
// |actual - expected| <= abs + rel * |expected|. Failures name the index, the actual and the expected value.

export interface Tolerance {
  abs: number;
  rel: number;
}

export const EXACT: Tolerance = { abs: 0, rel: 0 };

export function isClose(actual: number, expected: number, tol: Tolerance = EXACT): boolean {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (actual === expected) return true; // also equal infinities
  return Math.abs(actual - expected) <= tol.abs + tol.rel * Math.abs(expected);
}

export interface Mismatch {
  index: number;
  actual: number;
  expected: number;
  message: string;
}

/** First element that differs beyond the tolerance (or a length mismatch at index -1); null if all close. */
export function firstMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = EXACT,
  label = 'values',
): Mismatch | null {
  if (actual.length !== expected.length) {
    return {
      index: -1, actual: actual.length, expected: expected.length,
      message: `${label}: length ${actual.length}, expected ${expected.length}`,
    };
  }
  for (let i = 0; i < actual.length; i++) {
    if (!isClose(actual[i], expected[i], tol)) {
      return {
        index: i, actual: actual[i], expected: expected[i],
        message: `${label}[${i}]: actual ${actual[i]}, expected ${expected[i]} (abs ${tol.abs}, rel ${tol.rel})`,
      };
    }
  }
  return null;
}

/** Throws with the first mismatch's message. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = EXACT,
  label = 'values',
): void {
  const m = firstMismatch(actual, expected, tol, label);
  if (m) throw new Error(m.message);
}

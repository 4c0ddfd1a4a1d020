// Which k6 thresholds are verdicts and which only expose a sub-metric. k6 computes a tagged
// sub-metric (http_reqs{phase:warmup}, requests_refused{impl:..,level:..}) only when a threshold
// names it, so the suite declares bounds that cannot fail (`count>=0`, `max>=0`, `rate>=0`) just to
// get those figures into the summary. They are kept (k6 needs them) but are not verdicts: the
// summary, junit.xml, the merge of N runners and make report count only bounds that can fail.
// Pure TypeScript: k6's handleSummary and the Node tools share it.

/** An aggregation k6 computes over samples, compared with `>=` to zero (spaces allowed as k6 allows them). */
const LOWER_BOUND_ZERO = /^\s*(count|rate|min|max|avg|med|p\(\s*\d+(?:\.\d+)?\s*\))\s*>=\s*0+(?:\.0+)?\s*$/;

/**
 * True when the expression is a lower bound of 0 on an aggregate that cannot be negative: `count>=0`,
 * `rate>=0`, `min>=0`, `max>=0`, `avg>=0`, `med>=0`, `p(N)>=0`. Counts and rates are never negative;
 * the trends this suite bounds (durations, MSEs) neither. `count>0`, `rate>0`, `value>=0` (a gauge may
 * go negative) and any non-zero bound are verdicts.
 */
export function isInformationalThreshold(expression: string): boolean {
  return LOWER_BOUND_ZERO.test(expression);
}

interface ThresholdLike {
  expression: string;
  ok: boolean;
}

/**
 * A summary's thresholds split into verdicts and informational ones. A bound of the informational
 * form that nevertheless failed (a trend with negative samples) is a verdict: it could fail, and did.
 * Decided from the expression, so summaries written before the `informational` field count the same.
 */
export function tallyThresholds<T extends ThresholdLike>(thresholds: readonly T[]): { verdicts: T[]; informational: T[]; passed: T[]; failed: T[] } {
  const informational = thresholds.filter((t) => t.ok && isInformationalThreshold(t.expression));
  const verdicts = thresholds.filter((t) => !informational.includes(t));
  return { verdicts, informational, passed: verdicts.filter((t) => t.ok), failed: verdicts.filter((t) => !t.ok) };
}

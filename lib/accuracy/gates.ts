// Accuracy gates: metrics against the bounds of lib/bounds.ts. Pure TypeScript (Node tools and k6).
import type { AccuracyMetrics } from './metrics.ts';

/** The accuracy part of lib/bounds.ts's AccuracyBounds that gates the replayed metrics
 * (output_match_min is the in-run k6 threshold). Structural, so either module can own the type. */
export interface AccuracyGateBounds {
  boxes_mse_max: number;
  scores_mse_max: number;
  labels_accuracy_min: number;
  /** Bound on unmatched_ratio (unmatched / reference detections); 0 for lossless. */
  unmatched_max: number;
}

export interface GateResult {
  metric: 'boxes_mse' | 'scores_mse' | 'labels_accuracy' | 'unmatched_ratio';
  /** null: not measurable (no matched pair although detections were expected): counts as broken. */
  value: number | null;
  op: '<=' | '>=';
  bound: number;
  passed: boolean;
}

export function evaluateGates(m: AccuracyMetrics, b: AccuracyGateBounds): GateResult[] {
  const upTo = (metric: GateResult['metric'], value: number | null, bound: number): GateResult =>
    ({ metric, value, op: '<=', bound, passed: value !== null && value <= bound });
  const atLeast = (metric: GateResult['metric'], value: number | null, bound: number): GateResult =>
    ({ metric, value, op: '>=', bound, passed: value !== null && value >= bound });
  return [
    upTo('boxes_mse', m.boxes_mse, b.boxes_mse_max),
    upTo('scores_mse', m.scores_mse, b.scores_mse_max),
    atLeast('labels_accuracy', m.labels_accuracy, b.labels_accuracy_min),
    upTo('unmatched_ratio', m.unmatched_ratio, b.unmatched_max),
  ];
}

/** "accuracy d1 boxes_mse = 12.5 px^2, bound <= 1e-6 (0 of 100 matched)". */
export function describeBrokenGate(scope: string, g: GateResult, m: AccuracyMetrics): string {
  const unit = g.metric === 'boxes_mse' ? ' px^2' : '';
  const value = g.value === null ? `n/a (0 matched of ${m.reference_detections} reference detections)` : `${g.value}${unit}`;
  return `accuracy ${scope} ${g.metric} = ${value}, bound ${g.op} ${g.bound}` +
    ` (${m.matched} matched, ${m.unmatched_reference} missing, ${m.unmatched_actual} extra, ${m.images} images)`;
}

// Output-accuracy maths shared by the Node tools and the k6 scripts (pure TypeScript).
export { matchIou, iouBox, overlap, widen, MIN_EXTENT_PX, type Box } from './iou.ts';
export { matchDetections, DEFAULT_IOU_THRESHOLD, type Detections, type MatchResult, type MatchedPair, type MatchOptions } from './match.ts';
export {
  compareDetections, addRawHeadErrors, unmatchedRatio, addSums, emptySums, finalizeMetrics,
  type AccuracySums, type AccuracyMetrics,
} from './metrics.ts';
export { evaluateGates, describeBrokenGate, type AccuracyGateBounds, type GateResult } from './gates.ts';
export { checkOutput, checkModel, type OutputCheck, type ModelCheck } from './check.ts';
export { isClose, firstMismatch, assertAllClose, EXACT, type Tolerance, type Mismatch } from './tolerance.ts';

// Native wire encoding of detections: float tensors as base64 little-endian float32 with dims.
import type { ModelDetections, ModelDetectionsWithRaw, WireTensor } from '../../lib/types.ts';
import type { RawHeads } from '../runtime/infer-types.ts';

function wireTensor(data: Float32Array, lastDim: number): WireTensor {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { dtype: 'float32', dims: [data.length / lastDim, lastDim], data_base64: bytes.toString('base64') };
}

export function withWireRaw(det: ModelDetections, raw: RawHeads | undefined): ModelDetectionsWithRaw {
  const { boxes, scores, labels, num_detections, inference_ms } = det;
  const out: ModelDetectionsWithRaw = { boxes, scores, labels, num_detections, inference_ms };
  if (raw) {
    const anchors = raw.box_regression.length / 4;
    out.raw = {
      class_logits: wireTensor(raw.class_logits, raw.class_logits.length / anchors),
      box_regression: wireTensor(raw.box_regression, 4),
    };
  }
  return out;
}

// invalid: constant output, the harness's lower bound (MLPerf's null backend, which measures the
// harness itself). Decoded like the others, no model, zero detections of the right shape: its latency
// is the floor of HTTP + decoding + serialisation, and its accuracy gates must fail.
import type { ModelDetections } from '../../lib/types.ts';
import type { ImplementationFactory } from './types.ts';

const empty = (): ModelDetections => ({ boxes: [], scores: [], labels: [], num_detections: 0, inference_ms: 0 });

export const createInvalid: ImplementationFactory = () => ({
  name: 'invalid',
  description: 'Lower bound: decodes the image like the others, runs no model, returns zero detections per requested model.',
  lossless: false,
  async load() {},
  async infer(images, options) {
    return {
      images: images.map(() => ({ models: Object.fromEntries(options.models.map((m) => [m, empty()])) })),
      preprocess_ms: 0,
      infer_ms: 0,
      executions: [], // no session ran
      jobs: [], // nor any worker: queue and compute 0
    };
  },
  async close() {},
});

// Whether onnxruntime-node's CUDA execution provider loads on this host, found out independently of
// the server (a session created in the test process): the oracle the EP tests compare the server with,
// so each asserts the right thing on a CPU-only host and on an NVIDIA one.
import * as ort from 'onnxruntime-node';

export interface CudaProbe {
  loads: boolean;
  /** onnxruntime's first line when it does not. */
  error?: string;
}

let probe: Promise<CudaProbe> | undefined;

/** Creates (and releases) a CUDA-only session of `modelFile`; once per process. */
export function probeCuda(modelFile: string): Promise<CudaProbe> {
  probe ??= (async () => {
    try {
      const session = await ort.InferenceSession.create(modelFile, { executionProviders: ['cuda'], logSeverityLevel: 4 });
      await session.release();
      return { loads: true };
    } catch (e) {
      return { loads: false, error: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '' };
    }
  })();
  return probe;
}

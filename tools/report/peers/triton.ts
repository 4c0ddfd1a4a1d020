// The Triton peer in `make report PEERS=triton`: one row per model set (TRITON_MODEL_SETS), each a
// `make triton` started through peers/triton/driver.ts and benched over the Open Inference Protocol
// with per-model tensors (the same bytes our v2 models take), version 1 of each model.
import { knob, list, oneOf, readKnob, readKnobs } from '../../../lib/knobs.ts';
import { V2_KNOBS } from '../../../lib/v2/config.ts';
import { readTritonEnv, startTriton, stopTriton, TRITON_MODEL_SETS, type TritonModelSet } from '../../../peers/triton/driver.ts';
import type { ReportPeer } from './peer.ts';

export const TRITON_PEER_KNOBS = {
  tritonSets: knob<TritonModelSet[]>({ env: 'TRITON_MODEL_SETS', tier: 'expert', default: [...TRITON_MODEL_SETS], ...list(oneOf(TRITON_MODEL_SETS), `a comma list of ${TRITON_MODEL_SETS.join(', ')}`), doc: 'which Triton model sets become rows (`triton-instances`, `triton-dynamic`)' }),
};

export const tritonRow = (set: TritonModelSet): string => `triton-${set}`;
const setOf = (row: string): TritonModelSet => row.replace(/^triton-/, '') as TritonModelSet;

/** The per-model v2 models a peer row is measured on: V2_MODELS's list, else all three (a peer has no pipeline model). */
export function peerV2Models(env: NodeJS.ProcessEnv): string {
  const v2 = readKnob(V2_KNOBS.v2Models, env);
  return v2.kind === 'models' ? v2.models.join(',') : 'd0,d1,d2';
}

export const tritonPeer: ReportPeer<{ tritonSets: TritonModelSet[] }> = {
  name: 'triton',
  doc: '`triton`: Triton Inference Server, one row per TRITON_MODEL_SETS',
  knobs: TRITON_PEER_KNOBS,
  config: (env) => readKnobs(TRITON_PEER_KNOBS, env),
  rows: (cfg) => cfg.tritonSets.map(tritonRow),
  async start(row, o) {
    const triton = await startTriton({ modelSet: setOf(row), logFile: o.logFile, readyTimeout_s: o.readyTimeout_s });
    return { url: triton.url, metricsUrl: triton.metricsUrl, pid: triton.pid, logFile: triton.logFile, stop: async () => void (await stopTriton(triton)) };
  },
  stack(row) {
    const set = setOf(row);
    const e = readTritonEnv();
    const v = e?.versions ?? {};
    const config = set === 'dynamic' ? 'dynamic batcher' : 'instance groups, no batching';
    return `Triton Inference Server 2.51.0 (tritonserver of nvidia-pytriton ${v['nvidia-pytriton'] ?? '?'}), Python backend (Python ${e?.python_version ?? '?'}) running onnxruntime ${v['onnxruntime'] ?? '?'} CPU; model set ${set} (${config}; peers/triton/serve.py)`;
  },
  // Triton's version numbers are integers: version 1 of each model; IMPL stays the row's label.
  benchEnv: (_row, env) => ({ PROTOCOL: 'v2', V2_MODELS: peerV2Models(env), V2_VERSION: '1' }),
  commands: (row, args, env) => [
    `make triton TRITON_MODEL_SET=${setOf(row)} TRITON_PORT=8100 TRITON_METRICS_PORT=8102  # in another shell`,
    ['make', 'bench', ...args.scenario, `IMPL=${row}`, 'TARGET=http://127.0.0.1:8100', 'TARGET_METRICS=http://127.0.0.1:8102/metrics', 'PROTOCOL=v2', 'V2_VERSION=1', ...args.run, `V2_MODELS=${peerV2Models(env)}`, ...args.knobs].join(' '),
  ],
  reproduceKnobs: ['TRITON_MODEL_SETS'],
};

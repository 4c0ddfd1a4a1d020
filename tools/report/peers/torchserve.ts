// The TorchServe peer in `make report PEERS=torchserve`: one row, `torchserve`, a `make torchserve`
// (peers/torchserve/driver.ts, TORCHSERVE_* knobs as set) benched over TorchServe's own inference API
// (PROTOCOL=torchserve) with per-model tensors: the same bytes Triton's rows and our v2 rows take.
import { torchserveConfig } from '../../../peers/torchserve/config.ts';
import { readTorchServeEnv, startTorchServe, stopTorchServe } from '../../../peers/torchserve/driver.ts';
import type { ReportPeer } from './peer.ts';
import { peerV2Models } from './triton.ts';

export const TORCHSERVE_ROW = 'torchserve';

export const torchservePeer: ReportPeer<Record<string, never>> = {
  name: 'torchserve',
  doc: '`torchserve`: TorchServe with an onnxruntime handler (row `torchserve`, its /predictions API with per-model tensors, TORCHSERVE_* knobs)',
  knobs: {},
  config: () => ({}),
  rows: () => [TORCHSERVE_ROW],
  async start(_row, o) {
    const server = await startTorchServe({ logFile: o.logFile, readyTimeout_s: o.readyTimeout_s });
    return { url: server.url, metricsUrl: server.metricsUrl, pid: server.pid, logFile: server.logFile, stop: async () => void (await stopTorchServe(server)) };
  },
  stack() {
    const e = readTorchServeEnv();
    const v = e?.versions ?? {};
    const c = torchserveConfig(process.env);
    const batching = c.batchSize > 1 ? `batchSize ${c.batchSize}, maxBatchDelay ${c.maxBatchDelayMs} ms` : 'no batching';
    return `TorchServe ${v['torchserve'] ?? '?'} (Java frontend on ${e?.java_version ?? '?'}), ${c.workers} Python ${e?.python_version ?? '?'} workers per model (${batching}) running onnxruntime ${v['onnxruntime'] ?? '?'} CPU, ${c.intraOpThreadCount} intra-op thread(s) each; tensors in over /predictions (peers/torchserve/handler.py)`;
  },
  benchEnv: (_row, env) => ({ PROTOCOL: 'torchserve', V2_MODELS: peerV2Models(env) }),
  commands: (row, args, env) => [
    `make torchserve TORCHSERVE_PORT=8300 TORCHSERVE_METRICS_PORT=8302  # in another shell`,
    ['make', 'bench', ...args.scenario, `IMPL=${row}`, 'TARGET=http://127.0.0.1:8300', 'TARGET_METRICS=http://127.0.0.1:8302/metrics', 'PROTOCOL=torchserve', ...args.run, `V2_MODELS=${peerV2Models(env)}`, ...args.knobs].join(' '),
  ],
  reproduceKnobs: ['TORCHSERVE_WORKERS', 'TORCHSERVE_INTRA_OP_THREAD_COUNT', 'TORCHSERVE_BATCH_SIZE', 'TORCHSERVE_MAX_BATCH_DELAY'],
};

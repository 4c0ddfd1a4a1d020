// The FastAPI + onnxruntime peer in `make report PEERS=fastapi`: one row, `fastapi`, a `make
// fastapi` (peers/fastapi/driver.ts) benched over OUR native API: JPEG uploads, so its decode and
// letterbox are inside the row (as ours are with PROTOCOL=native; with PROTOCOL=v2 our rows take
// prepared tensors and the two are not the same work).
import { fastapiConfig } from '../../../peers/fastapi/config.ts';
import { readFastapiEnv, startFastapi, stopFastapi } from '../../../peers/fastapi/driver.ts';
import type { ReportPeer } from './peer.ts';

export const FASTAPI_ROW = 'fastapi';

export const fastapiPeer: ReportPeer<Record<string, never>> = {
  name: 'fastapi',
  doc: '`fastapi`: FastAPI + onnxruntime (row `fastapi`, our native API, FASTAPI_* knobs)',
  knobs: {},
  config: () => ({}),
  rows: () => [FASTAPI_ROW],
  async start(_row, o) {
    // The row's label is the implementation the peer serves; the seed API is for PROTOCOL=seed runs by hand.
    const server = await startFastapi({ logFile: o.logFile, readyTimeout_s: o.readyTimeout_s, env: { FASTAPI_API: 'native', FASTAPI_IMPL: FASTAPI_ROW } });
    return { url: server.url, metricsUrl: server.metricsUrl, pid: server.pid, logFile: server.logFile, stop: async () => void (await stopFastapi(server)) };
  },
  stack() {
    const e = readFastapiEnv();
    const v = e?.versions ?? {};
    const { workers } = fastapiConfig(process.env);
    return `FastAPI ${v['fastapi'] ?? '?'} on uvicorn ${v['uvicorn'] ?? '?'} (${workers} worker processes, one inference at a time each), Python ${e?.python_version ?? '?'}, Pillow ${v['pillow'] ?? '?'} decode, onnxruntime ${v['onnxruntime'] ?? '?'} CPU, one session per model per worker; images in over our native API (peers/fastapi/server.py)`;
  },
  benchEnv: () => ({ PROTOCOL: 'native' }),
  commands: (row, args) => [
    `make fastapi FASTAPI_PORT=8200  # in another shell`,
    ['make', 'bench', ...args.scenario, `IMPL=${row}`, 'TARGET=http://127.0.0.1:8200', 'PROTOCOL=native', ...args.run, ...args.knobs].join(' '),
  ],
  reproduceKnobs: ['FASTAPI_WORKERS', 'FASTAPI_INTRA_OP_THREADS'],
};

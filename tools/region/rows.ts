// The rows `make region` and `make interference` measure: each of our implementations on a server of its
// own (started for its row and stopped after it, so no other implementation's workers share the host),
// or, with TARGET, on that running server; then each peer row of PEERS (the report's registry: started
// together, idle while others run).
import { join } from 'node:path';
import { benchConfig } from '../bench/config.ts';
import { startServer, stopServer } from '../common/server-process.ts';
import { resolvePlacement } from '../common/cpu-placement.ts';
import { note } from '../common/progress.ts';
import { peerBenchEnv, peersConfig, startPeers, stopPeers, type PeerRow } from '../report/peers.ts';

/** One row while it is measured: its name, the bench knobs that aim a run at it, and its stack in words. */
export interface LiveRow {
  row: string;
  env: Record<string, string>;
  stack: string;
}

/**
 * Runs `measure` for every row in turn: our implementations first, each on a fresh server, then the
 * peers. A row that cannot start (a server that exits, a peer not installed) is reported to `failed`
 * and the others still run, so what was measured is kept; errors inside `measure` stop the tool.
 */
export async function forEachRow(impls: readonly string[], dir: string, env: NodeJS.ProcessEnv, measure: (row: LiveRow) => Promise<void>, failed: (row: string, why: string) => void): Promise<void> {
  const base = benchConfig(env);
  const placement = resolvePlacement(base.cpuPlacement);
  // TARGET: a server already running (a GPU host, one started by hand): its implementations are the rows.
  if (base.target) for (const impl of impls) await measure({ row: impl, env: { TARGET: base.target, IMPL: impl }, stack: `${base.target}, IMPL=${impl}` });
  for (const impl of base.target ? [] : impls) {
    const server = await startServer({ ...base.server, logFile: join(dir, `server-${impl}.log`), readyTimeout_s: base.readyTimeout_s, env: { IMPL: impl }, cpus: placement.server_cpus }).catch((e: Error) => void failed(impl, e.message));
    if (!server) continue;
    note(`row ${impl}: server ${server.url} ready in ${server.ready_ms} ms (IMPL=${impl})`);
    try {
      await measure({ row: impl, env: { TARGET: server.url, IMPL: impl }, stack: `our server, IMPL=${impl}` });
    } finally {
      await stopServer(server);
    }
  }
  const peers = peersConfig(env);
  if (peers.peers.length === 0) return;
  let rows: PeerRow[] = [];
  try {
    rows = await startPeers(peers, dir, base.readyTimeout_s, note).catch((e: Error) => (failed(`PEERS=${peers.peers.join(',')}`, e.message), []));
    for (const r of rows) await measure({ row: r.row, env: peerBenchEnv(r, env), stack: r.stack });
  } finally {
    await stopPeers(rows);
  }
}

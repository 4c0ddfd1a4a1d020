// What a peer of `make report PEERS=...` is: one implementation of ReportPeer per peer (triton.ts,
// fastapi.ts, ...), listed in tools/report/peers.ts. A peer turns into report rows, each a running
// server the report starts once, benches like ours and stops at the end; everything that differs
// between peers (rows, start/stop, stack, protocol, reproduce lines) is behind this interface.
import type { Registry } from '../../../lib/knobs.ts';

/** A peer row's server, started and ready. */
export interface StartedPeer {
  url: string;
  /** Its Prometheus endpoint (TARGET_METRICS of its runs). */
  metricsUrl: string;
  /** Root of the server's process tree (its CPU time per run is booked from /proc). */
  pid: number;
  /** Its log file. */
  logFile: string;
  stop(): Promise<void>;
}

/** The bench knobs of one reproduce line of a peer row, as `KEY=value` words. */
export interface PeerRunArgs {
  scenario: string[];
  run: string[];
  knobs: string[];
}

export interface ReportPeer<Config = unknown> {
  /** The PEERS name. */
  name: string;
  /** The words PEERS's doc gives this peer. */
  doc: string;
  /** Report-side knobs of this peer (Triton: TRITON_MODEL_SETS), declared in the PEERS registry. */
  knobs: Registry;
  /** This peer's knobs as read (knobs read through readKnobs). */
  config(env: NodeJS.ProcessEnv): Config;
  /** The rows it adds, in order (each a server of its own). */
  rows(cfg: Config): string[];
  /** Starts the server of one row; resolves once it is ready. */
  start(row: string, o: { logFile: string; readyTimeout_s: number }): Promise<StartedPeer>;
  /** The row's server stack and versions, in words. */
  stack(row: string): string;
  /**
   * The bench knobs of a run of this row besides TARGET, TARGET_METRICS and IMPL (the row's label):
   * the protocol and what it asks for. `env` is the report's.
   */
  benchEnv(row: string, env: NodeJS.ProcessEnv): Record<string, string>;
  /**
   * The reproduce lines of a run of the row: start the peer by hand, then `make bench` with `scenario`
   * (SCENARIO=sweep, or SCENARIO=mix), `run` (LEVELS or MIX and MIX_LOOP, DURATION, ACCURACY) and
   * `knobs` (the bench knobs the user set, less PROTOCOL and V2_MODELS: the peer says its own).
   */
  commands(row: string, args: PeerRunArgs, env: NodeJS.ProcessEnv): string[];
  /** Report knobs to repeat in the reproduce `make report` line when set. */
  reproduceKnobs: string[];
}

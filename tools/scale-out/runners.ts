// `make bench RUNNERS=N`: the same bundled scenario as N k6 processes on this machine, each with
// its own execution segment (the local stand-in for N k6-operator pods). Each runner writes its raw
// samples with k6's json output (gzipped) and its own summary; the bench merges the samples into
// ONE summary and evaluates every declared threshold on the aggregate: k6 judges per runner, and a
// runner that passes its own p99 can hide an aggregate that fails. The runners' own verdicts are
// recorded in runners.json and do not decide.
//
// Run folder: runners/<i>/{samples.json.gz, summary.json, k6.log, dashboard.html}, runners.json,
// merge.json (what `make bench-merge SAMPLES_DIR=<run folder>` needs to merge again), and the merged
// summary.json/txt/junit.xml the rest of the bench post-processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { pinned } from '../common/cpu-placement.ts';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { constants } from 'node:os';
import type { Plan } from '../../lib/scenarios.ts';
import { segmentArgs } from '../../lib/segment.ts';
import type { Summary } from '../../lib/summary.ts';
import { BenchError, note } from '../common/progress.ts';
import { sampleCpu } from '../common/cpu.ts';
import { interruptK6 } from '../bench/watchdog.ts';
import { judgingOf, mergeRunners, planEnvOf, type DeclaredThresholds, type MergeSpec } from './merge.ts';
import { EXIT_THRESHOLDS_FAILED } from '../../lib/exit-codes.ts';
import { writeSummaryFiles } from '../common/summary-files.ts';

const RUNNERS_DIR = 'runners';
const SAMPLES_FILE = 'samples.json.gz';

/** The options k6 consolidates for this script and env (`k6 inspect`): its declared thresholds and trend stats. */
export async function inspectOptions(k6: string, script: string, env: NodeJS.ProcessEnv): Promise<{ thresholds: DeclaredThresholds; summaryTrendStats: string[] }> {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(k6, ['inspect', '--include-system-env-vars', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout, stderr }));
  });
  if (code !== 0) throw new BenchError(`k6 inspect ${script} failed (exit ${code}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  const o = JSON.parse(stdout) as { thresholds?: DeclaredThresholds | null; summaryTrendStats?: string[] | null };
  return { thresholds: o.thresholds ?? {}, summaryTrendStats: o.summaryTrendStats ?? ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'] };
}

export interface RunnerRecord {
  index: number;
  segment: string;
  pid: number | null;
  command: string[];
  log: string;
  samples: string;
  /** stopped: interrupted by the bench's watchdog (the server was lost), not a runner failure. */
  status: 'running' | 'passed' | 'thresholds failed' | 'died' | 'stopped';
  exit_code: number | null;
  signal: string | null;
  /** The runner's own verdicts (k6's, on its slice only): informational. */
  own_thresholds?: { ok: boolean; failed: string[] };
  /** Measured requests in this runner's samples. */
  requests?: number;
  /** CPU seconds this k6 process used (sampled from /proc). */
  cpu_s?: number | null;
}

interface RunnersOptions {
  k6: string;
  script: string;
  /** The env a single k6 would get; each runner gets its own RESULTS_DIR and dashboard export. */
  env: NodeJS.ProcessEnv;
  runDir: string;
  count: number;
  plan: Plan;
  impls: string[];
  capacitySloMs?: number;
  /** Live dashboard port of runner 0 (-1: none); the other runners only export theirs. */
  livePort: number;
  /** Called once every runner has started, with a function that stops them all (the watchdog's hook). */
  onStarted?: (stopAll: () => void) => void;
  /** CPU_PLACEMENT: the CPUs every runner is pinned to (null or absent: not pinned). */
  cpus?: string | null;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
}

/** Runs the N runners, merges their samples into runDir/summary.*, and returns k6's exit code for the whole. */
export async function runRunners(o: RunnersOptions): Promise<number> {
  const declared = await inspectOptions(o.k6, o.script, o.env);
  const spec: MergeSpec = { version: 1, scenario: o.plan.name, impls: o.impls, planEnv: planEnvOf(o.env), thresholds: declared.thresholds, summaryTrendStats: declared.summaryTrendStats, ...(o.capacitySloMs !== undefined ? { capacitySloMs: o.capacitySloMs } : {}), judging: judgingOf(o.env) };
  writeFileSync(join(o.runDir, 'merge.json'), JSON.stringify(spec, null, 2));

  const records: RunnerRecord[] = [];
  const writeRecords = (extra: Record<string, unknown> = {}) => writeFileSync(join(o.runDir, 'runners.json'), JSON.stringify({ count: o.count, ...extra, runners: records }, null, 2));
  const exits: Promise<void>[] = [];
  const children: ChildProcess[] = [];
  let stopping = false;
  for (let i = 0; i < o.count; i++) {
    const dir = join(o.runDir, RUNNERS_DIR, String(i));
    mkdirSync(dir, { recursive: true });
    const seg = segmentArgs(i, o.count);
    const args = ['run', '--no-usage-report', ...seg, '--out', `json=${join(dir, SAMPLES_FILE)}`, o.script];
    const env: NodeJS.ProcessEnv = {
      ...o.env,
      RESULTS_DIR: dir,
      K6_WEB_DASHBOARD_EXPORT: join(dir, 'dashboard.html'),
      K6_WEB_DASHBOARD_PORT: i === 0 ? String(o.livePort) : '-1',
    };
    const log = createWriteStream(join(dir, 'k6.log'));
    const [cmd, ...argv] = pinned([o.k6, ...args], o.cpus ?? null);
    const child = spawn(cmd!, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    // Runner 0's output is shown as a single run's is; every runner's goes to its k6.log.
    child.stdout.on('data', (d) => (log.write(d), i === 0 && process.stdout.write(d)));
    child.stderr.on('data', (d) => (log.write(d), i === 0 && process.stderr.write(d)));
    const rec: RunnerRecord = { index: i, segment: seg[1]!, pid: child.pid ?? null, command: [o.k6, ...args], log: relative(o.runDir, join(dir, 'k6.log')), samples: relative(o.runDir, join(dir, SAMPLES_FILE)), status: 'running', exit_code: null, signal: null };
    records.push(rec);
    const cpu = sampleCpu(child.pid);
    exits.push(
      new Promise((resolve) => {
        const done = (code: number | null, signal: NodeJS.Signals | null) => {
          rec.cpu_s = cpu.stop();
          rec.exit_code = exitCodeOf(code, signal);
          rec.signal = signal;
          rec.status = rec.exit_code === 0 ? 'passed' : rec.exit_code === EXIT_THRESHOLDS_FAILED ? 'thresholds failed' : stopping ? 'stopped' : 'died';
          log.end(() => resolve());
        };
        child.on('error', (e) => (log.write(`spawn failed: ${e.message}\n`), done(127, null)));
        child.on('exit', done);
      }),
    );
  }
  // Written once every runner has started, so their pids are there while they run.
  writeRecords();
  note(`${o.count} k6 runners started (pids ${records.map((r) => r.pid).join(', ')}); runner 0's output below, each runner's in ${RUNNERS_DIR}/<i>/k6.log`);
  o.onStarted?.(() => {
    stopping = true;
    for (const child of children) interruptK6(child);
  });
  await Promise.all(exits);
  const cpuTotal = records.reduce((a, r) => a + (r.cpu_s ?? 0), 0);
  note(`k6 CPU: ${Math.round(cpuTotal * 100) / 100} s over ${o.count} runners (${records.map((r) => r.cpu_s ?? '?').join(' + ')})`);

  // The runners' own summaries: their run time and their own (non-deciding) verdicts.
  let duration_s: number | undefined;
  for (const rec of records) {
    const own = join(o.runDir, RUNNERS_DIR, String(rec.index), 'summary.json');
    if (!existsSync(own)) continue;
    const s = JSON.parse(readFileSync(own, 'utf8')) as Summary;
    duration_s = Math.max(duration_s ?? 0, s.test_duration_s);
    rec.own_thresholds = { ok: s.thresholds_ok, failed: s.thresholds.filter((t) => !t.ok).map((t) => `${t.metric}: ${t.expression}`) };
  }
  const files = records.map((r) => join(o.runDir, r.samples)).filter((f) => existsSync(f));
  const merged = files.length > 0 ? await mergeRunners(files, spec, duration_s) : undefined;
  if (merged) {
    for (const rec of records) rec.requests = merged.runners.find((m) => m.file === join(o.runDir, rec.samples))?.requests ?? 0;
    writeSummaryFiles(o.runDir, merged.summary);
    note(`merged ${files.length} runner file(s), ${merged.input_bytes} bytes, in ${merged.merge_ms} ms: ${merged.summary.thresholds.filter((t) => !t.ok).length} threshold(s) failed on the aggregate`);
  }
  writeRecords(merged ? { merge: { ms: merged.merge_ms, input_bytes: merged.input_bytes, files: files.length } } : { merge: null });
  writeFileSync(join(o.runDir, 'dashboard.html'), dashboardIndex(o.runDir, records));

  for (const rec of records) {
    if (rec.own_thresholds && !rec.own_thresholds.ok) note(`runner ${rec.index} (${rec.segment}) failed its own thresholds (recorded, not deciding): ${rec.own_thresholds.failed.join('; ')}`);
  }
  const died = records.filter((r) => r.status === 'died');
  for (const r of died) note(`runner ${r.index} (segment ${r.segment}, pid ${r.pid}) DIED: ${r.signal ? `killed by ${r.signal}` : `exit ${r.exit_code}`}; its log: ${r.log}; partial results kept`);
  if (died.length > 0) return died[0]!.exit_code!;
  if (!merged) throw new BenchError(`no runner wrote samples under ${join(o.runDir, RUNNERS_DIR)}: see the runners' k6.log`);
  return merged.summary.thresholds_ok ? 0 : EXIT_THRESHOLDS_FAILED;
}

/** The run folder's dashboard.html: k6 exports one dashboard per runner; this page links them. */
function dashboardIndex(runDir: string, records: RunnerRecord[]): string {
  const items = records.map((r) => {
    const path = `${RUNNERS_DIR}/${r.index}/dashboard.html`;
    const link = existsSync(join(runDir, path)) ? `<a href="${path}">runner ${r.index}</a>` : `runner ${r.index} (no report: k6 writes none for a run shorter than two snapshots)`;
    return `<li>${link} (segment ${r.segment}, ${r.status})</li>`;
  });
  return `<!doctype html>\n<html lang="en"><head><meta charset="UTF-8"><title>k6 runners</title></head><body>\n<h1>k6 web dashboards, one per runner</h1>\n<p>Each runner's dashboard shows its own slice of the load; the merged figures are in summary.txt.</p>\n<ul>\n${items.join('\n')}\n</ul>\n</body></html>\n`;
}

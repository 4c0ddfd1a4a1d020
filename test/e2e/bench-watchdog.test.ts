// make bench's watchdog: a server lost mid-run stops k6 within seconds, the bench exits 97 with one
// line naming the cause, and the partial results folder is kept and marked INCOMPLETE. Killed with
// SIGKILL (the real server the bench started, IMPL=invalid so it starts in seconds), and hung
// (a fake TARGET whose /health stops answering).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { EXIT_SERVER_LOST } from '../../lib/exit-codes.ts';
import type { RunnerRecord } from '../../tools/scale-out/runners.ts';
import { fakeTarget, runBenchCli } from './bench-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bench-watchdog-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));

/** Starts the bench (its own stub server, 120 s planned), SIGKILLs the server once measuring, waits. */
async function benchWithServerKilled(env: Record<string, string>): Promise<{ root: string; code: number | null; stdout: string; stderr: string; afterKill_ms: number }> {
  const root = tmp();
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/bench/run.ts'], {
    env: { ...process.env, CI: 'true', ACCURACY: '0', HOST_BOUNDS: '0', SCENARIO: 'concurrency2', IMPL: 'invalid', DURATION: '120s', WARMUP: '2', RESULTS_ROOT: root, MEMORY_INTERVAL: '0.5s', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const deadline = Date.now() + 180_000;
  let pid: number | undefined;
  let url = '';
  while (pid === undefined) {
    const m = /server (\S+) ready in \d+ ms \(pid (\d+)/.exec(stdout);
    if (m) [url, pid] = [m[1]!, Number(m[2])];
    if (Date.now() > deadline || child.exitCode !== null) assert.fail(`the bench never started its server:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Into the measured phase: k6's setup names the server's memory window `measure` after the warm-up.
  for (;;) {
    const vram = (await (await fetch(`${url}/vram`)).json()) as { window?: string };
    if (vram.window === 'measure') break;
    if (Date.now() > deadline || child.exitCode !== null) assert.fail(`the bench never reached its measured phase:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The bench learns that from its own /vram samples (MEMORY_INTERVAL 0.5 s): four periods, and the
  // fault falls in level 2 as the bench sees it.
  await new Promise((r) => setTimeout(r, 2000));
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  let guard: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'hung'>((r) => (guard = setTimeout(() => r('hung'), 60_000)))]);
  // Cleared, or the file's process would live on 60 s after its last test.
  clearTimeout(guard);
  if (code === 'hung') child.kill('SIGKILL');
  return { root, code: code === 'hung' ? null : code, stdout, stderr, afterKill_ms: Date.now() - killedAt };
}

test('server killed mid-run: k6 stopped, exit 97, one line with the signal and the level, partial folder kept', async () => {
  const { root, code, stdout, stderr, afterKill_ms } = await benchWithServerKilled({});
  assert.equal(code, EXIT_SERVER_LOST, `exit code\n${stdout}\n${stderr}`);
  // k6 was stopped by the watchdog, not left to run its 120 s.
  assert.ok(afterKill_ms < 45_000, `the bench ended ${afterKill_ms} ms after the kill`);
  const line = stderr.split('\n').find((l) => l.startsWith('bench: server exited'));
  assert.match(line ?? '', /^bench: server exited with signal SIGKILL \d+\.\d s into level 2; partial results kept in .+ \(marked INCOMPLETE\)$/, stderr);

  const dir = latest(root);
  assert.match(readFileSync(join(dir, 'INCOMPLETE'), 'utf8'), /server exited with signal SIGKILL/);
  for (const f of ['server.log', 'server-metrics.before.prom', 'server-metrics.prom', 'memory.json', 'env.json', 'bounds.json']) assert.ok(existsSync(join(dir, f)), `${f} kept`);
  // The watchdog's last /metrics scrape stands in for the one the dead server cannot answer.
  assert.match(readFileSync(join(dir, 'server-metrics.prom'), 'utf8'), /watchdog's last scrape[\s\S]*nv_inference_request_success/);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  assert.match(summary.incomplete?.reason ?? '', /SIGKILL/);
  // req/s over the seconds measured before the kill, not the planned 120 s; the refused connections
  // after the kill are failures in their own column, never fast requests.
  const row = summary.levels[0]!;
  assert.ok(row.duration_s > 0 && row.duration_s < 30, `measured ${row.duration_s} s`);
  assert.ok(Math.abs(row.rps - row.requests / row.duration_s) < 0.01);
  assert.match(readFileSync(join(dir, 'summary.txt'), 'utf8'), /^INCOMPLETE: server exited with signal SIGKILL/);
});

test('server killed mid-run with RUNNERS=2: every runner stopped (not left to run), exit 97, runners marked stopped', async () => {
  const { root, code, stdout, stderr, afterKill_ms } = await benchWithServerKilled({ RUNNERS: '2' });
  assert.equal(code, EXIT_SERVER_LOST, `exit code\n${stdout}\n${stderr}`);
  assert.ok(afterKill_ms < 45_000, `the bench ended ${afterKill_ms} ms after the kill`);
  assert.match(stdout, /server exited with signal SIGKILL[^\n]*: stopping the 2 k6 runners/);
  const dir = latest(root);
  const runners = (JSON.parse(readFileSync(join(dir, 'runners.json'), 'utf8')) as { runners: RunnerRecord[] }).runners;
  assert.deepEqual(runners.map((r) => r.status), ['stopped', 'stopped'], JSON.stringify(runners));
  assert.doesNotMatch(stdout, /DIED/);
  assert.match(readFileSync(join(dir, 'INCOMPLETE'), 'utf8'), /server exited with signal SIGKILL/);
});

test('external TARGET whose /health stops answering: exit 97, "stopped answering /health", folder marked', async () => {
  const target = await fakeTarget({ fastMs: 20, healthHangsAfter: 30 });
  try {
    const root = tmp();
    const started = Date.now();
    const r = await runBenchCli({ TARGET: target.url, SCENARIO: 'concurrency1', IMPL: 'baseline', DURATION: '120s', WARMUP: '2', RESULTS_ROOT: root }, 120_000);
    assert.equal(r.code, EXIT_SERVER_LOST, r.stdout + r.stderr);
    assert.ok(Date.now() - started < 90_000, 'k6 was stopped before its 120 s');
    assert.match(r.stderr, new RegExp(`^bench: ${target.url.replace(/[.:/]/g, '\\$&')} stopped answering /health \\(3 polls in a row failed, last: .+\\) \\d+\\.\\d s into level 1; partial results kept`, 'm'));
    const dir = latest(root);
    assert.match(readFileSync(join(dir, 'INCOMPLETE'), 'utf8'), /stopped answering \/health/);
    assert.ok(existsSync(join(dir, 'summary.json')));
  } finally {
    await target.close();
  }
});

// The report's peer rows: a Triton row beside ours, with the server-side split from each run's two
// /metrics scrapes, every server's CPU time during each run (servers-cpu.json) and every server's
// stack, through the same gather -> build -> render path as make report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { gatherRuns, ROLE_FILE } from '../../tools/report/gather.ts';
import { buildReport, type ReportMeta } from '../../tools/report/model.ts';
import { reportMarkdown } from '../../tools/report/render.ts';
import { peersConfig, SERVERS_CPU_FILE } from '../../tools/report/peers.ts';
import { serverStatement } from '../../tools/report/run.ts';

const summaryFixture = () => JSON.parse(readFileSync('test/fixtures/report/baseline.summary.json', 'utf8')) as Summary;

// Ours labels by impl; Triton by model and version. Values: [requests, request_us, queue_us, infer_us].
const ours = (n: number, req: number, queue: number, infer: number) => `nv_inference_request_success{impl="baseline"} ${n}
nv_inference_request_duration_us{impl="baseline"} ${req}
nv_inference_queue_duration_us{impl="baseline"} ${queue}
nv_inference_compute_infer_duration_us{impl="baseline",model="d0"} ${infer}
`;
const triton = (n: number, req: number, queue: number, infer: number) => `nv_inference_request_success{model="efficientdet-d0",version="1"} ${n}
nv_inference_count{model="efficientdet-d0",version="1"} ${n}
nv_inference_exec_count{model="efficientdet-d0",version="1"} ${n / 2}
nv_inference_request_duration_us{model="efficientdet-d0",version="1"} ${req}
nv_inference_queue_duration_us{model="efficientdet-d0",version="1"} ${queue}
nv_inference_compute_infer_duration_us{model="efficientdet-d0",version="1"} ${infer}
`;

function writeRun(root: string, name: string, impl: string, round: number, prom: [string, string], cpu: Record<string, number>): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const s = summaryFixture();
  const row0 = s.levels[0]!;
  s.impls = [impl];
  s.levels = [{ ...row0, impl, level: '1', requests: 10, rps: impl === 'baseline' ? 2 : 3 }];
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
  writeFileSync(join(dir, 'server-metrics.before.prom'), prom[0]);
  writeFileSync(join(dir, 'server-metrics.prom'), prom[1]);
  writeFileSync(join(dir, SERVERS_CPU_FILE), JSON.stringify({ wall_s: 40, cpu_s: cpu }));
  writeFileSync(join(dir, ROLE_FILE), JSON.stringify({ role: 'timing', round }));
}

test('peer rows: server-side queue/compute/overhead per row from both servers\' metrics, idle servers\' CPU time, stacks named', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-peers-'));
  // Round 1 and 2 of each; the measured server burns ~75 CPU-s, the idle one ~0.
  writeRun(join(root, 'runs'), '2026-01-01T00-00-01Z-sweep-baseline', 'baseline', 1, [ours(0, 0, 0, 0), ours(10, 5_000_000, 1_000_000, 3_000_000)], { ours: 75, 'triton-instances': 0.02 });
  writeRun(join(root, 'runs'), '2026-01-01T00-00-02Z-sweep-triton-instances', 'triton-instances', 1, [triton(2, 0, 0, 0), triton(22, 8_000_000, 2_000_000, 5_000_000)], { ours: 0.05, 'triton-instances': 70 });
  writeRun(join(root, 'runs'), '2026-01-01T00-00-03Z-sweep-triton-instances', 'triton-instances', 2, [triton(22, 8_000_000, 2_000_000, 5_000_000), triton(42, 16_000_000, 6_000_000, 10_000_000)], { ours: 0.07, 'triton-instances': 72 });
  writeRun(join(root, 'runs'), '2026-01-01T00-00-04Z-sweep-baseline', 'baseline', 2, [ours(10, 5_000_000, 1_000_000, 3_000_000), ours(20, 10_000_000, 2_000_000, 6_000_000)], { ours: 77, 'triton-instances': 0.04 });
  // The accuracy pass of the peer: no accuracy.json (no replay over v2), only k6's in-run checks.
  const acc = join(root, 'accuracy', '2026-01-01T00-00-00Z-sweep-triton-instances');
  mkdirSync(acc, { recursive: true });
  const s = summaryFixture();
  s.impls = ['triton-instances'];
  s.thresholds = [{ metric: 'output_match{impl:triton-instances}', expression: 'rate>=1', ok: true }, { metric: 'output_boxes_mse{impl:triton-instances,model:d0}', expression: 'max<=0.000001', ok: true }] as Summary['thresholds'];
  writeFileSync(join(acc, 'summary.json'), JSON.stringify(s));
  writeFileSync(join(acc, ROLE_FILE), JSON.stringify({ role: 'accuracy' }));
  const meta: ReportMeta = {
    created: '2026-01-01T00:01:00.000Z', mode: 'run',
    config: { impls: ['baseline', 'triton-instances'], levels: [1], duration: '2s', repeats: 2, server: 'shared', accuracy: false, reuse: [] },
    server: { mode: 'shared', statement: 'fixture' }, implementations: [],
    commands: { report: 'make report', reuse: 'make report REUSE=x', runs: [] }, calibration: null,
    stacks: [{ server: 'ours', rows: ['baseline'], stack: 'Express 5 (fixture)' }, { server: 'triton-instances', rows: ['triton-instances'], stack: 'Triton Inference Server 2.51.0 (fixture)' }],
  };
  const report = buildReport(gatherRuns([root]), meta);
  const side = (impl: string) => report.server_side.find((x) => x.impl === impl)!;
  // baseline: 10 requests a run, 500 ms each: 100 queue, 300 compute, 100 overhead.
  assert.deepEqual({ ...side('baseline'), overhead_ms: Math.round(side('baseline').overhead_ms) }, { impl: 'baseline', runs: 2, requests: 20, request_ms: 500, queue_ms: 100, compute_ms: 300, overhead_ms: 100, mean_batch: null });
  // Triton: 20 requests a run; round 1 400/100/250 ms, round 2 400/200/250 ms -> medians 400/150/250; batch 2.
  const t = side('triton-instances');
  assert.deepEqual([t.runs, t.requests, t.request_ms, t.queue_ms, t.compute_ms, Math.round(t.overhead_ms), t.mean_batch], [2, 40, 400, 150, 250, 0, 2]);
  const cpu = (m: string) => report.servers_cpu.find((x) => x.measured === m)!;
  assert.deepEqual(cpu('baseline').cpu_s, { ours: 76, 'triton-instances': 0.03 });
  assert.deepEqual(cpu('triton-instances').cpu_s, { ours: 0.06, 'triton-instances': 71 });
  const md = reportMarkdown(report);
  assert.match(md, /\| triton-instances \| 2 \| 40 \| 400\.0 \| 150\.0 \| 250\.0 \| 0\.0 \| 2\.00 \|/);
  assert.match(md, /\| measured \| runs \| run wall s \| ours CPU s \| triton-instances CPU s \|/);
  assert.match(md, /\| triton-instances \| 2 \| 40\.0 \| 0\.06 \| 71\.00 \|/);
  assert.match(md, /\| triton-instances \| triton-instances \| Triton Inference Server 2\.51\.0 \(fixture\) \|/);
  assert.deepEqual(report.in_run_only, [{ impl: 'triton-instances', run: '2026-01-01T00-00-00Z-sweep-triton-instances', ok: true, failed: [] }]);
  assert.match(md, /- triton-instances: no replay .* in-run output checks of its accuracy pass passed/);
  // Speedups pair the peer row with the baseline of the same round, like any row.
  assert.equal(report.speedups.find((s) => s.impl === 'triton-instances' && s.level === 1)!.rps!.median, 1.5);
});

test('PEERS and TRITON_MODEL_SETS: allowed names, errors name the variable', () => {
  assert.deepEqual(peersConfig({}), { peers: [], tritonSets: ['instances', 'dynamic'] });
  assert.deepEqual(peersConfig({ PEERS: 'triton', TRITON_MODEL_SETS: 'dynamic' }), { peers: ['triton'], tritonSets: ['dynamic'] });
  assert.throws(() => peersConfig({ PEERS: 'tensorrt' }), /PEERS=tensorrt is not valid: expected a comma list of triton, fastapi, torchserve/);
  assert.throws(() => peersConfig({ PEERS: 'triton', TRITON_MODEL_SETS: 'fast' }), /TRITON_MODEL_SETS=fast is not valid: expected a comma list of instances, dynamic/);
});

test("the report's server statement: one shared server, a running TARGET, or a fresh server per run", () => {
  const settings = { threads: 0 } as unknown as Parameters<typeof serverStatement>[1]['settings'];
  const shared = serverStatement({ server: 'shared', target: '' }, { target: 'http://127.0.0.1:9', serverImpls: 'baseline,invalid', ready_ms: 812, settings });
  assert.equal(shared.mode, 'shared');
  assert.match(shared.statement, /started by the report with IMPL=baseline,invalid \(ready in 812 ms\)/);
  assert.equal(shared.url, 'http://127.0.0.1:9');
  const target = serverStatement({ server: 'shared', target: 'http://10.0.0.2:8000' }, { target: 'http://10.0.0.2:8000', serverImpls: 'all', settings });
  assert.equal(target.mode, 'target');
  assert.match(target.statement, /already running server http:\/\/10\.0\.0\.2:8000/);
  const fresh = serverStatement({ server: 'fresh', target: '' }, { target: 'http://127.0.0.1:9', serverImpls: 'all', ready_ms: 500, settings });
  assert.equal(fresh.mode, 'fresh');
  assert.equal(fresh.url, undefined, 'no run measured the listing server');
  assert.match(fresh.statement, /every run started its own server/);
});

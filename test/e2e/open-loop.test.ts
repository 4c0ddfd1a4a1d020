// Open-loop latency from the scheduled arrival, end to end (real k6, a fake target that stalls; issue
// 28 deliverable 4). Even arrivals (constant-arrival-rate) with MAX_VUS=2: while the target holds
// answers for 1 s, k6 has no free VU and drops the arrivals, so they are missing from the send-based
// percentiles; the schedule-based p99 over every scheduled arrival counts them as never answered and
// the misses count them. Poisson arrivals (scheduler lanes, asynchronous requests) drop none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../lib/summary.ts';
import { fakeTarget, runBenchCli } from './bench-helpers.ts';
import { poissonScheduled } from '../../lib/arrivals.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'open-loop-e2e-'));
const latest = (root: string) => join(root, readlinkSync(join(root, 'latest')));
const read = (root: string, file: string) => readFileSync(join(latest(root), file), 'utf8');

// The 2 warm-up requests and the first 3 measured ones are held 1 s each (a stall of about 2 s at the
// start of the level), every later one answers in 5 ms.
const STALL = { slowFirst: 5, slowMs: 1000, fastMs: 5 };
const RUN = { SCENARIO: 'rate', IMPL: 'baseline', RATE: '20', DURATION: '4s', WARMUP: '2', MAX_VUS: '2', LEVEL_GAP: '2s' };

test('even arrivals into a stall: arrivals dropped, counted as misses; the p99 over the scheduled arrivals was never answered', async () => {
  const target = await fakeTarget(STALL);
  try {
    const root = tmp();
    // An SLO of 500 ms: the 3 measured answers held 1 s are late as well.
    const bounds = join(root, 'bounds-slo.json');
    writeFileSync(bounds, JSON.stringify({ slo: { '*': { '*': { goodput_latency_ms: 500 } } } }));
    const r = await runBenchCli({ ...RUN, TARGET: target.url, RESULTS_ROOT: root, BOUNDS_FILE: bounds });
    // The drops break dropped_max_ratio: k6 exits 99.
    assert.equal(r.code, 99, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const s = JSON.parse(read(root, 'summary.json')) as Summary;
    const row = s.levels[0]!;
    console.log(JSON.stringify({ requests: row.requests, dropped: row.dropped, late: row.late, scheduled: row.scheduled, missed_ratio: row.missed_ratio, send_p99: row.latency_ms?.p99, schedule_p99: row.latency_from_schedule_ms?.p99, p99_of_scheduled: row.p99_of_scheduled_ms }));
    assert.equal(row.scheduled, 80, '20/s for 4 s');
    assert.ok((row.dropped ?? 0) >= 10, `k6 dropped the arrivals of the stall: ${row.dropped}`);
    // k6 may fire the tick at 4.000 s as well: 80 or 81.
    assert.ok(Math.abs(row.requests + (row.dropped ?? 0) - 80) <= 1, `every scheduled arrival was either sent or dropped: ${row.requests} + ${row.dropped}`);
    assert.ok(row.latency_from_schedule_ms!.n === row.requests, 'one schedule-based sample per accepted answer');
    // Every accepted answer is timed from no later than its send.
    assert.ok(row.latency_from_schedule_ms!.p99 >= row.latency_ms!.p99 - 1, JSON.stringify(row));
    assert.ok(row.latency_from_schedule_ms!.max >= 1000);
    // Over all arrivals (sent or dropped) the p99-ranked one is a dropped one: never answered, far above the send-based p99.
    assert.equal(row.p99_of_scheduled_ms, null);
    assert.ok(row.latency_ms!.p99 < 1100, `send-based p99 ${row.latency_ms!.p99} ms: the drops left it`);
    assert.equal(row.late, 3, 'the 3 measured answers held 1 s > the 500 ms SLO');
    assert.equal(row.missed_ratio, Math.round((((row.dropped ?? 0) + 3) / 80) * 1000) / 1000);
    const text = read(root, 'summary.txt');
    assert.match(text, new RegExp(`^from schedule baseline 20: p99 .+ ms from send, .+ ms from scheduled arrival, not answered over all arrivals; missed ${row.dropped} dropped \\+ ${row.late} late \\(`, 'm'));
  } finally {
    await target.close();
  }
});

test('ARRIVALS=poisson into the same stall: scheduler lanes fire without waiting for answers, so none is dropped', async () => {
  const target = await fakeTarget(STALL);
  try {
    const root = tmp();
    const r = await runBenchCli({ ...RUN, ARRIVALS: 'poisson', TARGET: target.url, RESULTS_ROOT: root });
    const s = JSON.parse(read(root, 'summary.json')) as Summary;
    const row = s.levels[0]!;
    console.log(JSON.stringify({ code: r.code, requests: row.requests, dropped: row.dropped, late: row.late, scheduled: row.scheduled, send_p99: row.latency_ms?.p99, schedule_p99: row.latency_from_schedule_ms?.p99, p99_of_scheduled: row.p99_of_scheduled_ms }));
    assert.equal(s.dropped_iterations, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    assert.equal(row.scheduled, poissonScheduled(20, 4, 1, 0), 'the arrivals the seeded lane drew');
    assert.ok(Math.abs(row.requests - row.scheduled!) <= 1, `every drawn arrival was sent: ${row.requests} of ${row.scheduled}`);
    assert.equal(row.latency_from_schedule_ms!.n, row.requests);
    assert.notEqual(row.p99_of_scheduled_ms, null, 'every arrival was answered');
    assert.ok(row.latency_from_schedule_ms!.max >= 1000, 'the held answers are timed from their drawn arrival');
    assert.ok(row.latency_from_schedule_ms!.p99 >= row.latency_ms!.p99 - 1);
    // The lanes' requests carry the stability windows' tag as measure()'s do: the level is judged.
    assert.ok(row.stability && row.stability.windows.length > 0, JSON.stringify(row.stability));
  } finally {
    await target.close();
  }
});

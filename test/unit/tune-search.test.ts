// make tune's search (tools/tune/search.ts, journal.ts, pareto.ts) on synthetic cost surfaces whose
// optimum is known: exhaustive and quick find it, constraints are respected, hopeless probes are not
// measured in full, the budget stops a search keeping what it measured, and a search killed midway
// and resumed from its journal ends exactly as an uninterrupted one without measuring anything twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../lib/rng.ts';
import { openJournal } from '../../tools/tune/journal.ts';
import { pareto } from '../../tools/tune/pareto.ts';
import { better, compareOutcomes, configKey, configsOf, exhaustive, hopeless, neighbours, quick, startConfig } from '../../tools/tune/search.ts';
import type { Outcome, Space, Stage, TuneConfig } from '../../tools/tune/types.ts';

// Our server's shape: IMPL x WORKERS x THREADS, and BATCH only for IMPL=batched.
const SPACE: Space = {
  stack: 'ours',
  fixed: { SCENARIO: 'concurrency8' },
  dimensions: [
    { knob: 'IMPL', values: ['sequential', 'concurrent', 'batched'], start: 'concurrent' },
    { knob: 'WORKERS', values: ['1', '2', '3', '4', '6', '8'], start: '1' },
    { knob: 'THREADS', values: ['1', '2', '4'], start: '1' },
    { knob: 'BATCH', values: ['1', '2', '4', '8'], start: '1', when: (c) => c.IMPL === 'batched' },
  ],
};
const GRID = 2 * 6 * 3 + 6 * 3 * 4;
const idx = (c: TuneConfig, knob: string): number => SPACE.dimensions.find((d) => d.knob === knob)!.values.indexOf(c[knob]!);

/** Unimodal in every axis (separable, peaked): the optimum is batched, 4 workers, 2 threads, batch 4 (objective 13). */
const unimodal = (c: TuneConfig): number =>
  [4, 8, 10][idx(c, 'IMPL')]! - 0.5 * (idx(c, 'WORKERS') - 3) ** 2 - (idx(c, 'THREADS') - 1) ** 2 + (c.BATCH ? 3 - (idx(c, 'BATCH') - 2) ** 2 : 0);
const OPTIMUM = 'BATCH=4 IMPL=batched SCENARIO=concurrency8 THREADS=2 WORKERS=4';

interface Point {
  objective: number;
  violations?: string[];
  clear?: string[];
  error?: string;
}

/**
 * A synthetic server: `f` gives a configuration's true figures; the probe's interval is wider than the
 * full measurement's. With `noise`, each (configuration, stage) draws its own seeded offset, so the
 * surface stays a function of its inputs (as a resumed search needs) while not being smooth.
 */
function surface(f: (c: TuneConfig) => Point, o: { noise?: number; seed?: number; failAfter?: number } = {}) {
  const calls: { key: string; stage: Stage }[] = [];
  const measure = async (config: TuneConfig, stage: Stage): Promise<Outcome> => {
    if (o.failAfter !== undefined && calls.length >= o.failAfter) throw new Error('killed');
    const key = configKey(config);
    calls.push({ key, stage });
    const p = f(config);
    const rng = mulberry32((o.seed ?? 1) ^ hash(`${key} ${stage}`));
    const objective = p.objective + (o.noise ?? 0) * (rng() * 2 - 1);
    const half = stage === 'probe' ? 1 : 0.25;
    return {
      key, stack: 'ours', config, stage, objective, objective_lo: objective - half, objective_hi: objective + half,
      violations: p.violations ?? [], clear_violations: p.clear ?? [], figures: { rps: objective }, runDirs: [], elapsed_s: 1,
      ...(p.error ? { error: p.error } : {}),
    };
  };
  return { calls, measure, full: () => calls.filter((c) => c.stage === 'full').map((c) => c.key) };
}
const hash = (s: string): number => [...s].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261);
const always = { withinBudget: () => true };

test('configKey is sorted knob=value pairs; the grid leaves BATCH out except for batched; neighbours are one step on one axis', () => {
  assert.equal(configKey({ WORKERS: '2', IMPL: 'concurrent', A: 'x' }), 'A=x IMPL=concurrent WORKERS=2');
  const grid = configsOf(SPACE);
  assert.equal(grid.length, GRID);
  assert.equal(new Set(grid.map(configKey)).size, GRID, 'no duplicates');
  for (const c of grid) {
    assert.equal('BATCH' in c, c.IMPL === 'batched', configKey(c));
    assert.equal(c.SCENARIO, 'concurrency8', 'fixed knobs in every configuration');
  }
  assert.equal(configKey(startConfig(SPACE)), 'IMPL=concurrent SCENARIO=concurrency8 THREADS=1 WORKERS=1');
  // Stepping onto batched brings BATCH in at its start; stepping off it drops BATCH.
  const n = neighbours(SPACE, startConfig(SPACE)).map(configKey);
  assert.deepEqual(n, [
    'IMPL=sequential SCENARIO=concurrency8 THREADS=1 WORKERS=1',
    'BATCH=1 IMPL=batched SCENARIO=concurrency8 THREADS=1 WORKERS=1',
    'IMPL=concurrent SCENARIO=concurrency8 THREADS=1 WORKERS=2',
    'IMPL=concurrent SCENARIO=concurrency8 THREADS=2 WORKERS=1',
  ]);
  const b = neighbours(SPACE, { IMPL: 'batched', WORKERS: '8', THREADS: '2', BATCH: '8', SCENARIO: 'concurrency8' }).map(configKey);
  assert.deepEqual(b, [
    'IMPL=concurrent SCENARIO=concurrency8 THREADS=2 WORKERS=8',
    'BATCH=8 IMPL=batched SCENARIO=concurrency8 THREADS=2 WORKERS=6',
    'BATCH=8 IMPL=batched SCENARIO=concurrency8 THREADS=1 WORKERS=8',
    'BATCH=8 IMPL=batched SCENARIO=concurrency8 THREADS=4 WORKERS=8',
    'BATCH=4 IMPL=batched SCENARIO=concurrency8 THREADS=2 WORKERS=8',
  ]);
  assert.throws(() => configsOf({ stack: 'x', dimensions: [{ knob: 'A', values: ['1'], start: '2' }] }), /A's start 2 is not among its values/);
});

test('exhaustive finds the optimum, the start first; quick climbs to it on a unimodal surface in fewer configurations and says converged', async () => {
  for (const noise of [0, 0.2]) {
    const ex = surface((c) => ({ objective: unimodal(c) }), { noise, seed: 7 });
    const seen: number[] = [];
    const e = await exhaustive(SPACE, ex.measure, { ...always, onOutcome: (_, p) => (assert.equal(p.total, GRID), seen.push(p.tried)) });
    assert.equal(e.end, 'exhausted');
    assert.equal(e.outcomes.length, GRID);
    assert.equal(e.outcomes[0]!.key, configKey(startConfig(SPACE)));
    assert.equal(e.best?.key, OPTIMUM, `noise ${noise}`);
    assert.deepEqual(seen, e.outcomes.map((_, i) => i + 1));
    assert.ok(ex.full().length < GRID, 'clearly worse probes were not measured in full');

    const q = surface((c) => ({ objective: unimodal(c) }), { noise, seed: 7 });
    const r = await quick(SPACE, q.measure, { ...always, onOutcome: (_, p) => assert.equal(p.total, null) });
    assert.equal(r.end, 'converged');
    assert.equal(r.best?.key, OPTIMUM, `noise ${noise}`);
    assert.equal(r.outcomes[0]!.key, configKey(startConfig(SPACE)));
    assert.ok(r.outcomes.length < GRID / 2, `quick tried ${r.outcomes.length} of ${GRID}`);
    assert.equal(new Set(r.outcomes.map((o) => o.key)).size, r.outcomes.length, 'no configuration tried twice');
  }
});

test('a categorical axis: every other value is a neighbour, so quick crosses a dip that stops it on an ordered axis', async () => {
  // The middle implementation is the worst: on an ordered axis the climb from the first never sees the last.
  const dip = (c: TuneConfig): number => [5, 1, 10][idx(c, 'IMPL')]! - 0.5 * (idx(c, 'WORKERS') - 3) ** 2 - (idx(c, 'THREADS') - 1) ** 2 + (c.BATCH ? 3 - (idx(c, 'BATCH') - 2) ** 2 : 0);
  const from = (categorical: boolean): Space => ({
    ...SPACE,
    dimensions: SPACE.dimensions.map((d) => (d.knob === 'IMPL' ? { ...d, start: 'sequential', ...(categorical ? { categorical } : {}) } : d)),
  });
  const start = startConfig(from(true));
  assert.deepEqual(neighbours(from(true), start).filter((c) => c.IMPL !== 'sequential').map((c) => c.IMPL), ['concurrent', 'batched']);
  assert.deepEqual(neighbours(from(false), start).filter((c) => c.IMPL !== 'sequential').map((c) => c.IMPL), ['concurrent']);
  const ordered = await quick(from(false), surface((c) => ({ objective: dip(c) })).measure, always);
  assert.equal(ordered.best?.config.IMPL, 'sequential', 'the ordered climb is stuck behind the dip');
  const cat = await quick(from(true), surface((c) => ({ objective: dip(c) })).measure, always);
  assert.equal(cat.end, 'converged');
  assert.equal(cat.best?.key, OPTIMUM);
});

test('a tie on the objective goes to the lower cost: less memory (beyond 10 %), then a lower p99; quick climbs along such ties and stops', async () => {
  // Every configuration serves the same offered load (objective 5); memory grows with WORKERS, p99 falls with THREADS.
  const flat = surface((c) => ({ objective: 5 }));
  const measure = async (config: TuneConfig, stage: Stage): Promise<Outcome> => {
    const o = await flat.measure(config, stage);
    return { ...o, objective: 5, objective_lo: 4, objective_hi: 6, figures: { memory_mb: 100 * (idx(config, 'WORKERS') + 1), p99_ms: 50 - 10 * idx(config, 'THREADS') + (config.IMPL === 'concurrent' ? 0 : 1) } };
  };
  const space: Space = { ...SPACE, dimensions: SPACE.dimensions.map((d) => (d.knob === 'IMPL' ? { ...d, categorical: true } : d)) };
  const r = await quick(space, measure, always);
  assert.equal(r.end, 'converged');
  // Fewest workers (least memory), then most threads (lowest p99), on concurrent (its p99 a hair lower).
  assert.equal(r.best?.key, 'IMPL=concurrent SCENARIO=concurrency8 THREADS=4 WORKERS=1');
  const ex = await exhaustive(space, measure, always);
  assert.equal(ex.best?.key, r.best?.key);
  // Peaks within 10 % are the same memory: the lower p99 decides (1148 against 1149 MB once picked the slower Triton set).
  const pick = (mem: number, p99: number, key: string): Outcome => ({ ...ex.outcomes[0]!, key, objective: 8.1, figures: { memory_mb: mem, p99_ms: p99 } });
  assert.deepEqual([pick(1148, 452, 'instances'), pick(1149, 381, 'dynamic')].sort(compareOutcomes).map((o) => o.key), ['dynamic', 'instances']);
  assert.deepEqual([pick(1300, 452, 'instances'), pick(1149, 381, 'dynamic')].sort(compareOutcomes).map((o) => o.key), ['dynamic', 'instances']);
  assert.deepEqual([pick(1000, 452, 'instances'), pick(1149, 381, 'dynamic')].sort(compareOutcomes).map((o) => o.key), ['instances', 'dynamic'], '15 % less memory wins');
  assert.equal([...ex.outcomes].sort(compareOutcomes)[0]!.key, r.best?.key, 'the ranking puts the best first');
});

test('the best is never a configuration that breaks a constraint, even with the higher objective', async () => {
  // The optimum and its batch-8 neighbour break the p99 SLO (not clearly: they are measured in full).
  const over = (c: TuneConfig) => c.IMPL === 'batched' && c.WORKERS === '4' && c.THREADS === '2' && (c.BATCH === '4' || c.BATCH === '8');
  const f = (c: TuneConfig): Point => ({ objective: unimodal(c), violations: over(c) ? ['p99 1200 ms over the SLO of 1000 ms'] : [] });
  for (const search of [exhaustive, quick]) {
    const s = surface(f);
    const r = await search(SPACE, s.measure, always);
    assert.ok(r.best && r.best.violations.length === 0, JSON.stringify(r.best?.key));
    assert.equal(r.best.objective, 12.5, search.name); // one step off the optimum on WORKERS
    assert.ok(s.full().includes(OPTIMUM), 'the infeasible optimum was measured (its violation was not clear)');
    assert.ok(r.outcomes.every((o) => !better(o, r.best!)), 'nothing ranks above the best');
  }
  // Ranking: feasible first, then objective.
  const s = surface(f);
  const hi = await s.measure({ ...startConfig(SPACE), IMPL: 'batched', WORKERS: '4', THREADS: '2', BATCH: '4' }, 'full');
  const lo = await s.measure(startConfig(SPACE), 'full');
  assert.ok(better(lo, hi) && !better(hi, lo));
  assert.deepEqual([hi, lo].sort(compareOutcomes), [lo, hi]);
  assert.equal(better({ ...lo, error: 'server did not start' }, hi), false);
});

test('early stop: a probe with a clear violation, an error, or clearly worse than the best is not measured in full and says why', async () => {
  const f = (c: TuneConfig): Point =>
    c.WORKERS === '8' ? { objective: 20, clear: ['memory 9000 MB over the cap of 8000 MB'] } : c.WORKERS === '6' ? { objective: 0, error: 'server did not start' } : { objective: unimodal(c) };
  const s = surface(f);
  const r = await exhaustive(SPACE, s.measure, always);
  const full = new Set(s.full());
  for (const o of r.outcomes) {
    if (o.config.WORKERS === '8') assert.match(o.stopped_early ?? '', /clearly over: memory 9000 MB/);
    else if (o.config.WORKERS === '6') assert.match(o.stopped_early ?? '', /failed: server did not start/);
    else if (o.stopped_early) assert.match(o.stopped_early, /clearly worse than the best so far/);
    assert.equal(full.has(o.key), !o.stopped_early, o.key);
    assert.equal(o.stage, o.stopped_early ? 'probe' : 'full');
  }
  assert.equal(s.calls.filter((c) => c.stage === 'probe').length, GRID, 'every configuration probed');
  assert.ok(full.size < GRID / 2, `${full.size} measured in full`);
  assert.equal(r.best?.key, OPTIMUM);
  // hopeless() itself: against no best, only violations and errors; the interval decides "clearly".
  const p = await s.measure(startConfig(SPACE), 'probe');
  assert.equal(hopeless(p, undefined), null);
  assert.equal(hopeless(p, { ...p, objective_lo: p.objective_hi }), null, 'overlapping intervals: not clearly worse');
  assert.match(hopeless(p, { ...p, objective_lo: p.objective_hi + 0.01 }) ?? '', /clearly worse/);
});

test('budget: when withinBudget() turns false the search stops, says budget, and keeps what it measured', async () => {
  for (const search of [exhaustive, quick]) {
    const s = surface((c) => ({ objective: unimodal(c) }));
    const r = await search(SPACE, s.measure, { withinBudget: () => s.calls.length < 9 });
    assert.equal(r.end, 'budget', search.name);
    assert.equal(s.calls.length, 9);
    assert.ok(r.outcomes.length >= 4 && r.outcomes.length <= 9);
    assert.ok(r.best && r.outcomes.includes(r.best));
    const m = await search(SPACE, surface((c) => ({ objective: unimodal(c) })).measure, { ...always, maxConfigs: 5 });
    assert.deepEqual([m.end, m.outcomes.length], ['max_configs', 5]);
  }
});

test('resume: killed midway, reopened from its journal, the search ends as an uninterrupted one and measures nothing twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tune-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (c: TuneConfig): Point => ({ objective: unimodal(c), clear: c.WORKERS === '8' ? ['p99 over'] : [] });
  for (const search of [exhaustive, quick]) {
    const whole = surface(f, { noise: 0.2, seed: 3 });
    const ref = await search(SPACE, whole.measure, always);
    for (const killAt of [1, 2, 17]) {
      const path = join(dir, `${search.name}-${killAt}`, 'journal.jsonl');
      const first = surface(f, { noise: 0.2, seed: 3, failAfter: killAt });
      await assert.rejects(search(SPACE, first.measure, { ...always, journal: openJournal(path) }), /killed/);
      // A kill in the middle of a write: the last line cut short is dropped and the next one starts clean.
      appendFileSync(path, '{"key":"IMPL=batch');
      const journal = openJournal(path);
      assert.equal(journal.entries.length, killAt);
      const second = surface(f, { noise: 0.2, seed: 3 });
      const resumed: boolean[] = [];
      const r = await search(SPACE, second.measure, { ...always, journal, onOutcome: (_, p) => resumed.push(p.resumed) });
      assert.deepEqual(r, ref, `${search.name} killed after ${killAt}`);
      assert.equal(first.calls.length + second.calls.length, whole.calls.length, 'nothing measured twice');
      assert.deepEqual([...first.calls, ...second.calls], whole.calls);
      assert.equal(resumed[0], killAt >= 2, 'the start came from the journal where both its stages were there');
      assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, whole.calls.length);
      // Everything journalled: a third run measures nothing.
      const third = surface(f, { noise: 0.2, seed: 3 });
      assert.deepEqual(await search(SPACE, third.measure, { ...always, journal: openJournal(path) }), ref);
      assert.equal(third.calls.length, 0);
    }
  }
  const bad = join(dir, 'bad.jsonl');
  appendFileSync(bad, 'not json\n');
  assert.throws(() => openJournal(bad), /line 1 is not JSON; delete that line/);
});

test('pareto: the non-dominated points in x order, either direction on each axis', () => {
  type P = { name: string; rps: number; p99: number | null; mem: number };
  const pts: P[] = [
    { name: 'a', rps: 10, p99: 100, mem: 500 },
    { name: 'b', rps: 12, p99: 150, mem: 400 },
    { name: 'c', rps: 11, p99: 160, mem: 900 }, // worse than b on both
    { name: 'd', rps: 20, p99: 400, mem: 600 },
    { name: 'e', rps: 20, p99: 500, mem: 300 }, // same rps as d, higher p99
    { name: 'f', rps: 5, p99: 90, mem: 1000 },
    { name: 'g', rps: 30, p99: null, mem: 2000 }, // no p99: left out of that frontier
    { name: 'h', rps: 10, p99: 100, mem: 500 }, // equal to a: kept with it
  ];
  const names = (ps: P[]) => ps.map((p) => p.name).join('');
  const rps = { get: (p: P) => p.rps, better: 'higher' as const };
  assert.equal(names(pareto(pts, rps, { get: (p) => p.p99, better: 'lower' })), 'fahbd');
  assert.equal(names(pareto(pts, rps, { get: (p) => p.mem, better: 'lower' })), 'eg');
  assert.equal(names(pareto(pts, { get: (p: P) => p.mem, better: 'lower' }, rps)), 'eg', 'axes swapped: the same frontier, in memory order');
  assert.deepEqual(pareto([], rps, rps), []);
});

// One name per concept (issue 27): every knob of every registry says its tier, a renamed knob (the
// table of retired names in lib/knobs.ts) stops every reader of its new knob - both runtimes, the
// server's flags too - with one line naming the new name, and every new name parses, durations into
// the unit the code keeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { READERS } from '../helpers/knob-readers.ts';
import { ConfigError } from '../../lib/env.ts';
import { duration, durationText, INVALID, readKnobs, refuseRetiredIn, RETIRED_KNOBS, retiredTo, tierOf, type Registry } from '../../lib/knobs.ts';
import { K6_KNOBS, k6Config, LEVEL_KNOB } from '../../lib/k6-config.ts';
import { SCENARIO_KNOBS } from '../../lib/scenarios.ts';
import { loadConfig, SERVER_KNOBS } from '../../server/config.ts';
import { ACCURACY_KNOBS } from '../../tools/accuracy/config.ts';
import { benchConfig, BENCH_KNOBS } from '../../tools/bench/config.ts';
import { KNOB_REGISTRIES } from '../../tools/bench/env-info.ts';
import { DATA_KNOBS } from '../../tools/data/synthetic.ts';
import { TENSORS_KNOBS } from '../../tools/data/tensors.ts';
import { harnessConfig, HARNESS_KNOBS } from '../../tools/harness/config.ts';
import { benchConfigFromEnv, MODEL_BENCH_KNOBS } from '../../tools/model-bench/bench.ts';
import { configFromEnv, MODELS_KNOBS } from '../../tools/models/generate.ts';
import { reportConfig, REPORT_KNOBS } from '../../tools/report/config.ts';
import { PEERS_KNOBS } from '../../tools/report/peers.ts';
import { MERGE_KNOBS } from '../../tools/scale-out/merge.ts';
import { operatorConfig, OPERATOR_KNOBS } from '../../tools/scale-out/operator.ts';
import { perfAnalyzerConfig, PERF_ANALYZER_KNOBS } from '../../peers/perf-analyzer/run.ts';
import { serveArgs, tritonConfig, TRITON_KNOBS } from '../../peers/triton/config.ts';
import { TORCHSERVE_KNOBS } from '../../peers/torchserve/config.ts';
import { FASTAPI_KNOBS } from '../../peers/fastapi/config.ts';
import { REGION_KNOBS } from '../../tools/region/config.ts';
import { TUNE_KNOBS } from '../../tools/tune/config.ts';

/** Every registry, by its docs table's name (tools/docs.ts KNOB_TABLES lists the same). */
const TABLES: Record<string, Registry> = {
  bench: BENCH_KNOBS, scenario: SCENARIO_KNOBS, k6: K6_KNOBS, server: SERVER_KNOBS, report: REPORT_KNOBS, accuracy: ACCURACY_KNOBS,
  models: MODELS_KNOBS, 'bench-models': MODEL_BENCH_KNOBS, data: DATA_KNOBS, harness: HARNESS_KNOBS, 'k6-operator': OPERATOR_KNOBS,
  'bench-merge': MERGE_KNOBS, tensors: TENSORS_KNOBS, 'perf-analyzer': PERF_ANALYZER_KNOBS, peers: PEERS_KNOBS, triton: TRITON_KNOBS, torchserve: TORCHSERVE_KNOBS,
  fastapi: FASTAPI_KNOBS, region: REGION_KNOBS, tune: TUNE_KNOBS,
};


describe('one name per concept: tiers, retired names, the new names', () => {
  const tables = TABLES;
  const registries: [string, Registry][] = [...Object.entries(tables), ['k6 (LEVEL)', { level: LEVEL_KNOB }]];

  it("the docs' knob tables cover every registry", async () => {
    const { KNOB_TABLES } = await import('../../tools/docs.ts');
    assert.deepEqual(Object.keys(KNOB_TABLES).sort(), Object.keys(TABLES).sort());
  });

  it('every knob of every registry says its tier', () => {
    for (const [table, registry] of registries) {
      for (const k of Object.values(registry)) assert.ok(['essential', 'expert', 'internal'].includes(tierOf(k)), `${table}: ${k.env} has tier ${String(k.tier)}`);
    }
    for (const name of ['SCENARIO', 'IMPL', 'DURATION', 'TARGET', 'DATASET_DIR', 'MAX_IMAGES', 'EP', 'PROTOCOL', 'RUNNERS', 'WARMUP', 'LEVELS', 'RATE']) {
      assert.ok(registries.some(([, r]) => Object.values(r).some((k) => k.env === name && k.tier === 'essential')), `${name} is essential somewhere`);
    }
  });

  it('a retired name is no knob of any registry, and its new name is one', () => {
    const live = new Set(registries.flatMap(([, r]) => Object.values(r).map((k) => k.env)));
    for (const old of Object.keys(RETIRED_KNOBS)) {
      assert.ok(!live.has(old), `${old} is retired but still read`);
      assert.ok(live.has(retiredTo(old)), `${old} -> ${retiredTo(old)}, which no registry declares`);
    }
  });

  it('a retired name set stops every reader of its new knob with one line naming the new name', () => {
    for (const [old, to] of Object.entries(RETIRED_KNOBS)) {
      const readers = Object.entries(tables).filter(([, r]) => Object.values(r).some((k) => k.env === retiredTo(old)));
      assert.ok(readers.length > 0, old);
      for (const [table] of readers) {
        assert.ok(READERS[table], `no reader for ${table}`);
        assert.throws(() => READERS[table]!({ [old]: '1' }), (e: Error) => e instanceof ConfigError && e.message === `${old} was renamed: set ${to} instead`, `${table} with ${old}=1`);
      }
    }
    // The k6 side too (k6Config is what the scripts call with __ENV), and blank is unset there as everywhere.
    assert.throws(() => k6Config({ IMPLS: 'baseline' }), /^ConfigError: IMPLS was renamed: set IMPL instead$/);
    assert.throws(() => loadConfig({ BATCH_MAX_SIZE: '8' }, []), /^ConfigError: BATCH_MAX_SIZE was renamed: set BATCHER_MAX_BATCH instead$/);
    // The bench hands its environment to k6 and to the server: it refuses their retired names itself.
    assert.throws(() => refuseRetiredIn({ BATCH_MAX_SIZE: '8' }, ...KNOB_REGISTRIES), /^ConfigError: BATCH_MAX_SIZE was renamed: set BATCHER_MAX_BATCH instead$/);
    assert.throws(() => loadConfig({ QUEUE_TIMEOUT_US: '50000' }, []), /^ConfigError: QUEUE_TIMEOUT_US was renamed: set QUEUE_TIMEOUT \(a duration such as 50ms; 0s = none\) instead$/);
    assert.doesNotThrow(() => k6Config({ IMPLS: ' ' }));
  });

  it("the server's retired flags are refused the same way", () => {
    assert.throws(() => loadConfig({}, ['--batch-max-size=8']), /^ConfigError: --batch-max-size was renamed: use --batcher-max-batch instead$/);
    assert.throws(() => loadConfig({}, ['--batch-max-delay-us', '500']), /^ConfigError: --batch-max-delay-us was renamed: use --batcher-max-delay \(a duration such as 2ms\) instead$/);
    assert.throws(() => loadConfig({}, ['--max-batch=8']), /^ConfigError: --max-batch was renamed: use --request-max-batch instead$/);
    assert.throws(() => loadConfig({}, ['--headers-timeout-ms=100']), /--headers-timeout-ms was renamed: use --headers-timeout/);
  });

  it('every new name parses, durations into the unit the code keeps', () => {
    const server = loadConfig({ REQUEST_MAX_BATCH: '8', BATCHER_MAX_BATCH: '6', BATCHER_MAX_DELAY: '2ms', QUEUE_TIMEOUT: '50ms', HEADERS_TIMEOUT: '20s', REQUEST_TIMEOUT: '5m' }, ['--batcher-max-delay=750us']);
    assert.deepEqual([server.requestMaxBatch, server.batcherMaxBatch, server.batcherMaxDelayUs, server.queueTimeoutUs, server.headersTimeoutMs, server.requestTimeoutMs], [8, 6, 750, 50_000, 20_000, 300_000]);
    assert.deepEqual([loadConfig({}, []).batcherMaxDelayUs, loadConfig({}, []).queueTimeoutUs, loadConfig({ QUEUE_TIMEOUT: '0s' }, []).queueTimeoutUs], [2000, 0, 0]);
    const merge = readKnobs(MERGE_KNOBS, { SAMPLES_DIR: '/s', MERGE_SPEC: '/s/m.json', TEST_DURATION: '1m30s' });
    assert.deepEqual(merge, { dir: '/s', spec: '/s/m.json', duration_s: 90 });
    const pa = perfAnalyzerConfig({ V2_MODELS: 'd1', LEVELS: '1,4', MEASUREMENT_INTERVAL: '2s', EP: 'cuda', MODELS_DIR: '/m' });
    assert.deepEqual([pa.model, pa.concurrency, pa.measurementIntervalMs, pa.ep, pa.modelsDir], ['efficientdet-d1', [1, 4], 2000, 'cuda', '/m']);
    assert.throws(() => perfAnalyzerConfig({ V2_MODELS: 'd0,d1' }), /^ConfigError: V2_MODELS=d0,d1 is not valid: expected one of d0, d1, d2 \(one model per run\)$/);
    const mb = benchConfigFromEnv({ MODEL_RUNS: '5', DATASET_DIR: '/d' });
    assert.deepEqual([mb.runs, mb.imagesDir], [5, '/d']);
    const h = harnessConfig({ IMPL: 'invalid,baseline', MODEL_RUNS: '7', LOG_LEVEL: 'warn' });
    assert.deepEqual([h.impls, h.modelRuns, h.logLevel], [['invalid', 'baseline'], 7, 'warn']);
    const r = reportConfig({ IMPL: 'baseline,batched', DURATION: '1m30s' });
    assert.deepEqual([r.impls, r.levels, r.levelsGiven, r.duration], [['baseline', 'batched'], [1, 4, 8], false, '90s']);
    const b = benchConfig({ HOST_BOUNDS: '0', HOST_BOUNDS_FILE: '/h.json', DASHBOARD_PERIOD: '3s' });
    assert.deepEqual([b.useHostBounds, b.hostBoundsFile, b.dashboardPeriod_s], [false, '/h.json', 3]);
    assert.equal(benchConfig({}).hostBoundsFile, 'results/host-bounds.json');
    assert.deepEqual(configFromEnv({ INT8: '1', INT8_CALIBRATION_DIR: '/c', INT8_CALIBRATION_IMAGES: '2' }).int8, { calibDir: '/c', calibImages: 2 });
    assert.deepEqual(operatorConfig({ TARGET: 'http://multidet:8000', MODELS: 'd0,d2' }, '2.2.0').models, ['d0', 'd2']);
    const t = tritonConfig({ TRITON_PORT: '8100', TRITON_MAX_BATCH: '8', TRITON_PREFERRED_BATCH: '4,8', TRITON_MAX_DELAY: '500us', TRITON_ALLOW_SPINNING: 'yes', MODELS: 'd0' });
    assert.deepEqual([t.port, t.maxBatch, t.preferredBatch, t.maxDelayUs, t.allowSpinning], [8100, 8, [4, 8], 500, true]);
    for (const flag of ['--port=8100', '--max-batch=8', '--preferred-batch=4,8', '--max-delay-us=500', '--allow-spinning=1', '--models=d0', '--ready-timeout=300']) assert.ok(serveArgs(t).includes(flag), flag);
    assert.deepEqual(tritonConfig({ TRITON_MAX_BATCH: '2' }).preferredBatch, [2], 'preferred defaults to the max');
    assert.throws(() => tritonConfig({ TRITON_MAX_BATCH: '4', TRITON_PREFERRED_BATCH: '8' }), /^ConfigError: TRITON_PREFERRED_BATCH=8 is not valid: expected a comma list of integers from 1 to TRITON_MAX_BATCH \(4\)$/);
  });

  it('durations: us for microseconds, parsed in seconds; durationText writes them back', () => {
    assert.equal(duration.parse('250us'), 0.00025);
    assert.equal(duration.parse('1s500ms'), 1.5);
    assert.equal(duration.parse('2000'), INVALID, 'a bare number is no duration');
    for (const [s, text] of [[0, '0s'], [0.002, '2ms'], [0.00025, '250us'], [0.0015, '1500us'], [10, '10s'], [1.5, '1.5s']] as const) {
      assert.equal(durationText(s), text);
      assert.equal(duration.parse(text), s);
    }
  });
});

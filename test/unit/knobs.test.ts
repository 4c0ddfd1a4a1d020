// The knob registries: every knob of every runtime refuses a bad value through its runtime's own
// config reader with the one message form, booleans mean the same words everywhere, lists are
// checked item by item, precedence is flag > env > default, and the docs' knob tables are current.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { READERS } from '../helpers/knob-readers.ts';
import { ConfigError } from '../../lib/env.ts';
import { bool, INVALID, type Knob, type Registry } from '../../lib/knobs.ts';
import { k6Config } from '../../lib/k6-config.ts';
import { planFor } from '../../lib/scenarios.ts';
import { loadConfig } from '../../server/config.ts';
import { accuracyConfig } from '../../tools/accuracy/config.ts';
import { benchConfig } from '../../tools/bench/config.ts';
import { KNOBS } from '../../tools/bench/env-info.ts';
import { DOC_BLOCKS, KNOB_TABLES, renderKnobTables, writeDocs } from '../../tools/docs.ts';
import { benchConfigFromEnv } from '../../tools/model-bench/bench.ts';
import { configFromEnv } from '../../tools/models/generate.ts';
import { reportConfig } from '../../tools/report/config.ts';

const CANDIDATES = ['soon', '-1', '1.5', '0', '20,30', 'x,,y', '1e99'];

/** A value the knob's parser refuses, or undefined for free text (paths, URLs, names). */
function badValue(k: Knob<unknown>): string | undefined {
  return CANDIDATES.find((c) => k.parse(c) === INVALID);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('knob registries', () => {
  for (const [table, registry] of Object.entries(KNOB_TABLES)) {
    it(`${table}: a bad value of any knob stops its reader with NAME=value is not valid: expected ...`, () => {
      let checked = 0;
      for (const k of Object.values(registry as Registry)) {
        const bad = badValue(k);
        if (bad === undefined) continue;
        const message = `${k.env}=${bad} is not valid: expected ${k.allowed}`;
        assert.throws(() => READERS[table]!({ [k.env]: bad }), (e: Error) => e instanceof ConfigError && e.message === message, `${table}: ${k.env}=${bad} should fail with "${message}"`);
        checked++;
      }
      assert.ok(checked >= 1, `${table}: no knob with a checkable parser`);
    });
  }

  it('booleans accept 1/0, true/false, yes/no, on/off in every runtime (FORCE=true works like FORCE=1)', () => {
    for (const word of ['1', 'true', 'yes', 'on', 'TRUE', 'Yes']) {
      assert.equal(configFromEnv({ FORCE: word }).force, true, `make models FORCE=${word}`);
      assert.equal(accuracyConfig({ FORCE: word }).force, true, `make reference FORCE=${word}`);
      assert.equal(benchConfig({ HOST_BOUNDS: word }).useHostBounds, true);
      assert.equal(reportConfig({ ACCURACY: word }).accuracy, true);
    }
    for (const word of ['0', 'false', 'no', 'off']) {
      assert.equal(configFromEnv({ FORCE: word }).force, false);
      assert.equal(configFromEnv({ STACKED: word }).stacked, false);
      assert.equal(benchConfig({ ACCURACY: word }).accuracy, false);
    }
    for (const registry of Object.values(KNOB_TABLES)) {
      for (const k of Object.values(registry)) if (k.allowed === bool.allowed) assert.equal(k.parse('maybe'), INVALID, k.env);
    }
  });

  it('lists are validated, and a single-valued knob refuses a list', () => {
    assert.throws(() => benchConfigFromEnv({ MODEL_RUNS: '20,30' }), /^ConfigError: MODEL_RUNS=20,30 is not valid: expected an integer >= 1$/);
    assert.throws(() => configFromEnv({ MODELS: 'd0,d9' }), /MODELS=d0,d9 is not valid: expected a comma list of d0, d1, d2/);
    assert.throws(() => planFor('sweep', { LEVELS: '1,,4' }), /LEVELS=1,,4 is not valid/);
    assert.deepEqual(benchConfigFromEnv({ BATCHES: '1, 2,8' }).batches, [1, 2, 8]);
    assert.deepEqual(k6Config({ MODELS: 'd0,d2' }).models, ['d0', 'd2']);
  });

  it('precedence: flag > env > default, in the one reader', () => {
    assert.equal(loadConfig({}, []).port, 8000);
    assert.equal(loadConfig({ PORT: '9000' }, []).port, 9000);
    assert.equal(loadConfig({ PORT: '9000' }, ['--port=9100']).port, 9100);
    assert.equal(loadConfig({ PORT: '' }, []).port, 8000, 'blank is unset');
  });

  it('env.json records every variable the suite reads (HEALTH_WAIT and SETUP_TIMEOUT too)', () => {
    for (const name of ['HEALTH_WAIT', 'SETUP_TIMEOUT', 'REFERENCE', 'SCENARIO', 'DURATION', 'LEVELS', 'WORKERS', 'SPINNING', 'READY_TIMEOUT', 'MODELS']) {
      assert.ok(KNOBS.includes(name), `KNOBS misses ${name}`);
    }
  });

  const ROOT = new URL('../../', import.meta.url);
  const read = (file: string) => readFileSync(new URL(file, ROOT), 'utf8');

  it('the knob tables of README.md and docs/configuration.md are what `make docs` writes from the registries', () => {
    for (const file of Object.keys(DOC_BLOCKS)) {
      const text = read(file);
      assert.equal(renderKnobTables(file, text), text, `${file} knob tables are stale: run \`make docs\``);
      for (const name of Object.keys(DOC_BLOCKS[file]!)) assert.match(text, new RegExp(`<!-- knobs:${escape(name)} -->\\n`), `${file}: ${name}`);
    }
    const config = read('docs/configuration.md');
    for (const name of Object.keys(KNOB_TABLES)) assert.match(config, new RegExp(`<!-- knobs:${escape(name)} -->\\n\\| `), name);
    // The generator really rewrites: a table edited by hand comes back.
    const edited = config.replace('| HEALTH_WAIT | 30s |', '| HEALTH_WAIT | 45s |');
    assert.notEqual(edited, config);
    assert.equal(renderKnobTables('docs/configuration.md', edited), config);
  });

  it('the tiers: README lists the essential knobs once each; internal ones only in the developer section', () => {
    const essentialBlock = /<!-- knobs:essential -->\n([\s\S]*?)<!-- \/knobs:essential -->/.exec(read('README.md'))![1]!;
    const listed = [...essentialBlock.matchAll(/^\| ([A-Z0-9_]+) \|/gm)].map((m) => m[1]!);
    for (const name of ['SCENARIO', 'IMPL', 'DURATION', 'TARGET', 'PROTOCOL', 'RUNNERS']) assert.ok(listed.includes(name), `README misses ${name}`);
    assert.equal(new Set(listed).size, listed.length, `a variable twice: ${listed.join(', ')}`);
    const config = read('docs/configuration.md');
    const internalAt = config.indexOf('<!-- knobs:internal -->');
    assert.ok(internalAt > 0);
    for (const name of ['DATASET_MANIFEST', 'BOUNDS_RESOLVED', 'LEVEL']) {
      assert.ok(!new RegExp(`^\\| ${name} \\|`, 'm').test(config.slice(0, internalAt)), `${name} among the user-facing knobs`);
      assert.match(config.slice(internalAt), new RegExp(`^\\| ${name} \\|`, 'm'), `${name} missing from the internal section`);
    }
  });

  it('`make docs` is idempotent: a stale copy is rewritten once, then left alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-'));
    try {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'README.md'), read('README.md').replace(/(<!-- knobs:essential -->\n)[\s\S]*?(<!-- \/knobs:essential -->)/, '$1$2'));
      writeFileSync(join(dir, 'docs/configuration.md'), read('docs/configuration.md').replace('| HEALTH_WAIT | 30s |', '| HEALTH_WAIT | 45s |'));
      assert.deepEqual(writeDocs(dir, true), ['README.md', 'docs/configuration.md'], '--check names both stale files');
      assert.deepEqual(writeDocs(dir), ['README.md', 'docs/configuration.md']);
      const once = [readFileSync(join(dir, 'README.md'), 'utf8'), readFileSync(join(dir, 'docs/configuration.md'), 'utf8')];
      assert.deepEqual(once, [read('README.md'), read('docs/configuration.md')]);
      assert.deepEqual(writeDocs(dir), [], 'a second run changes nothing');
      assert.deepEqual([readFileSync(join(dir, 'README.md'), 'utf8'), readFileSync(join(dir, 'docs/configuration.md'), 'utf8')], once);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

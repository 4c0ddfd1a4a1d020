// The layer guard: every import of every .ts file in the tree points the right way (see
// test/helpers/layers.ts for the layers), no imports form a cycle, and the checkers themselves catch
// wrong-way imports and cycles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLayers, describeCycles, findCycles, importsOf, packagesLoadedBy, readTree } from '../helpers/layers.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const TREE = ['lib', 'scenarios', 'examples', 'server', 'tools', 'peers'];

describe('layers', () => {
  it('no import in the tree crosses a layer the wrong way', () => {
    const files = readTree(ROOT, TREE);
    assert.ok(files.length > 80, `read only ${files.length} files`);
    const imports = files.reduce((n, f) => n + importsOf(f.source).length, 0);
    assert.ok(imports > 300, `found only ${imports} imports: the parser misses some`);
    assert.deepEqual(checkLayers(files), []);
  });

  it('reads static, type-only, re-export, side-effect and dynamic imports, not comments', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "import './d.ts';",
      "const e = await import('./e.ts');",
      "import {\n  f,\n  g,\n} from './fg.ts';",
      "// import { x } from '../tools/x.ts';",
      "/* import { y } from '../tools/y.ts'; */",
    ].join('\n');
    assert.deepEqual(importsOf(src).sort(), ['../b.ts', './a.ts', './c.ts', './d.ts', './e.ts', './fg.ts']);
  });

  it('fails on each kind of wrong-way import', () => {
    const cases: [string, string, RegExp][] = [
      ['server/implementations/int8.ts', "import { INT8_META } from '../../tools/models/quantize.ts';", /server\/ imports tools code/],
      ['server/main.ts', "import { isMain } from '../tools/is-main.ts';", /server\/ imports tools code/],
      ['lib/k6/suite.ts', "import { readFileSync } from 'node:fs';", /k6-side code imports only k6 modules/],
      ['scenarios/x.ts', "import { createImplementation } from '../server/index.ts';", /k6-side code imports server code/],
      ['lib/k6/x.ts', "import { isMain } from '../node/is-main.ts';", /k6-side code imports lib-node code/],
      ['lib/bounds.ts', "import { readFileSync } from 'node:fs';", /Node modules belong in lib\/node/],
      ['lib/bounds.ts', "import { x } from '../tools/bench/config.ts';", /lib\/ imports tools code/],
      ['lib/summary.ts', "import { check } from 'k6';", /only k6-side code/],
      ['lib/types.ts', "import express from 'express';", /no packages/],
      ['lib/node/x.ts', "import { loadConfig } from '../../server/config.ts';", /lib\/node\/ imports server code/],
      ['tools/models/quantize.ts', "import { letterboxBatch } from '../../server/runtime/letterbox.ts';", /only through server\/index\.ts/],
      ['tools/accuracy/replay.ts', "import { readBoundsFile } from '../bench/bounds-file.ts';", /tools\/accuracy may not import tools\/bench/],
      ['tools/bench/run.ts', "import { x } from '../report/run.ts';", /tools\/bench may not import tools\/report/],
      ['tools/common/ready.ts', "import { benchConfig } from '../bench/config.ts';", /tools\/common may not import tools\/bench/],
      ['tools/models/generate.ts', "import { step } from '../common/progress.ts';", /tools\/models may not import tools\/common/],
    ];
    for (const [file, source, rule] of cases) {
      const found = checkLayers([{ file, source }]);
      assert.equal(found.length, 1, `${file}: ${source} should be refused, got ${JSON.stringify(found)}`);
      assert.match(found[0]!.rule, rule);
    }
  });

  it('lets the right-way imports through', () => {
    const ok: [string, string][] = [
      ['tools/models/quantize.ts', "import { letterboxBatch } from '../../server/index.ts';"],
      ['tools/bench/run.ts', "import { runAccuracy } from '../accuracy/replay.ts';"],
      ['tools/harness/run.ts', "import { startServer } from '../common/server-process.ts';"],
      ['server/main.ts', "import { isMain } from '../lib/node/is-main.ts';"],
      ['server/runtime/model-info.ts', "import { MODEL_FILE } from '../../lib/model-contract.ts';"],
      ['lib/k6/request.ts', "import http from 'k6/http';\nimport { multipartBody } from '../multipart.ts';"],
      ['lib/node/bounds-file.ts', "import { existsSync } from 'node:fs';\nimport { DEFAULT_BOUNDS } from '../bounds.ts';"],
      ['test/unit/x.test.ts', "import { Runtime } from '../../server/runtime/context.ts';"],
    ];
    for (const [file, source] of ok) assert.deepEqual(checkLayers([{ file, source }]), [], `${file}: ${source}`);
  });

  it("counts the peers' TypeScript drivers as tools", () => {
    const found = checkLayers([{ file: 'peers/triton/driver.ts', source: "import { Runtime } from '../../server/runtime/context.ts';" }]);
    assert.equal(found.length, 1);
    assert.match(found[0]!.rule, /only through server\/index\.ts/);
  });

  it('no import cycle in the tree, type-only imports included', () => {
    const cycles = findCycles(readTree(ROOT, TREE));
    assert.deepEqual(cycles, [], `import cycles (move the shared type down to the lower file):\n${describeCycles(cycles)}`);
  });

  it('finds a cycle through three files, type-only and dynamic type imports included, and names its files in order', () => {
    const files = [
      { file: 'server/runtime/pool.ts', source: "import type { DecodedImage } from '../implementations/types.ts';\nimport { x } from './queue.ts';" },
      { file: 'server/implementations/types.ts', source: "export interface I { pool(): Promise<import('../runtime/context.ts').Runtime> }" },
      { file: 'server/runtime/context.ts', source: "import { WorkerPool } from './pool.ts';" },
      { file: 'server/runtime/queue.ts', source: 'export const x = 1;' },
      { file: 'lib/a.ts', source: "import { b } from './b.ts';" },
      { file: 'lib/b.ts', source: "// import { a } from './a.ts';\nexport const b = 1;" },
    ];
    const cycles = findCycles(files);
    assert.deepEqual(cycles, [['server/implementations/types.ts', 'server/runtime/context.ts', 'server/runtime/pool.ts', 'server/implementations/types.ts']]);
    assert.match(describeCycles(cycles), /server\/implementations\/types\.ts -> server\/runtime\/context\.ts -> server\/runtime\/pool\.ts -> server\/implementations\/types\.ts/);
  });

  it('the inference worker loads onnxruntime and the letterbox, not the image decoders (decode runs on the main thread)', () => {
    const loaded = packagesLoadedBy(readTree(ROOT, ['lib', 'server']), 'server/runtime/worker.ts');
    assert.ok(loaded.has('onnxruntime-node') && loaded.has('@napi-rs/image'), [...loaded].join(' '));
    for (const decoder of ['sharp', '@julusian/jpeg-turbo']) assert.ok(!loaded.has(decoder), `the worker loads ${decoder}: ${[...loaded].join(' ')}`);
    const fixture = [
      { file: 'server/w.ts', source: "import type { D } from './d.ts';\nimport { l } from './l.ts';" },
      { file: 'server/d.ts', source: "import sharp from 'sharp';" },
      { file: 'server/l.ts', source: "export { type T } from './d.ts';\nimport { Transformer } from '@napi-rs/image';" },
    ];
    assert.deepEqual([...packagesLoadedBy(fixture, 'server/w.ts')], ['@napi-rs/image']);
    const valueImport = fixture.map((f) => (f.file === 'server/l.ts' ? { file: f.file, source: "import { decode } from './d.ts';" } : f));
    assert.deepEqual([...packagesLoadedBy(valueImport, 'server/w.ts')], ['sharp']);
  });

  it('finds two-file cycles and self-imports apart, and nothing in an acyclic tree', () => {
    const two = [
      { file: 'lib/load-shapes.ts', source: "import type { Level } from './scenarios.ts';" },
      { file: 'lib/scenarios.ts', source: "import { levelScenarios } from './load-shapes.ts';" },
      { file: 'tools/x.ts', source: "import { y } from './x.ts';" },
    ];
    assert.deepEqual(findCycles(two), [['lib/load-shapes.ts', 'lib/scenarios.ts', 'lib/load-shapes.ts'], ['tools/x.ts', 'tools/x.ts']]);
    const acyclic = [
      { file: 'lib/load-shapes.ts', source: 'export interface Level { tag: string }' },
      { file: 'lib/scenarios.ts', source: "import { levelScenarios, type Level } from './load-shapes.ts';" },
    ];
    assert.deepEqual(findCycles(acyclic), []);
  });
});

// make k6-operator: the TestRun passes the CRD facts in tools/scale-out/testrun.schema.json, the k6 archive
// carries the files the script opens and runs with `k6 run`, and runner pods simulated here (the
// archive run with the operator's segment flags and the TestRun's K6_OUT) merge with make bench-merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmentArgs } from '../../lib/segment.ts';
import type { Summary } from '../../lib/summary.ts';
import { k6Binary } from '../../tools/common/k6.ts';
import { buildManifests, operatorConfig, validateTestRun } from '../../tools/scale-out/operator.ts';
import { run } from '../helpers/run.ts';
import { fakeTarget, runMake } from './bench-helpers.ts';

interface EnvVar {
  name: string;
  value?: string;
}
interface TestRunDoc {
  spec: { parallelism: number; script: { configMap: { name: string; file: string } }; runner: { env: EnvVar[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[]; volumeMounts: { name: string; mountPath: string }[] } };
}

const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

test('the TestRun schema check catches wrong types, missing fields, bad enums and unknown (silently pruned) fields', () => {
  const good = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'x' }, spec: { parallelism: 2, script: { configMap: { name: 'x-archive', file: 'archive.tar' } } } };
  assert.deepEqual(validateTestRun(good), []);
  const bad = (f: (d: { spec: Record<string, unknown> }) => void) => {
    const d = structuredClone(good) as unknown as { spec: Record<string, unknown> };
    f(d);
    return validateTestRun(d).join('; ');
  };
  assert.match(bad((d) => (d.spec['parallelism'] = '2')), /\$\.spec\.parallelism: expected integer, got string/);
  assert.match(bad((d) => delete d.spec['script']), /\$\.spec: missing required field script/);
  assert.match(bad((d) => (d.spec['paralellism'] = 2)), /\$\.spec: unknown field paralellism/);
  assert.match(bad((d) => (d.spec['cleanup'] = 'always')), /\$\.spec\.cleanup: "always" is not one of "post"/);
  assert.match(bad((d) => (d.spec['runner'] = { env: [{ value: 'x' }] })), /\$\.spec\.runner\.env\[0\]: missing required field name/);
});

test('make k6-operator writes a valid TestRun and a k6 archive that runs; simulated runner pods merge with make bench-merge', async () => {
  const target = await fakeTarget({ fastMs: 10 });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'k6-operator-e2e-'));
    const out = join(dir, 'manifests');
    const g = await runMake(['k6-operator'], { TARGET: target.url, RUNNERS: '2', SCENARIO: 'concurrency2', DURATION: '2s', WARMUP: '4', OUT_DIR: out, NAME: 'e2e-run' });
    assert.equal(g.code, 0, g.stdout + g.stderr);
    assert.match(g.stdout, /make bench-merge SAMPLES_DIR=/, 'the runbook names the merge command');

    // The manifest: valid against the CRD facts, parallelism, the archive in the ConfigMap it names, the knobs, the samples volume.
    const tr = read<TestRunDoc>(join(out, 'testrun.json'));
    assert.deepEqual(validateTestRun(tr), []);
    assert.equal(tr.spec.parallelism, 2);
    const cm = read<{ metadata: { name: string }; binaryData: Record<string, string> }>(join(out, 'configmap.json'));
    assert.equal(tr.spec.script.configMap.name, cm.metadata.name);
    assert.ok(Buffer.from(cm.binaryData[tr.spec.script.configMap.file]!, 'base64').equals(readFileSync(join(out, 'archive.tar'))), 'the ConfigMap holds the archive');
    const env = new Map(tr.spec.runner.env.map((e) => [e.name, e.value]));
    assert.equal(env.get('TARGET'), target.url);
    assert.equal(env.get('SCENARIO'), 'concurrency2');
    assert.equal(env.get('DURATION'), '2s');
    const names = tr.spec.runner.env.map((e) => e.name);
    assert.ok(names.indexOf('POD_NAME') < names.indexOf('K6_OUT'), 'POD_NAME comes first so Kubernetes expands $(POD_NAME) in K6_OUT');
    assert.equal(env.get('K6_OUT'), 'json=/samples/$(POD_NAME).json.gz');
    assert.equal(tr.spec.runner.volumeMounts[0]!.mountPath, '/samples');
    assert.equal(tr.spec.runner.volumeMounts[0]!.name, tr.spec.runner.volumes[0]!.name);
    const pvc = read<{ metadata: { name: string }; spec: { accessModes: string[] } }>(join(out, 'samples-pvc.json'));
    assert.equal(tr.spec.runner.volumes[0]!.persistentVolumeClaim.claimName, pvc.metadata.name);
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);

    // The archive carries the script, the dataset manifest and the images the script opens.
    const listed = await run('tar', ['tf', join(out, 'archive.tar')]);
    assert.match(listed.stdout, /\/manifest\.json\n/);
    assert.equal((listed.stdout.match(/synthetic-\d+\.jpg/g) ?? []).length, 8, 'MAX_IMAGES=8 images');
    assert.match(listed.stdout, /\/bounds\.json\n/);

    // Two "pods": the archive run from another folder with the operator's segment flags and tag,
    // and the TestRun's K6_OUT with /samples (the claim's mount) mapped to a local folder.
    const k6 = k6Binary();
    const samples = join(dir, 'collected');
    mkdirSync(samples);
    const kout = (i: number) => env.get('K6_OUT')!.replace('$(POD_NAME)', `e2e-run-${i}-abcde`).replace('/samples', samples);
    const pods = await Promise.all(
      [0, 1].map((i) => run(k6, ['run', '--quiet', ...segmentArgs(i, 2), '--no-usage-report', join(out, 'archive.tar'), '--tag', `instance_id=${i}`], { cwd: dir, env: { TARGET: target.url, K6_OUT: kout(i) }, timeoutMs: 60_000 })),
    );
    for (const p of pods) assert.equal(p.code, 0, p.stdout + p.stderr);
    assert.ok(target.received.some((q) => q.runner === '0') && target.received.some((q) => q.runner === '1'), 'both pods sent requests, each naming its runner');

    // The runbook's last steps: merge.json next to the collected files, then make bench-merge.
    copyFileSync(join(out, 'merge.json'), join(samples, 'merge.json'));
    const m = await runMake(['bench-merge'], { SAMPLES_DIR: samples });
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.match(m.stdout, /bench-merge: 2 file\(s\), \d+ bytes merged in \d+ ms/);
    const s = read<Summary>(join(samples, 'summary.json'));
    assert.equal(s.warmup.requests, 4, 'the pods split the warm-up');
    assert.equal(target.received.length, 4 + s.levels[0]!.requests, 'every measured request the target saw is in the merged summary');
    assert.ok(s.levels[0]!.requests > 0);
    assert.ok(existsSync(join(samples, 'junit.xml')) && existsSync(join(samples, 'summary.txt')));
  } finally {
    await target.close();
  }
});

test('make k6-operator without a TARGET the pods can reach stops with one line naming it', async () => {
  const r = await runMake(['k6-operator'], { TARGET: '', OUT_DIR: join(mkdtempSync(join(tmpdir(), 'k6-operator-e2e-')), 'm') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /k6-operator: TARGET=\(unset\) is not valid: expected the URL the runner pods reach the server at/);
});

test('with SCRIPT_PVC the TestRun takes the archive from that claim and no ConfigMap is made; still valid', () => {
  const cfg = operatorConfig({ TARGET: 'http://multidet:8000', RUNNERS: '3', SCRIPT_PVC: 'scripts', NAMESPACE: 'bench' }, '2.2.0');
  const m = buildManifests(cfg, Buffer.from('tar'), { SCENARIO: 'concurrency8' });
  assert.equal(m.configMap, null);
  assert.deepEqual(validateTestRun(m.testRun), []);
  const spec = (m.testRun as { spec: { parallelism: number; script: unknown; runner: { image: string } } }).spec;
  assert.deepEqual(spec.script, { volumeClaim: { name: 'scripts', file: 'archive.tar', readOnly: true } });
  assert.equal(spec.parallelism, 3);
  assert.equal(spec.runner.image, 'grafana/k6:2.2.0');
  assert.throws(() => operatorConfig({ TARGET: 'http://x', NAME: 'Bad_Name' }, '2.2.0'), /NAME=Bad_Name is not valid/);
});

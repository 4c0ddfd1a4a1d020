// `make k6-operator`: what a user applies to a Kubernetes cluster running grafana/k6-operator to
// run a scenario on RUNNERS pods, and what merges and gates their samples afterwards.
//
// Writes OUT_DIR (default build/k6-operator/<name>/):
//   archive.tar        `k6 archive` of the bundled scenario: the script plus every file its init
//                      context opens (dataset manifest, images, bounds, reference), env knobs baked in
//   configmap.json     the archive as binaryData (or, with SCRIPT_PVC, the archive goes on that claim)
//   testrun.json       TestRun k6.io/v1alpha1: parallelism RUNNERS, the archive, the knobs in
//                      spec.runner.env, K6_OUT=json to /samples/<pod>.json.gz on the claim SAMPLES_PVC
//   samples-pvc.json   that claim (ReadWriteMany: every runner pod writes to it), if it does not exist
//   collector.json     a pod mounting the claim, to `kubectl cp` the samples out
//   merge.json         what `make bench-merge` needs: plan knobs, implementation, declared thresholds
//   runbook.txt        the commands, in order (also printed)
// Validated against tools/scale-out/testrun.schema.json (facts from the TestRun CRD) before it is written.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveBounds } from '../../lib/bounds.ts';
import { ConfigError, type Env } from '../../lib/env.ts';
import { INVALID, int, knob, oneOf, readKnob, readKnobs, text } from '../../lib/knobs.ts';
import { planFor, SCENARIOS } from '../../lib/scenarios.ts';
import { K6_KNOBS } from '../../lib/k6-config.ts';
import type { ModelName } from '../../lib/model-contract.ts';
import { bundleScenarios } from '../build.ts';
import { benchConfig } from '../bench/config.ts';
import { BOUNDS_FILE_KNOB, readBoundsFile } from '../../lib/node/bounds-file.ts';
import { judgingOf, planEnvOf, type MergeSpec } from './merge.ts';
import { BenchError } from '../common/progress.ts';
import { datasetManifest } from '../bench/run.ts';
import { k6Binary, k6Semver } from '../common/k6.ts';
import { inspectOptions } from './runners.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';
import { validate, type Schema } from './schema.ts';

export const SCHEMA_FILE = join('tools', 'scale-out', 'testrun.schema.json');
/** Where runner pods write their samples (the SAMPLES_PVC claim is mounted here). */
export const SAMPLES_MOUNT = '/samples';
/** A ConfigMap holds at most 1 MiB; binaryData is base64 (4/3 of the archive), plus the object's own fields. */
export const CONFIGMAP_MAX_BASE64 = 1_000_000;

export interface OperatorConfig {
  name: string;
  namespace: string;
  runners: number;
  scenario: string;
  impl: string;
  /** The target as the runner pods reach it (a Service URL, or one load-balanced URL for N replicas). */
  target: string;
  image: string;
  samplesPvc: string;
  scriptPvc: string;
  outDir: string;
  maxImages: number;
  reference: string;
  /** MODELS for every runner (`?models=`); empty: all. */
  models: ModelName[];
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `make k6-operator` knobs (env over defaults; NAME, SAMPLES_PVC, K6_IMAGE and OUT_DIR default from the others). */
export const OPERATOR_KNOBS = {
  scenario: knob({ env: 'SCENARIO', tier: 'essential', default: 'concurrency8', ...oneOf(Object.keys(SCENARIOS)), doc: 'the scenario the runner pods run' }),
  name: knob({
    env: 'NAME', tier: 'expert', default: '', defaultText: 'multidet-<scenario>', allowed: "a Kubernetes name (lower-case letters, digits, '-', at most 52 characters)",
    parse: (raw: string) => (K8S_NAME.test(raw) && raw.length <= 52 ? raw : INVALID), doc: 'the TestRun and its objects',
  }),
  target: knob({
    env: 'TARGET', tier: 'essential', default: '', allowed: 'the URL the runner pods reach the server at, e.g. http://multidet.default.svc:8000',
    parse: (raw: string) => (/^https?:\/\/[^/]+/.test(raw) ? raw.replace(/\/+$/, '') : INVALID), doc: 'the server as the pods reach it (required)',
  }),
  impl: knob({ env: 'IMPL', tier: 'essential', default: 'baseline', ...text('a name, or a comma list (smoke)'), doc: 'the implementations under test' }),
  namespace: knob({ env: 'NAMESPACE', tier: 'expert', default: '', ...text('a namespace'), doc: 'namespace of the objects (unset: the current one)' }),
  runners: knob({ env: 'RUNNERS', tier: 'essential', default: 2, ...int(1, 1000), doc: 'runner pods (TestRun parallelism)' }),
  image: knob({ env: 'K6_IMAGE', tier: 'expert', default: '', defaultText: 'grafana/k6:<the k6 version>', ...text('an image'), doc: 'runner image' }),
  samplesPvc: knob({ env: 'SAMPLES_PVC', tier: 'expert', default: '', defaultText: '<name>-samples', ...text('a claim name'), doc: 'ReadWriteMany claim the runners write samples to' }),
  scriptPvc: knob({ env: 'SCRIPT_PVC', tier: 'expert', default: '', ...text('a claim name'), doc: 'the archive on a claim instead of a ConfigMap' }),
  outDir: knob({ env: 'OUT_DIR', tier: 'expert', default: '', defaultText: 'build/k6-operator/<name>', ...text('folder'), doc: 'where the manifests go' }),
  maxImages: knob({ env: 'MAX_IMAGES', tier: 'essential', default: 8, ...int(0), doc: 'images in the archive (a ConfigMap holds about 750 KB: 8 synthetic images fit)' }),
  reference: knob({ env: 'REFERENCE', tier: 'expert', default: '', ...text('a detections.json'), doc: 'reference for the in-run output checks' }),
  models: K6_KNOBS.models,
};

export function operatorConfig(env: Env, k6Version: string): OperatorConfig {
  const k = readKnobs(OPERATOR_KNOBS, env);
  if (k.target === '') throw new ConfigError(`TARGET=(unset) is not valid: expected ${OPERATOR_KNOBS.target.allowed}`);
  if (k.impl === 'all') throw new ConfigError(`IMPL=all needs a server to list the implementations: name them (IMPL=baseline or, for smoke, IMPL=baseline,invalid)`);
  const name = readKnob(OPERATOR_KNOBS.name, env, {}, `multidet-${k.scenario}`);
  return {
    ...k,
    name,
    image: k.image || `grafana/k6:${k6Version}`,
    samplesPvc: k.samplesPvc || `${name}-samples`,
    outDir: resolve(k.outDir || join('build', 'k6-operator', name)),
  };
}


export interface Manifests {
  configMap: Record<string, unknown> | null;
  testRun: Record<string, unknown>;
  samplesPvc: Record<string, unknown>;
  collector: Record<string, unknown>;
}

/** The Kubernetes objects, from the config and the archive's bytes. `knobs` go to every runner's env. */
export function buildManifests(cfg: OperatorConfig, archive: Buffer, knobs: Record<string, string>): Manifests {
  const meta = (name: string) => ({ name, ...(cfg.namespace ? { namespace: cfg.namespace } : {}), labels: { app: 'multidet-bench', 'multidet-bench/run': cfg.name } });
  const archiveName = 'archive.tar';
  const configMap = cfg.scriptPvc ? null : { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${cfg.name}-archive`), binaryData: { [archiveName]: archive.toString('base64') } };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: meta(cfg.name),
    spec: {
      parallelism: cfg.runners,
      // The operator gives each runner pod its --execution-segment; the script derives its runner
      // index and warm-up share from it, as a local RUNNERS=N runner does.
      script: cfg.scriptPvc ? { volumeClaim: { name: cfg.scriptPvc, file: archiveName, readOnly: true } } : { configMap: { name: `${cfg.name}-archive`, file: archiveName } },
      arguments: '--no-usage-report',
      separate: false,
      runner: {
        image: cfg.image,
        env: [
          // Kubernetes expands $(POD_NAME) in later values: one samples file per pod.
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'K6_OUT', value: `json=${SAMPLES_MOUNT}/$(POD_NAME).json.gz` },
          { name: 'TARGET', value: cfg.target },
          ...Object.entries(knobs).map(([name, value]) => ({ name, value })),
        ],
        volumes: [{ name: 'samples', persistentVolumeClaim: { claimName: cfg.samplesPvc } }],
        volumeMounts: [{ name: 'samples', mountPath: SAMPLES_MOUNT }],
      },
    },
  };
  const samplesPvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(cfg.samplesPvc), spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '2Gi' } } } };
  const collector = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(`${cfg.name}-collector`),
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'collector', image: 'busybox:1.36', command: ['sleep', '3600'], volumeMounts: [{ name: 'samples', mountPath: SAMPLES_MOUNT, readOnly: true }] }],
      volumes: [{ name: 'samples', persistentVolumeClaim: { claimName: cfg.samplesPvc, readOnly: true } }],
    },
  };
  return { configMap, testRun, samplesPvc, collector };
}

export function validateTestRun(testRun: unknown): string[] {
  return validate(testRun, JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Schema);
}

export function runbook(cfg: OperatorConfig): string {
  const ns = cfg.namespace ? ` -n ${cfg.namespace}` : '';
  const d = cfg.outDir;
  const collected = join('results', 'k6-operator', cfg.name);
  return [
    `# ${cfg.scenario} on ${cfg.impl} with ${cfg.runners} k6-operator runners against ${cfg.target}`,
    `kubectl apply${ns} -f ${d}/samples-pvc.json      # skip if the claim ${cfg.samplesPvc} exists (ReadWriteMany)`,
    cfg.scriptPvc ? `# copy ${d}/archive.tar onto the claim ${cfg.scriptPvc} as archive.tar` : `kubectl apply${ns} -f ${d}/configmap.json`,
    `kubectl apply${ns} -f ${d}/testrun.json`,
    `kubectl wait${ns} --for=jsonpath='{.status.stage}'=finished testrun/${cfg.name} --timeout=1h`,
    `kubectl apply${ns} -f ${d}/collector.json && kubectl wait${ns} --for=condition=Ready pod/${cfg.name}-collector`,
    `mkdir -p ${collected} && kubectl cp${ns} ${cfg.name}-collector:${SAMPLES_MOUNT} ${collected} && cp ${d}/merge.json ${collected}/`,
    `make bench-merge SAMPLES_DIR=${collected}  # one summary over all runners; exit 99 when a threshold breaks on the aggregate`,
    `kubectl delete${ns} -f ${d}/collector.json -f ${d}/testrun.json${cfg.scriptPvc ? '' : ` -f ${d}/configmap.json`}`,
    '',
  ].join('\n');
}

export async function writeOperatorManifests(env: NodeJS.ProcessEnv): Promise<{ cfg: OperatorConfig; files: string[] }> {
  const k6 = k6Binary();
  const cfg = operatorConfig(env, k6Semver(k6) ?? 'latest');
  mkdirSync(cfg.outDir, { recursive: true });
  const plan = planFor(cfg.scenario, { ...env, SCENARIO: cfg.scenario });
  const [script] = await bundleScenarios([join('scenarios', `${plan.kind}.ts`)]);
  const dataset = datasetManifest(benchConfig(env, { maxImages: cfg.maxImages }), cfg.outDir);
  const bounds = cfg.impl.split(',').map((impl) => resolveBounds(readBoundsFile(readKnob(BOUNDS_FILE_KNOB, env)), plan, impl.trim()));
  writeFileSync(join(cfg.outDir, 'bounds.json'), JSON.stringify(bounds, null, 2));

  // Knobs every runner needs; the file paths are baked into the archive (k6 stores the files it
  // opened under those paths), the rest also go to spec.runner.env so they show in the TestRun.
  const knobs: Record<string, string> = { ...planEnvOf(env), SCENARIO: cfg.scenario, IMPL: cfg.impl, MAX_IMAGES: String(cfg.maxImages), ...(cfg.models.length > 0 ? { MODELS: cfg.models.join(',') } : {}) };
  const files: Record<string, string> = { DATASET_MANIFEST: dataset.manifest, BOUNDS_RESOLVED: join(cfg.outDir, 'bounds.json'), ...(cfg.reference ? { REFERENCE: resolve(cfg.reference) } : {}) };
  const archivePath = join(cfg.outDir, 'archive.tar');
  const archived = spawnSync(k6, ['archive', '-O', archivePath, ...Object.entries({ ...knobs, ...files }).flatMap(([k, v]) => ['-e', `${k}=${v}`]), script!], { encoding: 'utf8', env: { PATH: env['PATH'] ?? '', HOME: env['HOME'] ?? '' } });
  if (archived.status !== 0) throw new BenchError(`k6 archive failed (exit ${archived.status}): ${(archived.stderr ?? '').trim().split('\n').slice(-1)[0]}`);
  const archive = readFileSync(archivePath);
  if (!cfg.scriptPvc && Math.ceil(archive.length / 3) * 4 > CONFIGMAP_MAX_BASE64) {
    throw new BenchError(`the archive is ${archive.length} bytes, too big for a ConfigMap (1 MiB, base64): set MAX_IMAGES lower (now ${cfg.maxImages}) or SCRIPT_PVC=<claim> to ship it on a volume`);
  }

  // The thresholds the runners will declare: k6 inspect of the archive itself, with the pods' env.
  const declared = await inspectOptions(k6, archivePath, { PATH: env['PATH'] ?? '', HOME: env['HOME'] ?? '', TARGET: cfg.target, ...knobs, ...files });
  const spec: MergeSpec = { version: 1, scenario: cfg.scenario, impls: cfg.impl.split(',').map((s) => s.trim()), planEnv: planEnvOf(env), thresholds: declared.thresholds, summaryTrendStats: declared.summaryTrendStats, ...(bounds[0]?.slo.capacity_slo_p99_ms !== undefined ? { capacitySloMs: bounds[0].slo.capacity_slo_p99_ms } : {}), judging: judgingOf(env) };

  const m = buildManifests(cfg, archive, knobs);
  const errors = validateTestRun(m.testRun);
  if (errors.length > 0) throw new BenchError(`the generated TestRun does not match ${SCHEMA_FILE}: ${errors.join('; ')}`);
  const out: Record<string, unknown> = { 'testrun.json': m.testRun, 'samples-pvc.json': m.samplesPvc, 'collector.json': m.collector, 'merge.json': spec, ...(m.configMap ? { 'configmap.json': m.configMap } : {}) };
  for (const [f, v] of Object.entries(out)) writeFileSync(join(cfg.outDir, f), JSON.stringify(v, null, 2) + '\n');
  writeFileSync(join(cfg.outDir, 'runbook.txt'), runbook(cfg));
  return { cfg, files: [...Object.keys(out), 'archive.tar', 'bounds.json', 'runbook.txt'].map((f) => join(cfg.outDir, f)) };
}

if (isMain(import.meta.url)) {
  runMain('k6-operator', async () => {
    const { cfg, files } = await writeOperatorManifests(process.env);
    console.log(`k6-operator: ${cfg.runners} runner(s) of ${cfg.scenario} on ${cfg.impl} -> ${cfg.outDir}`);
    for (const f of files) console.log(`  ${f}`);
    console.log(`\n${runbook(cfg)}`);
  }, { expected: [BenchError] });
}

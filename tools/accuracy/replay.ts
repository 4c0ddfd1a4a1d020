// Accuracy mode (like MLPerf's AccuracyOnly): after a load run, replay every reference image, one at
// a time, through the implementation under test and compare its detections with the baseline's
// reference. `make accuracy` runs it on its own; `make bench` calls runAccuracy() after k6.
//   TARGET set:   POST <TARGET>/infer/<IMPL> (raw image body, X-Image-Id), the path the load test used;
//                 PROTOCOL=seed: the seed API's multipart "file", its answers converted (lib/seed.ts).
//   TARGET unset: the implementation in-process, which also yields the raw heads for their MSE
//                 (raw heads are 85 MB per image as float32, so they are not sent over HTTP).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MODEL_NAMES, type ModelName } from '../../lib/types.ts';
import type { Protocol } from '../../lib/v2/config.ts';
import { askTarget } from './http.ts';
import { textTable } from '../../lib/text-table.ts';
import { readKnob } from '../../lib/knobs.ts';
import { resolveAccuracy, type AccuracyBounds, type ResolvedAccuracy } from '../../lib/bounds.ts';
import {
  addRawHeadErrors, addSums, compareDetections, DEFAULT_IOU_THRESHOLD, describeBrokenGate, emptySums, evaluateGates,
  finalizeMetrics, type AccuracyMetrics, type AccuracySums, type Detections, type GateResult,
} from '../../lib/accuracy/index.ts';
import type { ReferenceImage } from '../../lib/accuracy/reference.ts';
import { accuracyConfig, type AccuracyConfig } from './config.ts';
import { BOUNDS_FILE_KNOB, readBoundsFile } from '../../lib/node/bounds-file.ts';
import { listImplementations } from '../../lib/node/server-api.ts';
import { describeDataset } from '../data/dataset.ts';
import { ensureReference } from './reference.ts';
import { loadDetections, loadRaw } from './store.ts';
import { gatherRaw, type RawSubset } from './raw.ts';
import { startInProcess, type InProcessRunner } from './inprocess.ts';
import type { RawHeads } from '../../server/index.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';

const ACCURACY_FILE = 'accuracy.json';
const ACCURACY_VERSION = 1;

interface AccuracyArgs {
  /** http://host:port of a running server; undefined runs the implementation in-process. */
  target: string | undefined;
  impl: string;
  runDir: string;
  datasetDir: string;
  /** 0 = every image of the dataset. */
  maxImages: number;
  /** The bounds the run already resolved for k6's in-run check (make bench's bounds.json), so both
   * checks use one object; without it (make accuracy) they are resolved here the same way. */
  bounds?: ResolvedAccuracy;
  /** How the target is asked (seed: the seed API); default PROTOCOL from the environment. */
  protocol?: Protocol;
}

interface GateRecord extends GateResult {
  scope: ModelName;
}

/** Schema of accuracy.json: one report per implementation replayed into the run folder
 * (smoke runs several implementations into one folder). */
export interface AccuracyFile {
  version: number;
  impls: Record<string, AccuracyReport>;
}

/** The accuracy of one implementation. */
export interface AccuracyReport {
  version: number;
  created: string;
  impl: string;
  lossless: boolean;
  mode: 'http' | 'in-process';
  target: string | null;
  dataset: { name: string; dir: string; images: number };
  reference: { dir: string; created: string; implementation: string; ep: string; rebuilt: boolean; models: Record<string, string> };
  matching: { method: string; iou_threshold: number };
  raw_heads: { compared: boolean; note: string };
  bounds: AccuracyBounds;
  /** Where the bounds came from. */
  bounds_source: string;
  /** Requests that failed (HTTP error or unreadable body); their images count as all-missing. */
  request_errors: { image: string; error: string }[];
  models: Partial<Record<ModelName, AccuracyMetrics>>;
  overall: AccuracyMetrics;
  /** Gates per model; overall figures are reported, the per-model gates are the stricter test. */
  gates: GateRecord[];
  passed: boolean;
  duration_s: number;
}

interface Answer {
  models: Partial<Record<ModelName, Detections & { raw?: RawHeads }>>;
}

/** Whether `impl` on the server at `target` says it is lossless (GET /implementations). */
export async function implementationIsLossless(target: string, impl: string): Promise<boolean> {
  const list = await listImplementations(target).catch((err: Error) => {
    throw new Error(`cannot read ${target}/implementations (${(err.cause as Error | undefined)?.message ?? err.message}): is TARGET a running inference server? Start one with 'make server' or fix TARGET`);
  });
  const info = list.find((i) => i.name === impl);
  if (!info) throw new Error(`${target} has no implementation '${impl}' (it has ${list.map((i) => i.name).join(', ')}): fix IMPL`);
  return info.lossless;
}

/** One way to ask the implementation under test for one image. */
interface Replayer {
  mode: AccuracyReport['mode'];
  lossless(): Promise<boolean>;
  answer(file: string, id: string): Promise<Answer>;
  close(): Promise<void>;
}

function httpReplayer(target: string, impl: string, datasetDir: string, protocol: Protocol): Replayer {
  return {
    mode: 'http',
    // The seed API has no /implementations: not lossless by its word (declared bounds, else exact).
    lossless: () => (protocol === 'seed' ? Promise.resolve(false) : implementationIsLossless(target, impl)),
    answer: async (file, id) => ({ models: (await askTarget(protocol, target, impl, datasetDir, file, id)).models }),
    async close() {},
  };
}

function inProcessReplayer(runner: InProcessRunner, datasetDir: string, rawHeads: boolean): Replayer {
  return {
    mode: 'in-process',
    lossless: async () => runner.lossless,
    async answer(file, id) {
      return { models: (await runner.infer(datasetDir, file, id, rawHeads)).result.models };
    },
    close: () => runner.close(),
  };
}

/**
 * For make bench, before k6 starts: makes sure a fresh reference covers the images (building it with
 * the baseline in-process if needed) and returns the absolute path to pass to k6 as REFERENCE, which
 * turns on the in-run output checks (lib/k6/output-check.ts).
 */
export async function prepareReference(
  args: { datasetDir: string; maxImages: number },
  log: (line: string) => void = console.log,
): Promise<string> {
  const ref = await ensureReference(configFor(args), undefined, { log });
  return resolve(ref.dir, ref.manifest.detections_file);
}

/** The env config (MODELS_DIR, REFERENCE_DIR, RAW_TOPK) with the caller's dataset and image count. */
function configFor(args: { datasetDir: string; maxImages: number }): AccuracyConfig {
  return { ...accuracyConfig({ ...process.env, DATASET_DIR: args.datasetDir }), maxImages: args.maxImages };
}

const NO_DETECTIONS: Detections = { boxes: [], scores: [], labels: [] };

/** Replays, computes, writes accuracy.json and the summary table; returns the verdict and one line per broken gate. */
export async function runAccuracy(args: AccuracyArgs, log: (line: string) => void = console.log): Promise<{ passed: boolean; lines: string[] }> {
  const started = performance.now();
  const cfg = configFor(args);
  const wanted = describeDataset(cfg.datasetDir, cfg.maxImages);
  const reference = await ensureReference(cfg, wanted, { log });
  const refImages = new Map(loadDetections(reference.dir, reference.manifest).images.map((i) => [i.id, i]));
  const refRaw = new Map(MODEL_NAMES.map((m) => [m, loadRaw(reference.dir, reference.manifest, m)] as const));

  const replayer = args.target
    ? httpReplayer(args.target.replace(/\/+$/, ''), args.impl, cfg.datasetDir, args.protocol ?? cfg.protocol)
    : inProcessReplayer(await startInProcess(args.impl, cfg.modelsDir), cfg.datasetDir, reference.manifest.raw_heads.available);
  const perModel = new Map<ModelName, AccuracySums>(MODEL_NAMES.map((m) => [m, emptySums()]));
  const errors: AccuracyReport['request_errors'] = [];
  let lossless: boolean;
  log(`accuracy: replaying ${wanted.length} images through ${args.impl} (${replayer.mode}${args.target ? ` ${args.target}${(args.protocol ?? cfg.protocol) === 'seed' ? ', seed API' : ''}` : ''}), one at a time`);
  try {
    lossless = await replayer.lossless();
    const loopStart = performance.now();
    for (const [n, file] of wanted.entries()) {
      const ref = refImages.get(file.id) as ReferenceImage;
      let answer: Answer = { models: {} };
      try {
        answer = await replayer.answer(file.file, file.id);
      } catch (err) {
        errors.push({ image: file.id, error: (err as Error).message });
      }
      for (const m of MODEL_NAMES) {
        const refDet = ref.models[m];
        if (!refDet) continue;
        const got = answer.models[m];
        const sums = compareDetections(got ?? NO_DETECTIONS, refDet);
        const rawRef = refRaw.get(m)?.get(file.id);
        if (got?.raw && rawRef) addRawErrors(sums, got.raw, rawRef, reference.manifest.raw_heads.classes);
        addSums(perModel.get(m)!, sums);
      }
      const done = n + 1;
      if (done === wanted.length || done % 10 === 0) {
        log(`accuracy: ${done}/${wanted.length} images (${((performance.now() - loopStart) / done / 1000).toFixed(2)} s/image)`);
      }
    }
  } finally {
    await replayer.close();
  }

  const { bounds, source: boundsSource } = args.bounds ?? resolveAccuracy(args.impl, lossless, readBoundsFile(readKnob(BOUNDS_FILE_KNOB, process.env)));
  const models: AccuracyReport['models'] = {};
  const overallSums = emptySums();
  const gates: GateRecord[] = [];
  for (const [m, sums] of perModel) {
    models[m] = finalizeMetrics(sums);
    addSums(overallSums, sums);
    for (const g of evaluateGates(models[m]!, bounds)) gates.push({ scope: m, ...g });
  }
  const overall = finalizeMetrics(overallSums);
  const rawCompared = overall.class_logits_values > 0;
  const report: AccuracyReport = {
    version: ACCURACY_VERSION,
    created: new Date().toISOString(),
    impl: args.impl,
    lossless,
    mode: replayer.mode,
    target: args.target ?? null,
    dataset: { name: cfg.datasetName, dir: cfg.datasetDir, images: wanted.length },
    reference: {
      dir: reference.dir, created: reference.manifest.created, implementation: reference.manifest.implementation,
      ep: reference.manifest.ep, rebuilt: reference.rebuilt,
      models: Object.fromEntries(MODEL_NAMES.map((m) => [m, reference.manifest.models[m].sha256])),
    },
    matching: { method: 'class-aware, greedy by descending score, highest IoU first', iou_threshold: DEFAULT_IOU_THRESHOLD },
    raw_heads: {
      compared: rawCompared,
      note: rawCompared
        ? `top ${reference.manifest.raw_heads.top_k} (anchor, class) entries by reference logit per image and model; box regression of those anchors`
        : !reference.manifest.raw_heads.available
          ? `the reference has no raw heads (${reference.manifest.raw_heads.reason})`
          : replayer.mode === 'http'
            ? 'not compared over HTTP (raw heads are ~85 MB per image); run make accuracy without TARGET for them'
            : `${args.impl} returns no raw heads`,
    },
    bounds,
    bounds_source: boundsSource,
    request_errors: errors,
    models,
    overall,
    gates,
    passed: errors.length === 0 && gates.every((g) => g.passed),
    duration_s: Math.round(performance.now() - started) / 1000,
  };
  mkdirSync(args.runDir, { recursive: true });
  const file = readAccuracyFile(args.runDir) ?? { version: ACCURACY_VERSION, impls: {} };
  file.impls[args.impl] = report;
  writeFileSync(join(args.runDir, ACCURACY_FILE), JSON.stringify(file, null, 2));
  const table = accuracyTable(report);
  appendFileSync(join(args.runDir, 'summary.txt'), `${existsSync(join(args.runDir, 'summary.txt')) ? '\n' : ''}${table}\n`);
  for (const line of table.split('\n')) log(line);

  const lines = gates.filter((g) => !g.passed).map((g) => describeBrokenGate(g.scope, g, models[g.scope]!));
  if (errors.length > 0) lines.unshift(`accuracy request_errors = ${errors.length}, bound <= 0 (first: ${errors[0]!.image}: ${errors[0]!.error})`);
  return { passed: report.passed, lines };
}

function addRawErrors(sums: AccuracySums, actual: RawHeads, ref: RawSubset, classes: number): void {
  const got = gatherRaw(actual.class_logits, actual.box_regression, classes, ref.indices);
  addRawHeadErrors(sums, 'class_logits', got.logits, ref.logits);
  addRawHeadErrors(sums, 'box_regression', got.boxes, ref.boxes);
}

const fmt = (v: number | null, digits = 4): string => (v === null ? 'n/a' : v === 0 ? '0' : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6 ? v.toExponential(2) : v.toFixed(digits));

/** The table for summary.txt (and the console): one row per model plus the overall row. */
function accuracyTable(r: AccuracyReport): string {
  const header = ['model', 'images', 'ref dets', 'dets', 'matched', 'missing', 'extra', 'wrong label', 'boxes MSE px^2', 'scores MSE', 'labels acc', 'mean IoU', '|count diff|', 'logits MSE', 'box reg MSE', 'gates'];
  const row = (name: string, m: AccuracyMetrics, scope: ModelName | 'all'): string[] => {
    const broken = r.gates.filter((g) => (scope === 'all' || g.scope === scope) && !g.passed);
    const verdict = broken.length === 0 ? 'pass' : scope === 'all' ? `FAIL (${broken.length} gates)` : `FAIL ${broken.map((g) => g.metric).join(' ')}`;
    return [
      name, String(m.images), String(m.reference_detections), String(m.actual_detections), String(m.matched),
      String(m.unmatched_reference), String(m.unmatched_actual), String(m.label_mismatches), fmt(m.boxes_mse), fmt(m.scores_mse), fmt(m.labels_accuracy),
      fmt(m.mean_iou), fmt(m.count_diff_mean, 2), fmt(m.class_logits_mse), fmt(m.box_regression_mse),
      verdict,
    ];
  };
  const rows = [header, ...MODEL_NAMES.filter((m) => r.models[m]).map((m) => row(m, r.models[m]!, m)), row('all', r.overall, 'all')];
  const b = r.bounds;
  return [
    `Accuracy of ${r.impl} against the ${r.reference.implementation} reference (${r.mode}, ${r.dataset.images} images of ${r.dataset.name}; ` +
      `matching ${r.matching.method}, IoU >= ${r.matching.iou_threshold}): ${r.passed ? 'PASSED' : 'FAILED'}`,
    `bounds (${r.bounds_source}): boxes MSE <= ${b.boxes_mse_max} px^2, scores MSE <= ${b.scores_mse_max}, ` +
      `labels accuracy >= ${b.labels_accuracy_min}, unmatched/reference <= ${b.unmatched_max}; raw heads: ${r.raw_heads.note}`,
    ...textTable(rows, 'l'),
    ...(r.request_errors.length ? [`request errors: ${r.request_errors.length} (first: ${r.request_errors[0]!.image}: ${r.request_errors[0]!.error})`] : []),
  ].join('\n');
}

export function readAccuracyFile(runDir: string): AccuracyFile | undefined {
  const path = join(runDir, ACCURACY_FILE);
  if (!existsSync(path)) return undefined;
  const file = JSON.parse(readFileSync(path, 'utf8')) as AccuracyFile;
  if (file.version !== ACCURACY_VERSION || typeof file.impls !== 'object') throw new Error(`${path} is not an accuracy.json of version ${ACCURACY_VERSION}`);
  return file;
}

/** The tables of a run's accuracy.json, for writers that rebuild summary.txt after post-processing. */
export function accuracyTablesOf(runDir: string): string | undefined {
  const file = readAccuracyFile(runDir);
  return file ? Object.values(file.impls).map(accuracyTable).join('\n\n') : undefined;
}

async function main(): Promise<void> {
  const cfg = accuracyConfig();
  const runDir = cfg.runDir || join('results', `${new Date().toISOString().replace(/[:.]/g, '-')}-accuracy-${cfg.impl}`);
  const { passed, lines } = await runAccuracy({ target: cfg.target, impl: cfg.impl, runDir, datasetDir: cfg.datasetDir, maxImages: cfg.maxImages });
  console.log(`accuracy: wrote ${join(runDir, ACCURACY_FILE)}`);
  for (const line of lines) console.error(line);
  if (!passed) process.exit(1);
}

// Exit 1: a gate broke; 2: the replay could not run (bad config, no server, no reference).
if (isMain(import.meta.url)) runMain('accuracy', main, { failureCode: 2 });

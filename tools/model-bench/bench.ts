// `make bench-models`: in-process latency of each detector with onnxruntime-node, the limit the
// served numbers are later compared against. Warm-up runs are excluded; median and p90 over MODEL_RUNS.
// Env: MODELS_DIR, MODELS=d0,d1,d2, BATCHES=1,4, MODEL_RUNS=20, WARMUP=3, THREADS (intra-op; 0 = ORT default),
// OUTPUTS=detections|all (what session.run fetches; the server fetches detections only),
// DATASET_DIR=<dataset dir> (time the dataset's first images, letterboxed as the server does; default: a
// generated test image),
// VARIANTS=float,int8 (int8 = efficientdet-d*-int8.onnx from `make models-int8`; several variants are
// timed interleaved, run by run, so a busy machine slows them alike and their ratio stays fair). A
// variant may add session-option presets: float+no-arena, float+static-batch+daz (SESSION_PRESETS).

import { median, quantileSorted } from '../../lib/stats.ts';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, INT8_MODEL_FILE, MODEL_FILE, MODEL_NAMES, OUTPUT_NAMES, parseMetadata, type ModelName } from '../../lib/model-contract.ts';
import { readModelStats } from '../models/inspect.ts';
import { int, INVALID, knob, list, oneOf, readKnobs, text } from '../../lib/knobs.ts';
import { testImage } from '../models/test-image.ts';
import { loadCalibrationImages } from '../models/quantize.ts';
import { letterboxBatch, type Normalisation } from '../../server/index.ts';
import { isMain } from '../../lib/node/is-main.ts';
import { runMain } from '../../lib/node/cli.ts';

export const VARIANTS = ['float', 'int8'] as const;
export type Variant = (typeof VARIANTS)[number];
const variantFile = (v: Variant, model: string) => (v === 'int8' ? INT8_MODEL_FILE(model) : MODEL_FILE(model));

/** Session-option presets a variant may add (`float+no-arena`): the knobs tried for the server. */
export const SESSION_PRESETS: Record<string, { about: string; options: (batch: number) => ort.InferenceSession.SessionOptions }> = {
  'no-arena': { about: "plain malloc instead of onnxruntime's CPU memory arena", options: () => ({ enableCpuMemArena: false }) },
  'no-mempattern': { about: 'no pre-planned memory pattern', options: () => ({ enableMemPattern: false }) },
  'static-batch': { about: 'freeDimensionOverrides N = the batch size (a static shape for the planner)', options: (batch) => ({ freeDimensionOverrides: { N: batch } }) },
  daz: { about: 'denormals as zero', options: () => ({ extra: { session: { set_denormal_as_zero: '1' } } }) },
};

/** One timed variant: a model file (float or int8) plus session-option presets. */
export interface VariantSpec {
  label: string;
  file: Variant;
  presets: string[];
}

export function parseVariant(label: string): VariantSpec {
  const [file, ...presets] = label.split('+');
  if (!VARIANTS.includes(file as Variant)) throw new Error(`VARIANTS: '${label}' must start with one of ${VARIANTS.join(', ')}`);
  for (const p of presets) if (!Object.hasOwn(SESSION_PRESETS, p)) throw new Error(`VARIANTS: '${p}' in '${label}' is not a session preset; expected one of ${Object.keys(SESSION_PRESETS).join(', ')}`);
  return { label, file: file as Variant, presets };
}

export interface ModelBenchConfig {
  modelsDir: string;
  models: ModelName[];
  batches: number[];
  runs: number;
  warmup: number;
  threads: number;
  outputs: 'detections' | 'all';
  resultsDir: string;
  variants: VariantSpec[];
  /** A dataset folder (manifest.json): time its images, letterboxed as the server does, instead of testImage. */
  imagesDir?: string;
}

/** `make bench-models` knobs (env over defaults). WARMUP, BATCHES and RESULTS_DIR are this tool's own here. */
export const MODEL_BENCH_KNOBS = {
  modelsDir: knob({ env: 'MODELS_DIR', tier: 'expert', default: 'build/models', ...text('folder'), doc: 'the ONNX files to time' }),
  models: knob<ModelName[]>({ env: 'MODELS', tier: 'expert', default: [...MODEL_NAMES], ...list(oneOf(MODEL_NAMES), `a comma list of ${MODEL_NAMES.join(', ')}`), doc: 'which detectors' }),
  batches: knob({ env: 'BATCHES', tier: 'expert', default: [1, 4], ...list(int(1), 'a comma list of batch sizes such as 1,4'), doc: 'batch sizes timed' }),
  runs: knob({ env: 'MODEL_RUNS', tier: 'expert', default: 20, ...int(1), doc: 'timed in-process runs per model, batch and variant' }),
  warmup: knob({ env: 'WARMUP', tier: 'essential', default: 3, ...int(0), doc: 'untimed runs first' }),
  threads: knob({ env: 'THREADS', tier: 'expert', default: 0, ...int(0, 256), doc: 'intra-op threads (0 = onnxruntime default)' }),
  outputs: knob<'detections' | 'all'>({ env: 'OUTPUTS', tier: 'expert', default: 'detections', ...oneOf(['detections', 'all'] as const), doc: 'outputs fetched: detections, or the raw heads too' }),
  resultsDir: knob({ env: 'RESULTS_DIR', tier: 'expert', default: 'results/models', ...text('folder'), doc: 'where the JSON goes' }),
  variants: knob({
    env: 'VARIANTS', tier: 'expert', default: ['float'], allowed: `a comma list of ${VARIANTS.join(', ')}, each with optional +presets (${Object.keys(SESSION_PRESETS).join(', ')})`,
    parse: (raw: string) => {
      const labels = raw.split(',').map((v) => v.trim());
      return labels.every((l) => { const [file, ...presets] = l.split('+'); return VARIANTS.includes(file as Variant) && presets.every((p) => Object.hasOwn(SESSION_PRESETS, p)); }) ? labels : INVALID;
    },
    doc: 'model files and session presets, timed interleaved',
  }),
  imagesDir: knob({ env: 'DATASET_DIR', tier: 'essential', default: '', defaultText: '(a generated test image)', ...text('a dataset folder'), doc: "time the dataset's images, letterboxed by the server's code, instead of the test image" }),
};

export function benchConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ModelBenchConfig {
  const { imagesDir, variants, ...k } = readKnobs(MODEL_BENCH_KNOBS, env);
  return { ...k, variants: variants.map(parseVariant), ...(imagesDir ? { imagesDir } : {}) };
}

/**
 * The first `batch` images of a dataset, decoded and letterboxed by the server's own code, and the
 * median time of that letterbox over `runs` after `warmup` untimed ones, as the models are timed (the
 * per-model preparation a served request also pays). The first calls run unoptimised code and are
 * several times slower than warm ones, so they are left out like the models' warm-up runs.
 */
async function datasetTensor(dir: string, size: number, batch: number, norm: Normalisation, runs: number, warmup: number): Promise<{ data: Float32Array; letterbox_ms: number }> {
  const images = (await loadCalibrationImages(dir, batch)).map((i) => i.image);
  const times: number[] = [];
  let data: Float32Array = new Float32Array(0);
  for (let i = 0; i < warmup + Math.max(1, runs); i++) {
    const t = performance.now();
    data = (await letterboxBatch(images, size, norm)).data;
    if (i >= warmup) times.push(performance.now() - t);
  }
  return { data, letterbox_ms: median(times) };
}


export interface BenchRow {
  model: ModelName;
  /** The VARIANTS entry: float, int8, or either with session presets (float+no-arena). */
  variant: string;
  batch: number;
  runs: number;
  median_ms: number;
  p90_ms: number;
  min_ms: number;
  max_ms: number;
  median_per_image_ms: number;
  /** With DATASET_DIR: median letterbox + normalisation time of the batch for this model (not in median_ms). */
  letterbox_ms?: number;
  params: number;
  conv_macs: number;
}

export async function bench(cfg: ModelBenchConfig, log: (l: string) => void = console.log): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const fetches = cfg.outputs === 'all' ? undefined : [OUTPUT_NAMES.boxes, OUTPUT_NAMES.scores, OUTPUT_NAMES.classes, OUTPUT_NAMES.numDetections];
  for (const model of cfg.models) {
    for (const batch of cfg.batches) {
      // Sessions per batch size: a preset such as static-batch fixes the batch in the session.
      const loaded: { variant: string; session: ort.InferenceSession; params: number; convMacs: number }[] = [];
      let S = 0;
      let norm: Normalisation = { pixelScale: 255, mean: [0, 0, 0], std: [1, 1, 1] };
      try {
        for (const variant of cfg.variants) {
          const file = join(cfg.modelsDir, variantFile(variant.file, model));
          if (!existsSync(file)) throw new Error(`${file} not found: run 'make models${variant.file === 'int8' ? '-int8' : ''}' or set MODELS_DIR to a folder holding it`);
          const stats = readModelStats(file);
          const meta = parseMetadata(stats.metadata, file);
          S = meta.inputSize;
          norm = { pixelScale: meta.pixelScale, mean: meta.mean, std: meta.std };
          const t0 = performance.now();
          const session = await ort.InferenceSession.create(file, {
            graphOptimizationLevel: 'all',
            ...(cfg.threads > 0 ? { intraOpNumThreads: cfg.threads } : {}),
            ...Object.assign({}, ...variant.presets.map((p) => SESSION_PRESETS[p]!.options(batch))),
          });
          loaded.push({ variant: variant.label, session, params: stats.params, convMacs: stats.convMacs });
          log(`bench-models: ${model} ${variant.label} loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
        const prepared = cfg.imagesDir ? await datasetTensor(cfg.imagesDir, S, batch, norm, cfg.runs, cfg.warmup) : undefined;
        const pixels = prepared ? prepared.data : testImage(S, batch);
        const feeds = { [INPUT_NAME]: new ort.Tensor('float32', pixels, [batch, 3, S, S]) };
        const run = (s: ort.InferenceSession) => (fetches ? s.run(feeds, fetches) : s.run(feeds));
        for (const l of loaded) for (let i = 0; i < cfg.warmup; i++) await run(l.session);
        const times = loaded.map(() => [] as number[]);
        for (let i = 0; i < cfg.runs; i++) {
          for (let k = 0; k < loaded.length; k++) {
            const t = performance.now();
            await run(loaded[k].session);
            times[k].push(performance.now() - t);
          }
        }
        loaded.forEach((l, k) => {
          const ts = times[k].sort((a, b) => a - b);
          const row: BenchRow = {
            model, variant: l.variant, batch, runs: cfg.runs,
            median_ms: quantileSorted(ts, 0.5), p90_ms: quantileSorted(ts, 0.9), min_ms: ts[0], max_ms: ts[ts.length - 1],
            median_per_image_ms: quantileSorted(ts, 0.5) / batch, params: l.params, conv_macs: l.convMacs,
            ...(prepared ? { letterbox_ms: prepared.letterbox_ms } : {}),
          };
          rows.push(row);
          log(`bench-models: ${model} ${l.variant} batch ${batch}: median ${row.median_ms.toFixed(1)} ms, p90 ${row.p90_ms.toFixed(1)} ms over ${cfg.runs} runs`);
        });
      } finally {
        for (const l of loaded) await l.session.release();
      }
    }
  }
  return rows;
}

export function table(rows: BenchRow[]): string {
  const head = ['model', 'variant', 'batch', 'runs', 'median ms', 'p90 ms', 'ms/image', 'params (M)', 'conv MACs (G)'];
  const body = rows.map((r) => [r.model, r.variant, r.batch, r.runs, r.median_ms.toFixed(1), r.p90_ms.toFixed(1), r.median_per_image_ms.toFixed(1), (r.params / 1e6).toFixed(3), (r.conv_macs / 1e9).toFixed(2)].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

if (isMain(import.meta.url)) {
  runMain('bench-models', async () => {
    const cfg = benchConfigFromEnv();
    const rows = await bench(cfg);
    mkdirSync(cfg.resultsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(cfg.resultsDir, `${stamp}.json`);
    const env = {
      cpu: cpus()[0]?.model, cores: cpus().length, platform: `${platform()} ${release()}`, node: process.version,
      onnxruntime: ort.env.versions?.common, threads: cfg.threads || 'ort default', graph_optimization_level: 'all',
      outputs_fetched: cfg.outputs, warmup_runs: cfg.warmup,
    };
    writeFileSync(file, JSON.stringify({ created: new Date().toISOString(), env, config: cfg, rows }, null, 2));
    console.log(table(rows));
    console.log(`bench-models: wrote ${file}`);
  });
}

// In-run output checks (k6 only): each response is compared, inside the k6 script, with the
// reference detections of the image it was sent with. Catches answers mixed up between concurrent
// requests, which the sequential accuracy replay cannot see.
//
// Two ways to use it:
// - the suite's way: set REFERENCE=<absolute path of results/reference/<dataset>/detections.json>
//   (the orchestrator gets it from prepareReference() in tools/accuracy/replay.ts); importing
//   this module then loads it in the init context, checkOutputs() checks each response and
//   inRunThresholds() gives the thresholds. Without REFERENCE both are no-ops.
// - explicitly: loadOutputReference() in the init context (read once, shared by all VUs through a
//   SharedArray), checkOutputResponse() after each request, outputThresholds() in the options.
import { SharedArray } from 'k6/data';
import { Rate, Trend } from 'k6/metrics';
import { checkOutput, type OutputCheck } from '../accuracy/check.ts';
import { parseReferenceDetections, type ReferenceImage } from '../accuracy/reference.ts';
import { perResponseBounds, resolveAccuracy, selector, type AccuracyBounds, type Thresholds } from '../bounds.ts';
import { k6Config } from '../k6-config.ts';
import { resolvedBounds } from './resolved-bounds.ts';
import type { ImageResult, InferResponse, ModelName } from '../types.ts';

/** Reference images each VU keeps parsed (REFERENCE_CACHE): the whole synthetic dataset (50) fits. */
const DEFAULT_REFERENCE_CACHE = 64;

/** 1 per (response image, model) whose detections match the reference within the bounds. */
const outputMatch = new Rate('output_match');
/** Boxes MSE (px^2) over matched pairs, per response image and model. */
const outputBoxesMse = new Trend('output_boxes_mse');
const outputScoresMse = new Trend('output_scores_mse');

export interface OutputReference {
  /** The reference file's path, for messages. */
  path: string;
  size: number;
  /** The id of the i-th reference image. */
  id(i: number): string;
  get(imageId: string): ReferenceImage | undefined;
}

/**
 * Init context only (k6's open() exists only there). path: the reference's detections.json,
 * absolute (open() resolves relative paths against the bundled script, not the working directory).
 */
export function loadOutputReference(path: string, cacheImages = DEFAULT_REFERENCE_CACHE): OutputReference {
  // Two shared arrays: the small id list builds a per-VU index without deserialising every image
  // entry. k6 runs a SharedArray's callback once (in the first VU that reaches it); `load` makes
  // the two callbacks share one read and parse of the file.
  let parsed: ReferenceImage[] | undefined;
  const load = (): ReferenceImage[] => (parsed ??= parseReferenceDetections(JSON.parse(open(path)), path).images);
  const images = new SharedArray(`output-reference:${path}`, load);
  const ids = new SharedArray(`output-reference-ids:${path}`, () => load().map((i) => i.id));
  let index: Map<string, number> | undefined;
  // SharedArray parses an element's JSON again on every access (a reference image of 3 models x 100
  // detections is ~28 KB): that was the costliest step of the in-run check. Each VU keeps the entries
  // it has parsed, up to `cacheImages` of them; past that it parses on every access, as before.
  const perVu = new Map<number, ReferenceImage>();
  return {
    path,
    size: ids.length,
    id: (i) => ids[i] as string,
    get(imageId) {
      index ??= new Map(Array.from({ length: ids.length }, (_, i) => [ids[i] as string, i]));
      const i = index.get(imageId);
      if (i === undefined) return undefined;
      const hit = perVu.get(i);
      if (hit) return hit;
      const entry = images[i] as ReferenceImage;
      if (perVu.size < cacheImages) perVu.set(i, entry);
      return entry;
    },
  };
}

/** Accuracy bounds per implementation from BOUNDS_RESOLVED (make bench writes them: BOUNDS_FILE laid
 * over the defaults, lossless as the server says), read once in the init context. */
/** The k6 knobs, read once while this module is imported (init context); defaults outside k6. */
const envConfig = k6Config(typeof __ENV !== 'undefined' ? __ENV : {});

const envResolved: Map<string, AccuracyBounds> = new Map(
  (resolvedBounds(envConfig.boundsResolved) ?? []).flatMap((b) => (b.accuracy ? [[b.impl, b.accuracy.bounds] as const] : [])),
);

/**
 * The bounds ONE response image is held to: the run's resolved accuracy bounds (same as the replay's)
 * with their `per_response` part laid over. Without BOUNDS_RESOLVED (k6 run by hand): the checked-in
 * file, lossy by declaration (an undeclared implementation such as `invalid` gets the exact bounds).
 */
export function inRunBounds(impl: string): AccuracyBounds {
  return perResponseBounds(envResolved.get(impl) ?? resolveAccuracy(impl, false).bounds);
}

/**
 * Compares every image of a response with the reference of the id it was SENT with (not the id the
 * server echoes: a server that mixes up answers may echo the wrong one too), adds the metrics and
 * returns whether everything matched. An image id missing from the reference is a mismatch.
 */
export function checkOutputResponse(
  reference: OutputReference,
  sentIds: readonly string[],
  body: InferResponse | string | null | undefined,
  tags: { impl: string } & Record<string, string>,
  bounds: AccuracyBounds = inRunBounds(tags.impl),
  models?: readonly ModelName[],
): boolean {
  let parsed: InferResponse | undefined;
  try {
    parsed = typeof body === 'string' ? (JSON.parse(body) as InferResponse) : body ?? undefined;
  } catch {
    parsed = undefined;
  }
  let all = true;
  sentIds.forEach((id, i) => {
    const ref = reference.get(id);
    const got: ImageResult | undefined = parsed?.images?.[i];
    if (!ref) {
      outputMatch.add(false, { ...tags, model: 'unknown-image' });
      all = false;
      return;
    }
    const result: OutputCheck = checkOutput(got?.models ?? {}, ref.models, bounds, models);
    for (const m of result.models) {
      const t = { ...tags, model: m.model };
      outputMatch.add(m.match, t);
      if (m.boxes_mse !== null) outputBoxesMse.add(m.boxes_mse, t);
      if (m.scores_mse !== null) outputScoresMse.add(m.scores_mse, t);
    }
    all &&= result.match;
  });
  return all;
}

/**
 * Thresholds of the in-run checks for one implementation: the match rate overall, and the MSE
 * trends per model (max over all responses, so against the per-response bounds). k6 parses bounds such as 1e-8 (strconv.ParseFloat).
 */
export function outputThresholds(impl: string, bounds: AccuracyBounds, models: readonly ModelName[] = ['d0', 'd1', 'd2']): Thresholds {
  const t: Thresholds = {
    [selector('output_match', { impl })]: [`rate>=${bounds.output_match_min}`],
  };
  for (const model of models) {
    t[selector('output_boxes_mse', { impl, model })] = [`max<=${bounds.boxes_mse_max}`];
    t[selector('output_scores_mse', { impl, model })] = [`max<=${bounds.scores_mse_max}`];
  }
  return t;
}

/** The reference named by REFERENCE, loaded while this module is imported (init context); undefined without it. */
const envReference: OutputReference | undefined = envConfig.reference ? loadOutputReference(envConfig.reference, envConfig.referenceCache) : undefined;

/** MODELS=d0,d2 makes requests ask for those models only; the others are then not expected. */
const envModels: ModelName[] | undefined = envConfig.models.length > 0 ? envConfig.models : undefined;

/** The hook call: checks one response against REFERENCE (no-op returning true without it). `models`:
 * the ones this response answers (default MODELS; a v2 per-model request answers one). */
export function checkOutputs(sentIds: readonly string[], body: InferResponse | string | null, tags: { impl: string } & Record<string, string>, models: readonly ModelName[] | undefined = envModels): boolean {
  return envReference ? checkOutputResponse(envReference, sentIds, body, tags, inRunBounds(tags.impl), models) : true;
}

/** Thresholds of the in-run checks for every implementation under test; {} without REFERENCE. */
export function inRunThresholds(impls: readonly string[]): Thresholds {
  if (!envReference) return {};
  return Object.assign({}, ...impls.map((impl) => outputThresholds(impl, inRunBounds(impl), envModels)));
}

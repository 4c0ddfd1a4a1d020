// The server's public in-process entry: the one module tools/ (and a user's own scripts) may import
// from server/. Everything behind it (routes, runtime, http, implementations' files) is internal and
// may change shape; test/unit/layers.test.ts refuses a tools/ import of anything else under server/.
//
//   const impl = await createImplementation('baseline', { modelsDir: 'build/models' });
//   const out = await impl.infer([await decodeImage(bytes, { maxPixels: 40e6, id: 'img1' })], { models: ['d0', 'd1', 'd2'] });
//   await impl.close();

/** The registry: build and load one implementation in this process, without HTTP. */
export { createImplementation, implementationNames } from './implementations/registry.ts';
export type { Implementation } from './implementations/types.ts';
export type { DecodedImage, ImageDetections, InferOptions, InferOutcome, RawHeads } from './runtime/infer-types.ts';
/** The server's own decode and letterbox, so an in-process figure rests on the same inputs as a served one. */
export { decodeImage } from './runtime/decode.ts';
export { letterboxBatch, PREPROCESS_VERSION, type Normalisation } from './runtime/letterbox.ts';
/** The HTTP server itself (what `make server` runs), for embedding. */
export { startServer, type RunningServer } from './main.ts';
export { loadConfig, SERVER_KNOBS, type ServerConfig } from './config.ts';
/** The models' metadata as the server reads it (input size, normalisation), for the prepared v2 tensors. */
export { readModelInfos } from './runtime/model-info.ts';

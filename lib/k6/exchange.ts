// What a protocol client gives the suite (lib/k6/suite.ts): a gate for setup() and the requests of one
// iteration, each with the check of its answer. One client per file: v2.ts (PROTOCOL=v2), seed.ts
// (PROTOCOL=seed); the native protocol's requests (request.ts) fit the same Exchange.
import type { Params, RefinedResponse, ResponseType } from 'k6/http';
import type { HealthResponse, ModelName } from '../types.ts';
import type { LoadedImage } from './dataset.ts';
import type { RequestTags } from './tags.ts';

/** One request and the check of its answer. */
export interface Exchange {
  req: { method: 'POST'; url: string; body: ArrayBuffer; params: Params };
  /** Protocol checks and in-run output checks of the answer; true when the protocol checks passed. */
  check(res: RefinedResponse<ResponseType>): boolean;
}

export interface ProtocolClient {
  /** setup(): waits until the target is ready and serves what is under test; aborts the test, naming why, if not. */
  gate(): HealthResponse;
  /** The exchanges of one iteration (their bodies filled); `only`: just these models' (a mix stream's),
   * refused by a protocol that cannot ask for a subset. */
  exchanges(images: LoadedImage[], tags: RequestTags, only?: readonly ModelName[]): Promise<Exchange[]>;
}

// The backend suite: the seam's transitions, registered for one store by `backendSuite(fixture)`.
import type { BackendFixture } from "../conformance/harness.js";
import { admin } from "./admin.js";
import { browse } from "./browse.js";
import { claims } from "./claims.js";
import { enqueueAndTake } from "./enqueue-take.js";
import { held } from "./held.js";

export { postgresOnly } from "./postgres-only.js";

/** Registers every transition test for `fixture`'s store. */
export function backendSuite(fixture: BackendFixture): void {
  claims(fixture);
  held(fixture);
  enqueueAndTake(fixture);
  admin(fixture);
  browse(fixture);
}

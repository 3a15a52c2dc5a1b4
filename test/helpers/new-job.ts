// A job as the backend seam takes it (NewJob), for tests that write under the seam: rows an
// older version or a hand-made insert could have left.
import { type NewJob, PayloadFormat } from "../../src/backend.js";

/** A JSON job with the defaults `add` would give it; `more` overrides any field. */
export function job(payload: unknown, more: Partial<NewJob> = {}): NewJob {
  return {
    payload: Buffer.from(JSON.stringify(payload)),
    format: PayloadFormat.Json,
    priority: 0,
    maxAttempts: 3,
    key: null,
    backoff: null,
    delayMs: 0,
    runAt: null,
    ttlMs: null,
    ...more,
  };
}

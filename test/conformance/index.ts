// The whole conformance suite: every backend runner calls `conformance(fixture)`.

import { channels } from "./channel.js";
import { codecs } from "./codecs.js";
import { dedupeTtlRetention } from "./dedupe-ttl-retention.js";
import { failures } from "./failures.js";
import type { BackendFixture } from "./harness.js";
import { leases } from "./leases.js";
import { ordering } from "./ordering.js";
import { processes } from "./processes.js";
import { queueBasics } from "./queue-basics.js";
import { trustCore } from "./trust-core.js";
import { validation } from "./validation.js";
import { worker } from "./worker.js";

export type { BackendFixture } from "./harness.js";
export { postgresFixture, sqliteFileFixture, sqliteMemoryFixture } from "./harness.js";

/** Registers every in-process conformance test for `backend`. */
export function conformance(backend: BackendFixture): void {
  queueBasics(backend);
  ordering(backend);
  leases(backend);
  failures(backend);
  dedupeTtlRetention(backend);
  codecs(backend);
  validation(backend);
  worker(backend);
  channels(backend);
  trustCore(backend);
}

/** Registers the tests that run real child processes against `backend`. */
export function processConformance(backend: BackendFixture): void {
  processes(backend);
}

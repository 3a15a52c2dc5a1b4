// The whole conformance suite: every backend runner calls `conformance(fixture)`.

import { channels } from "./channel.js";
import { channelDecode, channelDecodeCrash } from "./channel-decode.js";
import { channelDecodeKey } from "./channel-decode-key.js";
import { codecs } from "./codecs.js";
import { dedupeTtlRetention } from "./dedupe-ttl-retention.js";
import { dependencies, dependenciesProcesses, dependenciesRace } from "./dependencies.js";
import { dependenciesHostile } from "./dependencies-hostile.js";
import { dependenciesWakeup } from "./dependencies-wakeup.js";
import { failures } from "./failures.js";
import type { BackendFixture } from "./harness.js";
import { largePayloads } from "./large-payloads.js";
import { leaseToken } from "./lease-token.js";
import { leases } from "./leases.js";
import { limits } from "./limits.js";
import { limitsFifo } from "./limits-fifo.js";
import { limitsProcesses } from "./limits-processes.js";
import { limitsStale } from "./limits-stale.js";
import { metrics } from "./metrics.js";
import { metricsPrometheus } from "./metrics-prometheus.js";
import { ordering } from "./ordering.js";
import { pauseHostile } from "./pause-hostile.js";
import { pauseProcesses } from "./pause-processes.js";
import { pauseProgress } from "./pause-progress.js";
import { processes } from "./processes.js";
import { queueBasics } from "./queue-basics.js";
import { queueSettings } from "./queue-settings.js";
import { reviewCore } from "./review-core.js";
import { schedules } from "./schedules.js";
import { schedulesFiring } from "./schedules-firing.js";
import { schedulesProcesses } from "./schedules-processes.js";
import { schedulingHostile } from "./scheduling-hostile.js";
import { schemas } from "./schemas.js";
import { tracing } from "./tracing.js";
import { trustCore } from "./trust-core.js";
import { validation } from "./validation.js";
import { worker } from "./worker.js";
import { workerReclaim } from "./worker-reclaim.js";

export type { BackendFixture } from "./harness.js";
export { postgresFixture, sqliteFileFixture, sqliteMemoryFixture } from "./harness.js";

/** Registers every in-process conformance test for `backend`. */
export function conformance(backend: BackendFixture): void {
  queueBasics(backend);
  ordering(backend);
  leases(backend);
  leaseToken(backend);
  failures(backend);
  dedupeTtlRetention(backend);
  codecs(backend);
  largePayloads(backend);
  validation(backend);
  worker(backend);
  workerReclaim(backend);
  channels(backend);
  channelDecode(backend);
  channelDecodeKey(backend);
  queueSettings(backend);
  pauseProgress(backend);
  pauseHostile(backend);
  reviewCore(backend);
  trustCore(backend);
  metrics(backend);
  metricsPrometheus(backend);
  tracing(backend);
  schemas(backend);
  dependenciesWakeup(backend);
  dependenciesHostile(backend);
  limitsStale(backend);
  schedules(backend);
  schedulesFiring(backend);
  limits(backend);
  schedulingHostile(backend);
  limitsFifo(backend);
  dependencies(backend);
  dependenciesRace(backend);
}

/** Registers the tests that run real child processes against `backend`. */
export function processConformance(backend: BackendFixture): void {
  processes(backend);
  channelDecodeCrash(backend);
  pauseProcesses(backend);
  schedulesProcesses(backend);
  limitsProcesses(backend);
  dependenciesProcesses(backend);
}

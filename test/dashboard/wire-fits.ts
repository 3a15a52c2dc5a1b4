/*
 * Compile-time only (`npm run typecheck`; nothing runs): the JSON the dashboard's API sends is
 * what its browser code reads. The client types its side in src/dashboard/assets/client/wire.ts,
 * against the DOM and without Node; this file fails the type check when a server shape stops
 * fitting the client's. (The overview is built inline in api.ts; its parts are checked here.)
 */
import type * as Wire from "../../src/dashboard/assets/client/wire.js";
import type { JobDetail, JobRow } from "../../src/dashboard/jobs.js";
import type { ScheduleRow } from "../../src/dashboard/schedules.js";
import type { ThroughputSampler, ThroughputSeries } from "../../src/dashboard/throughput.js";

/** Compiles only when every value of `Sent` is a valid `Read`. */
type Fits<Sent extends Read, Read> = [Sent, Read];

export type WireChecks = [
  Fits<JobRow, Wire.JobRow>,
  Fits<JobDetail, Wire.JobDetail>,
  Fits<ScheduleRow, Wire.ScheduleRow>,
  Fits<ThroughputSeries & { queue: string | null }, Wire.ThroughputSeries>,
  Fits<ReturnType<ThroughputSampler["recentRate"]>, Wire.Rates>,
];

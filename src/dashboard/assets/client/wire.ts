/*
 * The JSON the dashboard's API sends, as the browser reads it. The server builds these shapes
 * in src/dashboard/{api,jobs,throughput}.ts; test/dashboard/wire-fits.ts fails the type check
 * when they drift apart. Types only: nothing here reaches the bundle.
 */
import type { JobState, QueueSize } from "../../../types.js";

export type { JobState, QueueSize };

export interface Rates {
  completed: number;
  failed: number;
}

export interface ThroughputPoint extends Rates {
  /** ms since the epoch. */
  t: number;
}

export interface ThroughputSeries {
  queue: string | null;
  intervalMs: number;
  windowMs: number;
  points: ThroughputPoint[];
  totals: Rates;
}

export interface QueueOverview {
  name: string;
  size: QueueSize;
  oldestPendingAge: number | null;
  /** Per second, over the last minute. */
  rate: Rates;
  /** The queue's stored limits in words ("50/1s, concurrency 10, 1 per group"), or null. */
  limits: string | null;
}

/** `GET api/overview` */
export interface Overview {
  target: string;
  kind: string;
  now: number;
  queues: QueueOverview[];
  throughput: ThroughputSeries;
}

/** One row of `GET api/queues/<name>/jobs`. */
export interface JobRow {
  id: number;
  state: string;
  attempts: number;
  maxAttempts: number;
  priority: number;
  key: string | null;
  group: string | null;
  createdAt: number;
  runAt: number;
  finishedAt: number | null;
  lastError: string | null;
  preview: string;
}

/** `POST api/queues/<name>/pause` and `…/resume` */
export interface PauseResult {
  paused: boolean;
}

export interface JobPage {
  jobs: JobRow[];
  next: number | null;
}

/** A payload or result as the detail drawer shows it. */
export type ShownValue =
  | { kind: "json"; text: string; truncated: boolean }
  | { kind: "binary"; size: number; hex: string; truncated: boolean }
  | { kind: "none" };

/** One dependency in a job's detail. */
export interface DependencyRow {
  id: number;
  done: boolean;
  /** Null when it is no longer stored. */
  queue: string | null;
  state: JobState | null;
}

/** What a job depends on: all counted, the first 50 listed, `more` not listed. */
export interface JobDependencies {
  total: number;
  done: number;
  items: DependencyRow[];
  more: number;
}

/** `GET api/queues/<name>/jobs/<id>` */
export interface JobDetail extends JobRow {
  queue: string;
  leaseUntil: number | null;
  payload: ShownValue;
  result: ShownValue;
  /** "42%", or the JSON of an object; null when none was reported. */
  progress: string | null;
  /** The jobs it depends on, or null when it has none. */
  dependencies: JobDependencies | null;
}

/** One row of `GET api/schedules`. */
export interface ScheduleRow {
  name: string;
  cron: string;
  tz: string;
  queue: string;
  catchUp: string;
  next: number;
  last: number | null;
}

/** `GET api/schedules` */
export interface SchedulePage {
  schedules: ScheduleRow[];
}

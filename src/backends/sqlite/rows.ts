// Rows as better-sqlite3 returns them → the seam's StoredJob and QueueSettings. Times are ms on
// the process clock already; "delayed" is derived here, against the clock of the read.
import type { PayloadFormat, QueueSettings, StoredJob, TakenJob } from "../../backend.js";
import { SpoolError } from "../../errors.js";

/**
 * A job's id is a JS number (the contract's `id: number`), exact up to 2^53 − 1. SQLite's go up
 * to 2^63 − 1, and only another writer of the file puts one past 2^53 − 1 there (a restore, a
 * merge, an application's own insert): read back rounded, it names a neighbour, another queue's
 * job perhaps. So Spool adds no job past it (unsafeNextId) and hands none out: a claim or take
 * that meets one fails with UnsafeIdError, undone, and the backend then makes every such job of
 * that queue dead (QUARANTINE_UNSAFE_IDS, exact in SQL), so the next call goes on.
 */
export class UnsafeIdError extends SpoolError {
  constructor(queue: string) {
    super("STORAGE", unsafeIdText(queue));
  }
}

/** What such a job's lastError says, and the error of the call that met it. */
export function unsafeIdText(queue: string): string {
  return `queue ${JSON.stringify(queue)} holds a job whose id is outside 1 … 2^53 − 1, the ids a JavaScript number names exactly (another writer of the file put it there): it was made dead, with this text as its last_error, counted but never listed, and the queue goes on without it`;
}

/** The error of an add whose new job's id would be past 2^53 − 1 (see UnsafeIdError). */
export function unsafeNextId(queue: string): SpoolError {
  return new SpoolError(
    "STORAGE",
    `the next job id of this file would be outside 1 … 2^53 − 1, the ids a JavaScript number names exactly (another writer of the file moved the ids there): nothing was added to queue ${JSON.stringify(queue)}; renumber or delete the jobs outside it`,
  );
}

/**
 * `id`, when it is one the contract allows (an integer from 1 to 2^53 − 1: a JS number holds it
 * exactly); else what read it, a claim, take or add of `queue`, must not go on.
 */
export function safeId(id: number, queue: string): number {
  if (Number.isSafeInteger(id) && id >= 1) return id;
  throw new UnsafeIdError(queue);
}

/** A row of spool_jobs, as COLUMNS selects it. */
export interface Row {
  id: number;
  queue: string;
  state: "waiting" | "pending" | "reserved" | "completed" | "dead";
  priority: number;
  run_at: number;
  payload: Buffer;
  format: number;
  attempts: number;
  claims: number;
  max_attempts: number;
  key: string | null;
  backoff: string | null;
  created_at: number;
  lease_until: number | null;
  expires_at: number | null;
  finished_at: number | null;
  last_error: string | null;
  result: Buffer | null;
  result_format: number | null;
  progress: string | null;
  /** The job's group; '' for an ungrouped job of a grouped queue (see limited-claim.ts). */
  grp: string | null;
  /** How many of its dependencies are not completed yet; null when it has none. */
  deps_left: number | null;
}

/** The full lengths a preview list reads beside the cut columns. */
export interface PreviewRow {
  payload_size: number;
  result_size: number | null;
  error_size: number | null;
}

export function toStoredJob(row: Row, now: number): StoredJob {
  return {
    id: row.id,
    queue: row.queue,
    state: row.state === "pending" && row.run_at > now ? "delayed" : row.state,
    payload: row.payload,
    format: row.format as PayloadFormat,
    priority: row.priority,
    attempts: row.attempts,
    claims: row.claims,
    maxAttempts: row.max_attempts,
    key: row.key,
    backoff: row.backoff,
    createdAt: row.created_at,
    runAt: row.run_at,
    leaseUntil: row.lease_until,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    result: row.result,
    resultFormat: row.result_format as PayloadFormat | null,
    progress: row.progress,
    group: row.grp === "" ? null : row.grp,
  };
}

/** A preview row: the cut columns, and `sizes` telling what they were cut from. */
export function toPreviewJob(row: Row & PreviewRow, now: number): StoredJob {
  const job = toStoredJob(row, now);
  job.sizes = { payload: row.payload_size, result: row.result_size, lastError: row.error_size };
  // substr() of an empty blob is NULL, not an empty blob.
  if (job.payload === null) job.payload = Buffer.alloc(0);
  if (job.result === null && job.sizes.result !== null) job.result = Buffer.alloc(0);
  return job;
}

/**
 * A row as a claim or a take returns it: PICKED_COLUMNS of queries.ts in that order, as an array
 * (the statements run in raw mode: no object per row on the drain's hottest statement).
 */
export type PickedRow = [
  id: number,
  priority: number,
  runAt: number,
  payload: Buffer,
  format: number,
  attempts: number,
  claims: number,
  maxAttempts: number,
  key: string | null,
  backoff: string | null,
  createdAt: number,
  lastError: string | null,
  /** ms until the ttl runs out, or null. */
  expiresIn: number | null,
  /** The producer's trace context, or null (untraced). */
  trace: string | null,
];

/**
 * A row a claim or take in `queue` just picked: now `state` (reserved, or still pending for a
 * take, which only ever picks due rows) with the lease `leaseUntil`; the rest is the statement's own.
 */
export function toPickedJob(
  row: PickedRow,
  queue: string,
  state: "reserved" | "pending",
  leaseUntil: number | null,
): StoredJob {
  const [
    id,
    priority,
    runAt,
    payload,
    format,
    attempts,
    claims,
    maxAttempts,
    key,
    backoff,
    createdAt,
    lastError,
    expiresIn,
    trace,
  ] = row;
  const job: StoredJob = {
    id: safeId(id, queue),
    queue,
    state,
    payload,
    format: format as PayloadFormat,
    priority,
    attempts,
    claims,
    maxAttempts,
    key,
    backoff,
    createdAt,
    runAt,
    leaseUntil,
    finishedAt: null,
    lastError,
    result: null,
    resultFormat: null,
    progress: null,
    expiresIn,
  };
  if (trace !== null) job.trace = trace;
  return job;
}

/** A row as a take returns it: TAKEN_COLUMNS of queries.ts in that order. */
export type TakenRow = [id: number, priority: number, runAt: number, payload: Buffer, format: number];

/** What a claim order needs of a row: PickedRow and TakenRow both start so. */
type OrderedRow = [id: number, priority: number, runAt: number, ...rest: unknown[]];

export function toTakenJob(row: TakenRow, queue: string): TakenJob {
  return { id: safeId(row[0], queue), payload: row[3], format: row[4] as PayloadFormat };
}

/** Claim order (priority desc, run time, id): RETURNING gives no order guarantee. */
export function toClaimOrder<R extends OrderedRow, J>(rows: R[], toJob: (row: R) => J): J[] {
  if (rows.length > 1) rows.sort((a, b) => b[1] - a[1] || a[2] - b[2] || a[0] - b[0]);
  return rows.map(toJob);
}

/** A row of spool_queues. */
export interface SettingsRow {
  queue: string;
  retention_completed: number | null;
  retention_dead: number | null;
  paused: number;
  rate_max: number | null;
  rate_duration: number | null;
  concurrency: number | null;
  group_concurrency: number | null;
  grouped: number;
}

export function toSettings(row: SettingsRow): QueueSettings {
  const {
    retention_completed: completed,
    retention_dead: dead,
    rate_max: max,
    rate_duration: duration,
  } = row;
  return {
    retention: completed === null || dead === null ? null : { completed, dead },
    paused: row.paused !== 0,
    limits: {
      rateLimit: max === null || duration === null ? null : { max, duration },
      concurrency: row.concurrency,
      groupConcurrency: row.group_concurrency,
    },
    grouped: row.grouped === 1,
  };
}

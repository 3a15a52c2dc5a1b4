/*
 * Rows as node-postgres returns them → the seam's StoredJob. int8 columns arrive as strings
 * (JS numbers cannot hold every int8); ids and priorities are JS safe integers by contract, so
 * Number() is exact. Times arrive as float8 ms already.
 */
import type { PayloadFormat, QueueSettings, StoredJob } from "../../backend.js";
import type { JobState } from "../../types.js";
import type { Row } from "./pool.js";

export const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toStoredJob(row: Row): StoredJob {
  return {
    id: num(row.id),
    queue: String(row.queue),
    state: row.state as JobState,
    payload: row.payload as Buffer,
    format: num(row.format) as PayloadFormat,
    priority: num(row.priority),
    attempts: num(row.attempts),
    claims: num(row.claims),
    maxAttempts: num(row.max_attempts),
    key: strOrNull(row.key),
    backoff: strOrNull(row.backoff),
    createdAt: num(row.created_at),
    runAt: num(row.run_at),
    leaseUntil: numOrNull(row.lease_until),
    finishedAt: numOrNull(row.finished_at),
    lastError: strOrNull(row.last_error),
    result: (row.result as Buffer | null) ?? null,
    resultFormat: numOrNull(row.result_format) as PayloadFormat | null,
    progress: strOrNull(row.progress),
    group: strOrNull(row.grp),
  };
}

/** Claim order (priority desc, run time, id), on the exact µs run time the row carries. */
export function toClaimOrder(rows: Row[], keepOrder = false): StoredJob[] {
  const keyed = rows.map((row) => {
    const job = toStoredJob(row);
    // A claim also says how long each job's ttl has left (see StoredJob.expiresIn).
    if ("expires_in" in row) job.expiresIn = numOrNull(row.expires_in);
    if (row.trace != null) job.trace = String(row.trace);
    return { job, runAtUs: num(row.run_at_us) };
  });
  if (!keepOrder)
    keyed.sort((a, b) => b.job.priority - a.job.priority || a.runAtUs - b.runAtUs || a.job.id - b.job.id);
  return keyed.map((k) => k.job);
}

/**
 * A limited claim's rows in the order to start them. Rows of groups come in the round-robin's
 * order, which a sort by priority would undo (a tenant's jobs would start back to back); rows
 * with no group (a queue without groups, or only the ungrouped ones of a grouped queue, which
 * the round-robin takes in claim order anyway) are sorted as any claim.
 */
export function toLimitedOrder(rows: Row[]): StoredJob[] {
  return toClaimOrder(
    rows,
    rows.some((row) => row.grp != null),
  );
}

/** Byte arrays as Buffers (node-postgres sends Buffers as bytea without copying twice). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A preview row: the cut columns, and `sizes` telling what they were cut from. */
export function toPreviewJob(row: Row): StoredJob {
  return {
    ...toStoredJob(row),
    sizes: {
      payload: num(row.payload_size),
      result: numOrNull(row.result_size),
      lastError: numOrNull(row.error_size),
    },
  };
}

/** A row of {S}.queues. Durations are float8 (a stated duration may be fractional). */
export function toSettings(row: Row): QueueSettings {
  const { retention_completed: completed, retention_dead: dead } = row;
  return {
    retention: completed === null || dead === null ? null : { completed: num(completed), dead: num(dead) },
    paused: row.paused === true,
    limits: {
      rateLimit:
        row.rate_max == null || row.rate_duration == null
          ? null
          : { max: num(row.rate_max), duration: num(row.rate_duration) },
      concurrency: numOrNull(row.concurrency),
      groupConcurrency: numOrNull(row.group_concurrency),
    },
    grouped: row.grouped === true,
  };
}

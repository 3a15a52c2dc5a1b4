// Lease tokens. A job's `attempts` repeats after `retry()` (attempts restart) and goes down on
// a release, so it cannot tell a stale holder from a later one; the store's claim counter can.
// Every Job that reserve returns carries it as `job.token`, so a copy of the Job (JSON, another
// thread or process) still proves exactly which reservation it holds.
import type { HeldRef, Hold, StoredJob } from "./backend.js";
import { checkInteger, MAX_COUNT } from "./validate.js";

/** What the holder of a Job can prove: its token (when the Job has one) and its attempt. */
export function holdOf(job: { attempts: unknown; token?: unknown }): Hold {
  return {
    attempt: checkInteger(job.attempts, "job.attempts", 1, MAX_COUNT),
    token: job.token === undefined ? null : checkInteger(job.token, "job.token", 1, MAX_COUNT),
  };
}

/** The hold of a claimed row (the worker and reserveBatch keep the row). */
export function rowHold(row: StoredJob): Hold {
  return { attempt: row.attempts, token: row.claims };
}

/** A claimed row as heartbeats and releases name it. */
export function heldRef(row: StoredJob): HeldRef {
  return { id: row.id, token: row.claims };
}

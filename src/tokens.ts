// Lease tokens of the jobs this process reserved. A job's `attempts` repeats after `retry()`
// (attempts restart) and goes down on a release, so it cannot tell a stale holder from a later
// one; the store's claim counter can. The token stays out of the public Job shape: it is kept
// here, by Job object, for the holder that reserved it. A copy of a Job (rebuilt from JSON in
// another process) has no token and is checked by its attempt alone, as before.
import type { HeldRef, Hold, StoredJob } from "./backend.js";
import type { Job } from "./types.js";

const tokens = new WeakMap<object, number>();

/** Records the token of a Job just built from a claimed row. */
export function rememberToken(job: Job<unknown>, row: StoredJob): void {
  tokens.set(job, row.claims);
}

/** What the holder of `job` can prove: its token when this process reserved it, its attempt. */
export function holdOf(job: Job<unknown>, attempt: number): Hold {
  return { attempt, token: tokens.get(job) ?? null };
}

/** The hold of a claimed row (the worker and reserveBatch keep the row). */
export function rowHold(row: StoredJob): Hold {
  return { attempt: row.attempts, token: row.claims };
}

/** A claimed row as heartbeats and releases name it. */
export function heldRef(row: StoredJob): HeldRef {
  return { id: row.id, token: row.claims };
}

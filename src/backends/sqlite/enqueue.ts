// Adding jobs on SQLite: one statement per job where a key may conflict, ROWS_PER_INSERT jobs per
// statement where none can. Runs inside the writer's transaction (see store.ts).
import type { NewJob } from "../../backend.js";
import { expiryDeadline } from "../shared.js";
import { ensureDependencyTriggers, linkDependencies } from "./dependencies.js";
import { type RunResult, sqliteCode } from "./driver.js";
import { addsGrouped } from "./limited-claim.js";
import * as Q from "./queries.js";
import { BACKLOG, BODY_APART_BYTES } from "./read-queries.js";
import { safeId, unsafeIdText, unsafeNextId } from "./rows.js";
import type { Store } from "./store.js";
import { IN_TRANSACTION, type InTransaction } from "./writer.js";

/** Where the statements run: Spool's own store, or the application's connection (addSync). */
type Statements = Pick<Store, "sql" | "pluckSql">;

/**
 * Inserts `jobs` into `queue` (inside the caller's write transaction); returns their ids, in
 * order, or null when `maxSize` leaves no room for all of them. A job whose key a live job
 * holds is not inserted: it gets that job's id, and `inserted` says which were.
 */
export function insertJobs(
  store: Statements,
  queue: string,
  jobs: NewJob[],
  now: number,
  maxSize?: number,
  inserted: boolean[] = [],
): number[] | null {
  // Every path that adds (add, addSync, a schedule's fire, a channel's send) gives the jobs of
  // a grouped queue their group in the insert itself: one without would never be claimed there.
  const grouped = addsGrouped(store, queue, jobs, now);
  return insertRows(store, queue, jobs, now, maxSize, inserted, grouped);
}

/**
 * Whether a lone add of `jobs` may run as one statement with no transaction around it
 * (enqueueAlone): one job with no dependencies, no group (the first grouped add marks its
 * queue), a payload kept in the row, and no maxSize (a count, then the insert).
 */
export function addsAlone(jobs: readonly NewJob[], maxSize: number | undefined): boolean {
  if (jobs.length !== 1 || maxSize !== undefined) return false;
  const job = jobs[0] as NewJob;
  return job.dependsOn == null && job.group == null && !apart(job);
}

/**
 * Inserts the one job addsAlone accepted with the single statement ENQUEUE_ALONE, outside any
 * transaction: SQLite commits it by itself, which spares the BEGIN and COMMIT statements and
 * the grouped-queue read of insertJobs. A key another job holds inserts nothing: the add then
 * runs in a transaction after all (IN_TRANSACTION), where insertJobs settles a dead holder or
 * answers the live one's id.
 */
export function enqueueAlone(
  store: Statements,
  queue: string,
  job: NewJob,
  now: number,
  inserted: boolean[],
): number[] | InTransaction {
  const runAt = job.runAt ?? now + job.delayMs;
  let result: RunResult;
  try {
    result = store
      .sql(Q.ENQUEUE_ALONE)
      .run(
        queue,
        job.priority,
        runAt,
        job.payload,
        job.format,
        job.maxAttempts,
        job.key,
        job.backoff,
        now,
        expiryDeadline(runAt, job.ttlMs),
        job.trace ?? null,
        queue,
      );
  } catch (error) {
    // No safe id left (see ENQUEUE_ALONE): insertRows says so, in a transaction.
    if (sqliteCode(error) === "SQLITE_CONSTRAINT_NOTNULL") return IN_TRANSACTION;
    throw error;
  }
  const { changes, lastInsertRowid } = result;
  // Nothing inserted: a key another job holds.
  if (changes === 0) return IN_TRANSACTION;
  inserted[0] = true;
  return [Number(lastInsertRowid)];
}

const EMPTY = Buffer.alloc(0);

/** Whether a job's payload is kept apart from its row (BODY_APART_BYTES, read-queries.ts). */
function apart(job: NewJob): boolean {
  return job.payload.byteLength >= BODY_APART_BYTES;
}

/**
 * Creates, if it is not there yet, the trigger that deletes a kept-apart payload with its job:
 * made by a store's first large add, inside its transaction, so a store that never held one
 * pays nothing for it on every delete.
 */
function ensureBodyTrigger(store: Statements): void {
  if (store.pluckSql(Q.HAS_BODY_TRIGGER).get() !== 1) store.sql(Q.BODY_TRIGGER).run();
}

/** A job's grp column: its group, '' for an ungrouped job of a grouped queue, else NULL. */
function grpOf(job: NewJob, grouped: boolean): string | null {
  return grouped ? (job.group ?? "") : null;
}

function insertRows(
  store: Statements,
  queue: string,
  jobs: NewJob[],
  now: number,
  maxSize: number | undefined,
  inserted: boolean[],
  grouped: boolean,
): number[] | null {
  if (maxSize !== undefined) {
    const { n } = store.sql(BACKLOG).get({ queue }) as { n: number };
    if (n + jobs.length > maxSize) return null;
  }
  // Checked once, before the first insert: the transaction holds the write lock, so the ids the
  // inserts get follow the max read here (and stay consecutive: insertUnkeyed counts on it).
  if (store.pluckSql(Q.HAS_IDS_LEFT).get({ n: jobs.length }) !== 1) throw unsafeNextId(queue);
  const unkeyed = jobs.length >= Q.ROWS_PER_INSERT ? insertUnkeyed(store, queue, jobs, now, grouped) : null;
  if (unkeyed !== null) {
    for (let i = 0; i < jobs.length; i++) inserted[i] = true;
    return unkeyed;
  }
  const insert = store.sql(Q.ENQUEUE);
  const add = (job: NewJob, runAt: number, kept: boolean) =>
    insert.run(
      queue,
      job.priority,
      runAt,
      kept ? EMPTY : job.payload,
      kept ? 1 : null,
      job.format,
      job.maxAttempts,
      job.key,
      job.backoff,
      now,
      expiryDeadline(runAt, job.ttlMs),
      job.trace ?? null,
      grpOf(job, grouped),
    );
  // The ids this batch gave its keys, and the keys whose holder was already settled.
  const mine = new Map<string, number>();
  const settled = new Set<string>();
  // Created before this call's first link, not before its first insert: a keyed add that an
  // older job stands for links nothing and must leave the store without triggers.
  let triggers = false;
  let bodyTrigger = false; // checked once per call, like the dependency triggers
  return jobs.map((job, i) => {
    const runAt = job.runAt ?? now + job.delayMs;
    const kept = apart(job);
    let { changes, lastInsertRowid } = add(job, runAt, kept);
    const key = job.key;
    if (changes === 0 && key !== null && !mine.has(key) && !settled.has(key)) {
      // The key is held by a job from before this batch. If that job is dead in truth (past
      // its ttl, or its last lease lapsed) it may not swallow this add: settle it, try again.
      // Only on a conflict: an add whose key is free pays nothing for this.
      settled.add(key);
      store.sql(Q.RESCUE_KEYED_LEASES).run({ queue, key, now });
      store.sql(Q.RESCUE_KEYED_EXPIRED).run({ queue, key, now });
      store.sql(Q.RESCUE_KEYED_UNSAFE).run({ queue, key, now, error: unsafeIdText(queue) });
      ({ changes, lastInsertRowid } = add(job, runAt, kept));
    }
    inserted[i] = changes > 0;
    if (changes > 0) {
      const id = Number(lastInsertRowid);
      if (kept) {
        // Kept apart under the id of its job just inserted, in the same transaction.
        if (!bodyTrigger) ensureBodyTrigger(store);
        bodyTrigger = true;
        store.sql(Q.INSERT_BODY).run(id, job.payload);
      }
      if (key !== null) mine.set(key, id);
      if (job.dependsOn != null) {
        if (!triggers) ensureDependencyTriggers(store);
        triggers = true;
        linkDependencies(store, id, job.dependsOn, now);
      }
      return id;
    }
    // A live job with the same key stands for this one: this batch's own, or an older one.
    return (
      mine.get(key as string) ??
      safeId((store.sql(Q.FIND_KEYED).get({ queue, key }) as { id: number }).id, queue)
    );
  });
}

/**
 * A batch with no keys, ROWS_PER_INSERT jobs per statement (the rest one by one); null when a
 * job has a key (a key may conflict: those go one by one through insertJobs) or dependencies.
 */
function insertUnkeyed(
  store: Statements,
  queue: string,
  jobs: NewJob[],
  now: number,
  grouped: boolean,
): number[] | null {
  // A large payload goes one by one too: its row and its body are two inserts.
  for (const job of jobs) if (job.key !== null || job.dependsOn != null || apart(job)) return null;
  const ids = new Array<number>(jobs.length);
  const binds = new Array<unknown>(Q.ROWS_PER_INSERT * Q.ENQUEUE_BINDS);
  const bind = (job: NewJob, at: number, into: unknown[]) => {
    const runAt = job.runAt ?? now + job.delayMs;
    into[at] = queue;
    into[at + 1] = job.priority;
    into[at + 2] = runAt;
    into[at + 3] = job.payload;
    into[at + 4] = null;
    into[at + 5] = job.format;
    into[at + 6] = job.maxAttempts;
    into[at + 7] = null;
    into[at + 8] = job.backoff;
    into[at + 9] = now;
    into[at + 10] = expiryDeadline(runAt, job.ttlMs);
    into[at + 11] = job.trace ?? null;
    into[at + 12] = grpOf(job, grouped);
  };
  const many = store.sql(Q.ENQUEUE_ROWS);
  let i = 0;
  for (; i + Q.ROWS_PER_INSERT <= jobs.length; i += Q.ROWS_PER_INSERT) {
    for (let k = 0; k < Q.ROWS_PER_INSERT; k++) bind(jobs[i + k] as NewJob, k * Q.ENQUEUE_BINDS, binds);
    const last = Number(many.run(binds).lastInsertRowid);
    for (let k = 0; k < Q.ROWS_PER_INSERT; k++) ids[i + k] = last - Q.ROWS_PER_INSERT + 1 + k;
  }
  const one = store.sql(Q.ENQUEUE);
  const row = new Array<unknown>(Q.ENQUEUE_BINDS);
  for (; i < jobs.length; i++) {
    bind(jobs[i] as NewJob, 0, row);
    ids[i] = Number(one.run(row).lastInsertRowid);
  }
  return ids;
}

// The SQLite statements that change jobs, by name: the same names as the PostgreSQL backend's
// queries.ts for the same transitions (the statements that only read are in read-queries.ts).
// Parameters are bound, never spliced: queue names and payloads never reach SQL as text.
// `:now` is the backend clock in ms.
//
// Where PostgreSQL runs one statement and SQLite two or more (RESCUE, RESCUE_KEYED, FAIL,
// RETRY, CLEAR), the reason is the engine's: SQLite has no UPDATE or DELETE inside WITH, and
// its statements cost no round trip, so plain ones beside each other in one transaction serve.
import { expiredSet, lapsedSet } from "../shared.js";
import { IN_DONE_INDEX, IN_KEY_INDEX, LIMITED, MAX_JOB_ID, PAYLOAD, PAYLOAD_LENGTH } from "./read-queries.js";

const ENQUEUE_COLUMNS =
  "queue, state, priority, run_at, body, body_apart, format, max_attempts, key, backoff, created_at, expires_at, trace, grp";
const ENQUEUE_ROW = "(?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/** The values each ENQUEUE row binds, in order. */
export const ENQUEUE_BINDS = 13;

/** A payload of BODY_APART_BYTES or more, kept apart from its job's row (read-queries.ts). */
export const INSERT_BODY = "INSERT INTO spool_bodies (id, body) VALUES (?, ?)";

/**
 * Deletes a kept-apart payload with its job, whatever statement deletes the job (a completion, a
 * take, a removal, retention, a clear). Created by the first add that keeps one apart, in its
 * transaction, as the dependency triggers are: a trigger's test runs for every deleted row, and
 * a store that never held a large payload pays nothing for it.
 */
export const BODY_TRIGGER = `
  CREATE TRIGGER spool_bodies_follow AFTER DELETE ON spool_jobs WHEN old.body_apart IS NOT NULL
  BEGIN DELETE FROM spool_bodies WHERE id = old.id; END`;
export const HAS_BODY_TRIGGER =
  "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'spool_bodies_follow'";

/** Positional: binding by position is measurably cheaper than by name on the hottest path. */
export const ENQUEUE = `
  INSERT INTO spool_jobs (${ENQUEUE_COLUMNS}) VALUES ${ENQUEUE_ROW}
  ON CONFLICT DO NOTHING`;

/**
 * Whether `n` more jobs get ids the contract allows, 1 … MAX_JOB_ID (see UnsafeIdError in
 * rows.ts): SQLite gives max(id) + 1 onwards (0 and below if another writer left only such ids),
 * or random ids once a row sits at 2^63 − 1. One seek, from the end; compared in SQL, as
 * node:sqlite refuses to read such an id at all.
 */
const IDS_LEFT = (n: string) =>
  `coalesce((SELECT max(id) FROM spool_jobs), 0) BETWEEN 0 AND ${MAX_JOB_ID} - ${n}`;

/** A job id outside 1 … MAX_JOB_ID: only another writer puts one there. */
const UNSAFE_ID = `(id > ${MAX_JOB_ID} OR id < 1)`;

/** IDS_LEFT for a transaction's adds, checked before its first insert. */
export const HAS_IDS_LEFT = `SELECT ${IDS_LEFT(":n")} AS ok`;

/**
 * ENQUEUE for one job with no dependency, group or kept-apart payload, run on its own with no
 * transaction around it (see enqueueAlone in enqueue.ts). The queue's grouped flag is read in
 * the statement itself, so a queue made grouped by another process gets its '' group as surely
 * as inside a transaction. The queue is bound twice: `?` only, which every driver binds by
 * position. With no safe id left the state is NULL, which its NOT NULL refuses before anything
 * is written (a WHERE would need INSERT … SELECT, which copies the row through a temporary table
 * as it reads spool_jobs: 14% more instructions an add).
 */
export const ENQUEUE_ALONE = `
  INSERT INTO spool_jobs (queue, state, priority, run_at, body, format, max_attempts, key, backoff,
                          created_at, expires_at, trace, grp)
  VALUES (?, CASE WHEN ${IDS_LEFT("1")} THEN 'pending' END, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
          CASE WHEN (SELECT grouped FROM spool_queues WHERE queue = ?) = 1 THEN '' END)
  ON CONFLICT DO NOTHING`;

/**
 * How many keyless jobs one ENQUEUE_ROWS statement inserts. A statement per row costs a step
 * and a reset each; 50 rows per statement measured 2.2 µs a job against 4–6 µs one by one
 * (100 gained little more).
 */
export const ROWS_PER_INSERT = 50;

/**
 * ENQUEUE for ROWS_PER_INSERT jobs with no key: no unique index applies to them, so no row can
 * conflict, and SQLite gives each row in turn the table's highest rowid plus one: the ids are
 * consecutive, ending at the statement's last insert rowid.
 */
export const ENQUEUE_ROWS = `
  INSERT INTO spool_jobs (${ENQUEUE_COLUMNS}) VALUES ${Array(ROWS_PER_INSERT).fill(ENQUEUE_ROW).join(", ")}`;

/** The live job holding a key (for an add whose key conflicted on insert). */
export const FIND_KEYED = `
  SELECT id FROM spool_jobs WHERE queue = :queue AND key = :key AND ${IN_KEY_INDEX}`;

/*
 * Job ids are never reused, so a stale holder or a remembered id can never meet a newer job.
 * SQLite gives a new row max(id) + 1, so reuse could only follow deleting the row with the
 * highest id; when a delete does that, a placeholder row (queue '', which no queue name can
 * be) takes that id. One extra read per delete instead of AUTOINCREMENT's extra page write on
 * every insert.
 */
// The highest id Spool could have handed out: a row past 2^53 − 1 is another writer's (see
// UnsafeIdError in rows.ts), and node:sqlite refuses to read one. One seek, from the end.
export const MAX_ID = `SELECT max(id) AS id FROM spool_jobs WHERE id <= ${MAX_JOB_ID}`;

export const PLACEHOLDER = `
  INSERT INTO spool_jobs (id, queue, state, run_at, body, format, max_attempts, created_at)
  VALUES (:id, '', 'dead', 0, X'', 0, 0, 0)`;

export const DROP_PLACEHOLDERS =
  "DELETE FROM spool_jobs WHERE queue = '' AND state <> 'pending' AND id < :id";

/** RESCUE, first half: lapsed leases of a queue settled (the done index finds reserved rows). */
export const RESCUE_LEASES = `
  UPDATE spool_jobs SET ${lapsedSet(":now")}
   WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = 'reserved' AND lease_until < :now`;

/**
 * RESCUE, second half: never-started jobs past their ttl become dead with "expired", found
 * through spool_jobs_expiry (`expires_at IS NOT NULL` is that index's condition).
 */
export const RESCUE_EXPIRED = `
  UPDATE spool_jobs SET ${expiredSet(":now")}
   WHERE queue = :queue AND state = 'pending' AND expires_at IS NOT NULL AND expires_at <= :now`;

/** Before an add with a key: a lapsed lease on the job holding it is settled first. */
export const RESCUE_KEYED_LEASES = `
  UPDATE spool_jobs SET ${lapsedSet(":now")}
   WHERE queue = :queue AND key = :key AND ${IN_KEY_INDEX} AND state = 'reserved' AND lease_until < :now`;

/**
 * Before an add with a key: a job with an id outside 1 … 2^53 − 1 (see QUARANTINE_UNSAFE_IDS)
 * is made dead, so it holds no key: no add answers an id that names no job, or another one.
 */
export const RESCUE_KEYED_UNSAFE = `
  UPDATE spool_jobs SET state = 'dead', finished_at = :now, last_error = :error, lease_until = NULL,
                        expires_at = NULL
   WHERE queue = :queue AND key = :key AND ${IN_KEY_INDEX} AND ${UNSAFE_ID}`;

/** Before an add with a key: a job past its ttl can no longer run, so it holds no key. */
export const RESCUE_KEYED_EXPIRED = `
  UPDATE spool_jobs SET ${expiredSet(":now")}
   WHERE queue = :queue AND key = :key AND ${IN_KEY_INDEX} AND state = 'pending' AND expires_at <= :now`;

/**
 * The claim order, driven by spool_jobs_ready in its own order, shared by claim and take so
 * both serve jobs alike. A job past its ttl is never served, even before the rescue has made it
 * dead: the deadline check reads the row the claim reads anyway. The index leads with the
 * group: a plain queue's jobs are all grp NULL, so its order is the claim order. A grouped
 * queue is claimed round-robin (limited-claim.ts); a take on one (a channel sharing its name)
 * serves the groups in name order, each in claim order: the order an index gives, as a global
 * claim order over groups would need a sort of every pending job.
 */
export const READY = `SELECT id FROM spool_jobs
                 WHERE queue = :queue AND state = 'pending' AND run_at <= :now
                   AND (expires_at IS NULL OR expires_at > :now)
                 ORDER BY grp, priority DESC, run_at, id`;

/**
 * A claim's LIMIT: `limit` jobs, or none while the queue is paused, or limited (a rate limit, a
 * concurrency, groups: the backend then runs the limited claim, limited-claim.ts). The row is
 * read by primary key, once per statement, before any job is: as a LIMIT of 0, not a WHERE
 * term, since SQLite would test such a term on every ready row and so read the whole queue
 * to find that none qualifies. A channel's take ignores it: pause is a worker's control.
 */
const UNLESS_HELD = (limit: string) => `
  LIMIT CASE WHEN EXISTS (SELECT 1 FROM spool_queues WHERE queue = :queue AND (paused OR ${LIMITED}))
             THEN 0 ELSE ${limit} END`;

/**
 * What a claim or a take returns: the columns a pending row can differ in. The others are known
 * without reading them (see toPickedJob): the queue is the statement's, the state and the lease
 * are what the statement made them (or found: a pending row holds no lease), and a pending row
 * has no finish time and no result (only a completion sets them, and a completed job never
 * becomes pending again). Each returned column costs a JS value per row: on the drain's hottest
 * statement the seven skipped ones measured about a fifth of its time. Read by position
 * (PickedRow in rows.ts): the order here is that type's.
 */
export const PICKED_COLUMNS = `id, priority, run_at, ${PAYLOAD}, format, attempts, claims, max_attempts, key, backoff,
  created_at, last_error, expires_at - :now, trace`;

/**
 * The claim: one statement, driven by spool_jobs_ready in its own order. Rows come back
 * unordered: the caller sorts them. The ttl deadline stays (see shared.ts).
 */
export const CLAIM = `
  UPDATE spool_jobs
     SET state = 'reserved', attempts = attempts + 1, claims = claims + 1, lease_until = :lease_until
   WHERE id IN (${READY} ${UNLESS_HELD(":limit")})
  RETURNING ${PICKED_COLUMNS}`;

/**
 * The payload sizes of the jobs CLAIM would take, in its order, for a claim with a byte bound
 * (Backend.claim): `length()` of a blob reads its size from the row's header, never the bytes.
 */
export const READY_LENGTHS = `${READY.replace("SELECT id", `SELECT ${PAYLOAD_LENGTH}`)} ${UNLESS_HELD(":limit")}`;

/** The same for one job: `id = (…)` plans measurably cheaper than `id IN (…)` on SQLite. */
export const CLAIM_ONE = `
  UPDATE spool_jobs
     SET state = 'reserved', attempts = attempts + 1, claims = claims + 1, lease_until = :lease_until
   WHERE id = (${READY} ${UNLESS_HELD("1")})
  RETURNING ${PICKED_COLUMNS}`;

/**
 * What a take returns: the claim order's keys (TakenRow in rows.ts), then what a decoder reads.
 * Five columns where a claim needs thirteen: on a batch receive the eight others measured about
 * a third of the statement's time.
 */
const TAKEN_COLUMNS = `id, priority, run_at, ${PAYLOAD}, format`;

/**
 * Channel receive of several: TAKE_READ reads the ready jobs in claim order, then TAKE removes
 * exactly those, by their ids (a JSON array: one bound value whatever the count), still pending
 * in that queue. Two statements measured about a sixth faster than one DELETE … RETURNING on a
 * receive of 100 (RETURNING keeps every row it returns in a table of its own before the first
 * one comes back), and removing by id about 6% fewer instructions a row again than a second
 * walk of spool_jobs_ready. An id a JS number cannot hold exactly would name a neighbour: the
 * take stops before removing anything (UnsafeIdError, rows.ts).
 */
export const TAKE_READ = `${READY.replace("SELECT id", `SELECT ${TAKEN_COLUMNS}`)} LIMIT :limit`;

// The unary + keeps the queue and state terms off spool_jobs_ready: with them SQLite walked the
// queue's ready rows for the ids instead of looking each one up (a third slower than before).
export const TAKE = `DELETE FROM spool_jobs WHERE id IN (SELECT value FROM json_each(:ids))
                        AND +queue = :queue AND +state = 'pending'`;

export const TAKE_ONE = `DELETE FROM spool_jobs WHERE id = (${READY} LIMIT 1) RETURNING ${TAKEN_COLUMNS}`;

/**
 * A taken item that could not be decoded, put back by its take's savepoint: dead, key kept. Put
 * back as it was before the take, which may be reserved with a lapsed lease (the rescue that
 * made it pending was undone too): so by id and queue, whatever its state.
 */
export const BURY_UNDECODABLE = `
  UPDATE spool_jobs SET state = 'dead', finished_at = :now, last_error = :error, lease_until = NULL,
                        expires_at = NULL
   WHERE id = :id AND queue = :queue`;

/**
 * Every live job of a queue whose id the contract does not allow (outside 1 … 2^53 − 1: see
 * UnsafeIdError in rows.ts), made dead with the reason: by the ids SQLite holds, so nothing else
 * is named. Two rowid ranges at the table's ends: a seek each, whatever the queue's depth.
 */
export const QUARANTINE_UNSAFE_IDS = `
  UPDATE spool_jobs SET state = 'dead', finished_at = :now, last_error = :error, lease_until = NULL,
                        expires_at = NULL
   WHERE ${UNSAFE_ID} AND queue = :queue AND state IN ('pending', 'reserved', 'waiting')`;

/** A held job: the holder's token (claims) when it knows it, else its attempt, else anyone. */
const HELD = `queue = :queue AND id = :id AND state = 'reserved' AND (:token IS NULL OR claims = :token)
              AND (:attempt IS NULL OR attempts = :attempt) AND lease_until >= :now`;

/**
 * HELD bound by position, for the completion: a worker's one statement per job, where binding
 * by position measured about 1 µs (a quarter of the statement) cheaper than by name. Binds, in
 * order: queue, id, token, token, attempt, attempt, now.
 */
const HELD_AT = `queue = ? AND id = ? AND state = 'reserved' AND (? IS NULL OR claims = ?)
                 AND (? IS NULL OR attempts = ?) AND lease_until >= ?`;

/**
 * Binds now, result, result_format, then HELD_AT's. Returns whether the job has dependents: its
 * completion may have released jobs of other queues (dependencies-schema.ts).
 */
export const COMPLETE = `
  UPDATE spool_jobs SET state = 'completed', finished_at = ?, lease_until = NULL, result = ?, result_format = ?
   WHERE ${HELD_AT}
  RETURNING dependents`;

/**
 * COMPLETE for a completion committed by itself (completeAlone in completions.ts): binds the
 * same values. It leaves a job others depend on alone, for COMPLETE inside a transaction: that
 * completion releases them and reads where, and a failure there must undo it.
 */
export const COMPLETE_ALONE = `
  UPDATE spool_jobs SET state = 'completed', finished_at = ?, lease_until = NULL, result = ?, result_format = ?
   WHERE ${HELD_AT} AND dependents IS NULL`;

/**
 * Binds HELD_AT's. A job others depend on is not deleted here: it is completed (its trigger
 * releases them) and then deleted by DELETE_COMPLETED, since a delete cannot tell a completion
 * from a removal.
 */
export const COMPLETE_DELETE = `DELETE FROM spool_jobs WHERE ${HELD_AT} AND dependents IS NULL`;

export const DELETE_COMPLETED = "DELETE FROM spool_jobs WHERE id = ? AND state = 'completed'";

/** FAIL, retried: pending again after :retry_in ms; a failed attempt means the job started. */
export const FAIL_RETRY = `
  UPDATE spool_jobs SET state = 'pending', run_at = :now + :retry_in, lease_until = NULL, last_error = :error,
                        expires_at = NULL
   WHERE ${HELD}`;

/** FAIL, for good. */
export const FAIL_DEAD = `
  UPDATE spool_jobs SET state = 'dead', finished_at = :now, lease_until = NULL, last_error = :error
   WHERE ${HELD}`;

export const EXTEND = `UPDATE spool_jobs SET lease_until = :lease_until WHERE ${HELD}`;

export const PROGRESS = `UPDATE spool_jobs SET progress = :progress WHERE ${HELD}`;

/** After a held transition changed nothing: tells a lost lease from a missing job. */
export const EXISTS = `SELECT 1 AS found FROM spool_jobs WHERE queue = :queue AND id = :id`;

/**
 * Hands a job back without counting the interrupted attempt (claims, the token, stays). A job
 * that started has met its ttl; one handed back unstarted keeps it.
 */
export const RELEASE = `
  UPDATE spool_jobs SET state = 'pending', attempts = attempts - 1, lease_until = NULL,
                        expires_at = CASE WHEN :started THEN NULL ELSE expires_at END
   WHERE queue = :queue AND id = :id AND state = 'reserved' AND claims = :token`;

/**
 * A retried job waits again while any of its dependencies is not completed (one may be dead
 * too: the job then waits for that one's retry), else it is pending.
 */
const RETRIED_STATE = "iif(deps_left > 0, 'waiting', 'pending')";

/**
 * A dead job one of whose unfinished dependencies is gone (removed, purged, pruned) stays dead:
 * nothing could ever release it. (Queue '' is the id placeholder, not a job.)
 */
const RETRIABLE = `(deps_left IS NULL OR deps_left = 0 OR NOT EXISTS (
     SELECT 1 FROM spool_deps AS d WHERE d.job = spool_jobs.id AND d.done = 0
        AND NOT EXISTS (SELECT 1 FROM spool_jobs AS x WHERE x.id = d.dep AND x.queue <> '')))`;

/**
 * RETRY of every dead job; OR IGNORE leaves dead one whose key is live again. Not one with an id
 * outside 1 … MAX_JOB_ID (made dead for that, see QUARANTINE_UNSAFE_IDS): no id names it, and
 * back it would fail a claim again. The unary + keeps that bound off the planner's index choice.
 */
export const RETRY_ALL = `
  UPDATE OR IGNORE spool_jobs SET state = ${RETRIED_STATE}, attempts = 0, run_at = :now, finished_at = NULL, expires_at = NULL
   WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = 'dead' AND ${RETRIABLE}
     AND +id BETWEEN 1 AND ${MAX_JOB_ID}`;

export const RETRY_ONE = `
  UPDATE OR IGNORE spool_jobs SET state = ${RETRIED_STATE}, attempts = 0, run_at = :now, finished_at = NULL, expires_at = NULL
   WHERE queue = :queue AND id = :id AND state = 'dead' AND ${RETRIABLE}`;

export const REMOVE = `DELETE FROM spool_jobs WHERE queue = :queue AND id = :id`;

export const PURGE = `
  DELETE FROM spool_jobs WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = :state AND finished_at <= :before`;

export const CLEAR_ALL = `DELETE FROM spool_jobs WHERE queue = :queue`;

export const CLEAR_LIVE = `DELETE FROM spool_jobs WHERE queue = :queue AND state <> 'dead'`;

/** Upserts the retention only: the row's other settings stay as they are. */
export const STORE_RETENTION = `
  INSERT INTO spool_queues (queue, retention_completed, retention_dead, updated_at)
  VALUES (:queue, :completed, :dead, :now)
  ON CONFLICT (queue) DO UPDATE SET retention_completed = excluded.retention_completed,
                                    retention_dead = excluded.retention_dead,
                                    updated_at = excluded.updated_at`;

/** Upserts the pause only: the row's other settings stay as they are. */
export const STORE_PAUSED = `
  INSERT INTO spool_queues (queue, paused, updated_at) VALUES (:queue, :paused, :now)
  ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`;

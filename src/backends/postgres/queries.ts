/*
 * The PostgreSQL statements that change jobs, by name: the same names as the SQLite backend's
 * queries.ts for the same transitions (the statements that only read are in read-queries.ts).
 * `{S}` is the quoted schema, substituted once on open by `bindQueries`. Queue names
 * and all other values are bound parameters. Every time is taken from the database's clock
 * (now(): the transaction's start), never the process's, so hosts with drifting clocks agree.
 * Statements that make work available end with pg_notify in the same statement, so the signal
 * goes out exactly when (and only if) the change commits.
 *
 * Where SQLite runs two statements or more and PostgreSQL one (RESCUE, RESCUE_KEYED, FAIL,
 * RETRY, CLEAR), the reason is the round trip: here every statement costs one, and WITH can
 * hold an UPDATE or DELETE, so one statement does it all.
 */
import { expiredSet, lapsedSet } from "../shared.js";
import { DEPENDENCY_QUERIES } from "./dependency-queries.js";
import * as LIMITED from "./limited-queries.js";
import * as R from "./read-queries.js";
import * as SETTINGS from "./settings-queries.js";
import { after, ago, fromMs, runAtAfter, toWholeMs } from "./time-sql.js";

const { JOB } = R;

/**
 * The claim order, shared by claim and take so both serve jobs alike, in jobs_groups' order. Jobs
 * past their ttl are never served, even before the rescue (throttled) has made them dead. A plain
 * queue's jobs are all grp NULL, so its order is the claim order; a grouped queue is claimed
 * round-robin (limited-claim.ts), and a take on one (a channel sharing its name) serves its
 * groups in name order, each in claim order: the order an index gives.
 */
const READY = `SELECT id FROM {S}.jobs
  WHERE queue = $1 AND state = 'pending' AND run_at <= now() AND (expires_at IS NULL OR expires_at > now())
  ORDER BY grp, priority DESC, run_at, id`;

/**
 * A batch's rows, for ENQUEUE and ENQUEUE_PLAIN: one per job from the parallel arrays of
 * enqueueValues (enqueue.ts), with its payload sliced from $3, all the payloads as one bytea
 * ($14 starts, $15 lengths), and its run_at.
 */
const BATCH_ROWS = `SELECT substring($3::bytea FROM u.start::integer FOR u.len) AS payload, u.*,
         CASE WHEN run_at_ms IS NULL THEN ${runAtAfter("delay_ms")} ELSE ${fromMs("run_at_ms")} END AS run_at
  FROM unnest($14::bigint[], $15::integer[], $4::smallint[], $5::bigint[], $6::integer[], $7::text[], $8::text[],
              $9::float8[], $10::float8[], $11::float8[], $12::text[], $13::text[])
       WITH ORDINALITY AS u(start, len, format, priority, max_attempts, key, backoff, delay_ms, run_at_ms, ttl_ms, trace, grp, ord)`;

/**
 * Inserts a batch from parallel arrays. Ids are drawn first, in input order, so each input row
 * knows its id whether or not it was inserted; a row whose key is live already conflicts and is
 * skipped (so is a later row repeating a key of this batch). $1 queue, $2 channel, $3 the payloads.
 */
export const ENQUEUE = `
WITH input AS MATERIALIZED (
  SELECT nextval(pg_get_serial_sequence('{S}.jobs', 'id')) AS id, batch.*
  FROM (${BATCH_ROWS}) AS batch
),
ins AS (
  INSERT INTO {S}.jobs (id, queue, state, payload, format, priority, max_attempts, key, backoff, run_at, expires_at, trace, grp)
  SELECT id, $1, 'pending', payload, format, priority, max_attempts, key, backoff, run_at,
         run_at + ttl_ms * interval '1 millisecond', -- expiryDeadline (shared.ts), on the database's clock
         trace, grp
  FROM input ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id
),
woke AS (SELECT pg_notify($2, $1) FROM (SELECT 1 FROM ins LIMIT 1) AS any_row)
SELECT input.id::float8 AS id, input.key, (ins.id IS NOT NULL) AS inserted
FROM input LEFT JOIN ins ON ins.id = input.id, (SELECT count(*) FROM woke) AS sent
ORDER BY input.ord`;

/**
 * ENQUEUE for a batch with no keys, the common case: no row can conflict (ids come from the
 * sequence, and the only other unique index holds keyed rows), so a plain INSERT does, without
 * ON CONFLICT's speculative insertion (a WAL record more per row) or the join back to the
 * input. Rows go in in input order, so each gets its id from the sequence in that order: the
 * ids sorted ascending are the input's. $1 queue, $2 channel; $3… as in ENQUEUE ($7 keys unused).
 */
export const ENQUEUE_PLAIN = `
WITH ins AS (
  INSERT INTO {S}.jobs (queue, state, payload, format, priority, max_attempts, backoff, run_at, expires_at, trace, grp)
  SELECT $1, 'pending', payload, format, priority, max_attempts, backoff, run_at,
         run_at + ttl_ms * interval '1 millisecond', -- expiryDeadline (shared.ts), on the database's clock
         trace, grp
  FROM (${BATCH_ROWS}) AS batch
  ORDER BY ord
  RETURNING id
),
woke AS (SELECT pg_notify($2, $1) FROM (SELECT 1 FROM ins LIMIT 1) AS any_row)
SELECT ins.id::float8 AS id FROM ins, (SELECT count(*) FROM woke) AS sent ORDER BY ins.id`;

/**
 * The advisory lock a waiting renewal (waiting-renewals.ts) holds, shared, from before its
 * statement until it ends: the job's lease is being kept. Once the row's holder lets it go, the
 * waiting session must be scheduled again to lock it, and a statement that comes first finds the
 * row free and the lease run out (a heartbeat called it lost, a completion failed, a rescue took
 * the job: each ran it again). So a lease that ran out counts as live while such a lock is held,
 * and a rescue leaves that job alone.
 *
 * Its key is a 64-bit hash of the job id seeded by the jobs table: jobs of one id in two schemas
 * are two keys (keyed by the id alone, a renewal in one schema kept a rescue off the other's), and
 * ids 2^32 apart are too (keyed by the table and the id's low 32 bits, a renewal waiting for ever
 * kept the other job from its rescue for ever). Tried, not waited for: an application's own lock
 * on the same key (a chance of 2^-64) must not hold the renewal up, which then just goes without.
 */
const renewalKey = (id: string) => `hashint8extended(${id}, '{S}.jobs'::regclass::oid::bigint)`;
/** $1 job id: taken by a waiting renewal before it waits, held until its transaction ends. */
const RENEWAL_LOCK = `SELECT pg_try_advisory_xact_lock_shared(${renewalKey("$1::bigint")})`;
/**
 * The renewal keys held, read from pg_locks rather than tried: a try takes the lock until the
 * transaction ends, and a rescue of 20,000 lapsed jobs took 20,000 (past max_locks_per_transaction:
 * out of shared memory, every claim failed). Read at most once a statement, and only when some
 * lease has run out (a CTE runs when first needed: `renewalOut` asks it only then).
 */
const RENEWING = `renewing AS MATERIALIZED (
  SELECT (classid::bigint << 32) | objid::bigint AS key FROM pg_locks
  WHERE locktype = 'advisory' AND objsubid = 1 AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)`;
const renewalOut = (a: string) => `${renewalKey(`${a}id`)} IN (SELECT key FROM renewing)`;
/** Whether row `a`'s lease is live for its holder's transition (RENEWING in the statement). */
const leaseLive = (a: string) => `CASE WHEN ${a}lease_until >= now() THEN true ELSE ${renewalOut(a)} END`;
/** Whether row `a`'s lease has lapsed, for a rescue: run out, and no waiting renewal keeping it. */
const leaseLapsed = (a: string) =>
  `${a}lease_until < now() AND CASE WHEN ${a}lease_until < now() THEN NOT ${renewalOut(a)} ELSE false END`;

/**
 * Before an add with keys ($2): a job past its ttl can no longer run, so it holds no key; a
 * lapsed lease on a job holding one is settled first (dead once its attempts are spent).
 */
export const RESCUE_KEYED = `
WITH ${RENEWING},
lapsed AS (
  UPDATE {S}.jobs SET ${lapsedSet("now()")}
  WHERE queue = $1 AND key = ANY($2::text[]) AND state = 'reserved' AND ${leaseLapsed("")}
  RETURNING id
)
UPDATE {S}.jobs SET ${expiredSet("now()")}
WHERE queue = $1 AND key = ANY($2::text[]) AND state = 'pending' AND expires_at <= now()
  AND id NOT IN (SELECT id FROM lapsed)`;

/** The live job holding each key (for keys that conflicted on insert). */
export const FIND_KEYED = `
SELECT key, id::float8 AS id FROM {S}.jobs
WHERE queue = $1 AND key = ANY($2::text[]) AND state IN ('pending', 'reserved', 'waiting')`;

/** Serialises bounded enqueues of one queue (channel send), until the transaction ends. */
export const LOCK_QUEUE = "SELECT pg_advisory_xact_lock(hashtext('spool.queue'), hashtext($1 || '/' || $2))";

/**
 * The rescue (shared.ts), run by claims: lapsed leases go back to pending (dead with "lease
 * expired" once attempts are spent), and never-started jobs past their ttl die with "expired".
 * Rows another transaction has locked are skipped, never waited for: it is handling them. A job
 * handed back to pending is work for any worker, so it notifies on $2 like an add does.
 */
export const RESCUE = `
WITH ${RENEWING},
lapsed AS (
  UPDATE {S}.jobs SET ${lapsedSet("now()")}
  WHERE id IN (SELECT id FROM {S}.jobs WHERE queue = $1 AND state = 'reserved' AND ${leaseLapsed("")}
               FOR UPDATE SKIP LOCKED)
  RETURNING state = 'pending' AS back
),
woke AS (SELECT pg_notify($2, $1) FROM (SELECT 1 FROM lapsed WHERE back LIMIT 1) AS any_row),
expired AS (
  UPDATE {S}.jobs SET ${expiredSet("now()")}
  WHERE id IN (SELECT id FROM {S}.jobs WHERE queue = $1 AND state = 'pending' AND expires_at <= now()
               FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT (SELECT count(*) FROM lapsed)::int AS lapsed, (SELECT count(*) FROM expired)::int AS expired,
       (SELECT count(*) FROM woke) AS sent`;

/**
 * The ready rows, locked, as an array: `id = ANY(…)` finds each by primary key. Written as
 * `id IN (…)`, the planner joins the chosen ids to the table by hash over a sequential scan
 * of every row (EXPLAIN ANALYZE: 6 of a 500-row claim's 12 ms at 20,000 deep, growing with
 * the table), where the array costs a look-up per chosen row.
 */
const READY_IDS = `ANY(ARRAY(${READY} LIMIT $2 FOR UPDATE SKIP LOCKED))`;

/**
 * READY_IDS for a claim: nothing while the queue is paused, or limited (the backend then runs
 * the limited claim, limited-claim.ts). The subquery names no column of
 * the outer row, so the planner runs it once per statement (an InitPlan: one primary-key
 * look-up) as a one-time filter. A channel's take ignores it: pause is a worker's control.
 */
const UNPAUSED_READY = READY.replace(
  "ORDER BY",
  `AND NOT EXISTS (SELECT 1 FROM {S}.queues WHERE queue = $1 AND (paused OR ${LIMITED.LIMITED_ROW}))\n  ORDER BY`,
);
const UNPAUSED_READY_IDS = `ANY(ARRAY(${UNPAUSED_READY} LIMIT $2 FOR UPDATE SKIP LOCKED))`;

/**
 * UNPAUSED_READY_IDS under a byte bound (Backend.claim; $4 free, $5 bytes): the rows are locked
 * in claim order as there, then the first $4 are kept, and each next one while the payloads
 * before it weigh less than $5. The others stay as they were (locked only until this statement
 * commits). octet_length reads a stored value's size from its header, never its bytes.
 */
const BOUNDED_READY_IDS = `ANY(ARRAY(
  SELECT id FROM (
    SELECT id, row_number() OVER w AS n,
           coalesce(sum(len) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM (${UNPAUSED_READY.replace("SELECT id FROM", "SELECT id, grp, priority, run_at, octet_length(payload) AS len FROM")}
          LIMIT $2 FOR UPDATE SKIP LOCKED) AS candidates
    WINDOW w AS (ORDER BY grp, priority DESC, run_at, id)
  ) AS weighed
  WHERE n <= greatest($4::int, 1) OR before < $5::float8))`;

/**
 * $1 queue, $2 limit, $3 lease ms. Rows come back unordered: the caller sorts them. The ttl
 * deadline stays (see shared.ts).
 */
export const CLAIM = `
UPDATE {S}.jobs SET state = 'reserved', attempts = attempts + 1, claims = claims + 1,
  lease_until = ${after("$3::float8")}
WHERE id = ${UNPAUSED_READY_IDS}
RETURNING ${JOB}, (extract(epoch from expires_at - now()) * 1000)::float8 AS expires_in, trace`;

/** CLAIM under a byte bound: $4 free, $5 bytes (BOUNDED_READY_IDS). */
export const CLAIM_BOUNDED = CLAIM.replace(
  `WHERE id = ${UNPAUSED_READY_IDS}`,
  `WHERE id = ${BOUNDED_READY_IDS}`,
);

/** Channel receive: removes ready jobs (not expired ones); wakes senders waiting for room. */
export const TAKE = `
WITH taken AS (
  DELETE FROM {S}.jobs
  WHERE id = ${READY_IDS}
  RETURNING *
),
woke AS (SELECT pg_notify($3, $1) FROM (SELECT 1 FROM taken LIMIT 1) AS any_row)
SELECT ${JOB} FROM taken, (SELECT count(*) FROM woke) AS sent`;

/**
 * After a receive that met undecodable jobs was rolled back: those jobs ($2 ids, $3 errors)
 * become dead (keeping their key, like any dead job), if still pending (meanwhile another
 * receiver may have met and buried one, or one whose codec reads it received it). Rows are
 * locked in id order, as every statement that waits for several rows locks them. The UPDATE's
 * `j.state = 'pending'` repeats what `locked` checked: it states the rule where the row is
 * written, and changes no result. Makes room: wakes waiting senders ($4).
 */
export const BURY_UNDECODABLE = `
WITH locked AS MATERIALIZED (
  SELECT id FROM {S}.jobs WHERE queue = $1 AND id = ANY($2::bigint[]) AND state = 'pending' ORDER BY id FOR UPDATE
),
done AS (
  UPDATE {S}.jobs AS j SET state = 'dead', finished_at = now(), last_error = u.error,
    lease_until = NULL, expires_at = NULL
  FROM unnest($2::bigint[], $3::text[]) AS u(id, error)
  WHERE j.id = u.id AND j.id = ANY(ARRAY(SELECT id FROM locked)) AND j.state = 'pending'
  RETURNING j.id
),
woke AS (SELECT pg_notify($4, $1) FROM (SELECT 1 FROM done LIMIT 1) AS any_row)
SELECT (SELECT count(*) FROM done)::int AS done, (SELECT count(*) FROM woke) AS sent`;

/**
 * The condition of every transition on a held job: $1 queue, $2 id, $3 attempt or null, $5
 * token (claims) or null. A holder that knows its token is checked by it alone in effect.
 */
const HELD = `queue = $1 AND id = $2 AND state = 'reserved' AND ($3::integer IS NULL OR attempts = $3)
  AND ($5::integer IS NULL OR claims = $5) AND ${leaseLive("")}`;
/** Wraps a held transition: `done` says it happened, `found` tells lease_lost from not_found. */
const outcome = (cte: string) => `
WITH ${RENEWING},
done AS (${cte} RETURNING id)
SELECT (SELECT count(*) FROM done)::int AS done,
       EXISTS (SELECT 1 FROM {S}.jobs WHERE queue = $1 AND id = $2) AS found`;

/*
 * Completions and failures are grouped (group.ts): one statement per queue carries every held
 * transition a process issued in the same turn, as parallel arrays led by $2 ids (distinct) and
 * $3 attempts (null: any). `u` is the input; the row `j` is found by primary key.
 */
/**
 * The calls whose job is held as they say, locked. Each row is found by primary key alone and
 * only then checked: left to the planner, the checks would pick the lease index, whose dead
 * entries (one per job ever reserved) it would wade through on every call; OFFSET 0 keeps the
 * checks from being pushed into the look-up. FOR UPDATE returns
 * the row's latest version, so the checks see what a concurrent commit left.
 */
const held = (columns: string) => `${RENEWING},
held AS MATERIALIZED (
  SELECT ${columns} FROM u CROSS JOIN LATERAL (SELECT * FROM {S}.jobs WHERE id = u.id OFFSET 0 FOR UPDATE) AS j
  WHERE j.queue = $1 AND j.state = 'reserved' AND (u.attempt IS NULL OR j.attempts = u.attempt)
    AND (u.token IS NULL OR j.claims = u.token) AND ${leaseLive("j.")}
)`;
/**
 * One row per input: `done` says it happened; only for the others is `found` looked up, to
 * tell lease_lost from not_found (the statement's snapshot: the row as it was before it).
 */
const outcomes = (alsoFrom = "") => `
SELECT u.id::float8 AS id, (done.id IS NOT NULL) AS done,
       CASE WHEN done.id IS NULL THEN coalesce((SELECT f.queue = $1 FROM {S}.jobs AS f WHERE f.id = u.id), false)
            ELSE true END AS found
FROM u LEFT JOIN done ON done.id = u.id${alsoFrom}`;

/** $4 result bytes, $5 result formats, $6 tokens. (SQLite: COMPLETE, one job a statement.) */
export const COMPLETE = `
WITH u AS (SELECT * FROM unnest($2::bigint[], $3::integer[], $4::bytea[], $5::smallint[], $6::integer[])
           AS u(id, attempt, result, fmt, token)),
${held("u.*")},
done AS (
  UPDATE {S}.jobs AS j SET state = 'completed', finished_at = ${toWholeMs("now()")}, lease_until = NULL,
    result = h.result, result_format = h.fmt
  FROM held AS h WHERE j.id = h.id
  RETURNING j.id
)${outcomes()}`;

/**
 * $4 tokens, $5 result bytes, $6 result formats. A job others depend on is not deleted here: it
 * is completed (its trigger releases them and hands them its result), `kept` says so, and
 * DELETE_COMPLETED deletes it next, since a delete cannot tell a completion from a removal.
 */
export const COMPLETE_DELETE = `
WITH u AS (SELECT * FROM unnest($2::bigint[], $3::integer[], $4::integer[], $5::bytea[], $6::smallint[])
           AS u(id, attempt, token, result, fmt)),
${held("u.*, j.dependents")},
deleted AS (
  DELETE FROM {S}.jobs AS j USING held AS h WHERE j.id = h.id AND h.dependents IS NULL RETURNING j.id
),
kept AS (
  UPDATE {S}.jobs AS j SET state = 'completed', finished_at = ${toWholeMs("now()")}, lease_until = NULL,
    result = h.result, result_format = h.fmt
  FROM held AS h WHERE j.id = h.id AND h.dependents IS NOT NULL
  RETURNING j.id
),
done AS (SELECT id, false AS kept FROM deleted UNION ALL SELECT id, true FROM kept)
SELECT u.id::float8 AS id, (done.id IS NOT NULL) AS done, coalesce(done.kept, false) AS kept,
       CASE WHEN done.id IS NULL THEN coalesce((SELECT f.queue = $1 FROM {S}.jobs AS f WHERE f.id = u.id), false)
            ELSE true END AS found
FROM u LEFT JOIN done ON done.id = u.id`;

/** After COMPLETE_DELETE: the jobs it completed instead ($1 ids), their dependents released. */
export const DELETE_COMPLETED = "DELETE FROM {S}.jobs WHERE id = ANY($1::bigint[]) AND state = 'completed'";

/**
 * $4 errors, $5 retry-in ms (null: dead), $6 channel (told once if any job is pending again), $7
 * tokens. Both outcomes in one statement, since one group carries both (SQLite: FAIL_RETRY and
 * FAIL_DEAD).
 */
export const FAIL = `
WITH u AS (SELECT * FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::float8[], $7::integer[])
           AS u(id, attempt, error, retry_ms, token)),
${held("u.*")},
done AS (
  UPDATE {S}.jobs AS j SET
    state = CASE WHEN h.retry_ms IS NULL THEN 'dead' ELSE 'pending' END,
    run_at = CASE WHEN h.retry_ms IS NULL THEN j.run_at ELSE ${runAtAfter("h.retry_ms")} END,
    finished_at = CASE WHEN h.retry_ms IS NULL THEN now() ELSE NULL END,
    lease_until = NULL, last_error = h.error, expires_at = NULL
  FROM held AS h WHERE j.id = h.id
  RETURNING j.id, (h.retry_ms IS NOT NULL) AS again
),
woke AS (SELECT pg_notify($6, $1) FROM (SELECT 1 FROM done WHERE again LIMIT 1) AS any_row)
${outcomes(", (SELECT count(*) FROM woke) AS sent")}`;

/** $4 lease ms. */
export const EXTEND = outcome(`UPDATE {S}.jobs SET lease_until = ${after("$4::float8")} WHERE ${HELD}`);

/** $4 the progress (JSON text): stored on a held job, lease-checked like EXTEND. */
export const PROGRESS = outcome(`UPDATE {S}.jobs SET progress = $4 WHERE ${HELD}`);

/**
 * Locks the rows of the jobs named by $2 in id order, the order every statement that waits for
 * several rows takes them in (completions and failures lock theirs in id order too), so two
 * such statements can never deadlock. Left to the planner, an UPDATE … FROM unnest locks rows
 * in whatever order it visits them: the array's, or the lease index's.
 */
const LOCK_IN_ID_ORDER = `locked AS MATERIALIZED (
  SELECT id FROM {S}.jobs WHERE queue = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE
)`;

/** LOCK_IN_ID_ORDER without waiting: rows another transaction holds are left out (EXTEND_MANY). */
const LOCK_IN_ID_ORDER_SKIP_LOCKED = LOCK_IN_ID_ORDER.replace("FOR UPDATE", "FOR UPDATE SKIP LOCKED");

/**
 * $2 ids, $3 tokens, $4 lease ms: returns the ids not extended, each either lost (locked here and
 * not held, or gone) or `skipped`: it never waits for a row lock, and a row another transaction
 * holds (an application's transaction adding a child of the job, the job's own outcome being
 * written) is left for EXTEND_WAITING. Waiting here held every other lease of the worker
 * behind that transaction (hostile reviews: every job of the worker ran again).
 */
export const EXTEND_MANY = `
WITH ${RENEWING},
${LOCK_IN_ID_ORDER_SKIP_LOCKED},
kept AS (
  UPDATE {S}.jobs AS j SET lease_until = ${after("$4::float8")}
  FROM unnest($2::bigint[], $3::integer[]) AS h(id, token)
  WHERE j.id = ANY(ARRAY(SELECT id FROM locked))
    AND j.queue = $1 AND j.id = h.id AND j.state = 'reserved' AND j.claims = h.token AND ${leaseLive("j.")}
  RETURNING j.id
)
SELECT h.id::float8 AS id,
       (h.id NOT IN (SELECT id FROM locked)
        AND EXISTS (SELECT 1 FROM {S}.jobs AS g WHERE g.queue = $1 AND g.id = h.id)) AS skipped
FROM unnest($2::bigint[]) AS h(id)
WHERE h.id NOT IN (SELECT id FROM kept)`;

/**
 * A row EXTEND_MANY skipped, extended once its lock is let go ($2 id, $3 token, $4 lease ms; see
 * waiting-renewals.ts, which runs it in a transaction with no lock_timeout). The row is locked
 * first: an UPDATE alone computes its new row before it waits, so its clock_timestamp() would be
 * from before the wait whenever the holder rolled back or only locked the row. The lease then
 * runs `lease` ms from when the row is got, never cut shorter; it must have been live when the
 * statement began (statement_timestamp()), before the wait.
 */
export const EXTEND_WAITING = `
WITH locked AS MATERIALIZED (SELECT id FROM {S}.jobs WHERE id = $2::bigint FOR UPDATE)
UPDATE {S}.jobs SET lease_until = greatest(lease_until, clock_timestamp() + $4::float8 * interval '1 millisecond')
WHERE id IN (SELECT id FROM locked) AND queue = $1 AND state = 'reserved' AND claims = $3::integer
  AND lease_until >= statement_timestamp()`;

/**
 * $2 ids, $3 tokens, $4 channel, $5 started: back to pending without counting the attempt
 * (claims stays). A job that started has met its ttl; one handed back unstarted keeps it.
 */
export const RELEASE = `
WITH ${LOCK_IN_ID_ORDER},
done AS (
  UPDATE {S}.jobs AS j SET state = 'pending', attempts = j.attempts - 1, lease_until = NULL,
    expires_at = CASE WHEN $5::boolean THEN NULL ELSE j.expires_at END
  FROM unnest($2::bigint[], $3::integer[]) AS h(id, token)
  WHERE j.id = ANY(ARRAY(SELECT id FROM locked))
    AND j.queue = $1 AND j.id = h.id AND j.state = 'reserved' AND j.claims = h.token
  RETURNING j.id
),
woke AS (SELECT pg_notify($4, $1) FROM (SELECT 1 FROM done LIMIT 1) AS any_row)
SELECT (SELECT count(*) FROM done)::int AS done, (SELECT count(*) FROM woke) AS sent`;

/**
 * Dead → pending with attempts reset ($2 ids, or null for all); waiting again while any of its
 * dependencies is not completed (one may be dead too: the job then waits for that one's retry).
 * Left dead: a job whose key is live again (or repeated among those retried), which would break
 * the dedupe rule, and one whose unfinished dependency is gone, which nothing could release.
 */
export const RETRY = `
WITH candidates AS (
  SELECT DISTINCT ON (coalesce(key, id::text)) id FROM {S}.jobs AS d
  WHERE d.queue = $1 AND d.state = 'dead' AND ($2::bigint[] IS NULL OR d.id = ANY($2::bigint[]))
    AND (d.key IS NULL OR NOT EXISTS (SELECT 1 FROM {S}.jobs AS l
         WHERE l.queue = d.queue AND l.key = d.key AND l.state IN ('pending', 'reserved', 'waiting')))
    AND (d.deps_left IS NULL OR d.deps_left = 0 OR NOT EXISTS (
         SELECT 1 FROM {S}.deps AS l WHERE l.job = d.id AND NOT l.done
            AND NOT EXISTS (SELECT 1 FROM {S}.jobs AS x WHERE x.id = l.dep)))
  ORDER BY coalesce(key, id::text), id
),
done AS (
  UPDATE {S}.jobs SET state = CASE WHEN deps_left > 0 THEN 'waiting' ELSE 'pending' END,
    attempts = 0, run_at = ${toWholeMs("now()")}, finished_at = NULL, lease_until = NULL, expires_at = NULL
  WHERE id IN (SELECT id FROM candidates) AND state = 'dead'
  RETURNING id
),
woke AS (SELECT pg_notify($3, $1) FROM (SELECT 1 FROM done LIMIT 1) AS any_row)
SELECT (SELECT count(*) FROM done)::int AS done, (SELECT count(*) FROM woke) AS sent`;

export const REMOVE = `
WITH done AS (DELETE FROM {S}.jobs WHERE queue = $1 AND id = $2 RETURNING id),
woke AS (SELECT pg_notify($3, $1) FROM done)
SELECT (SELECT count(*) FROM done)::int AS done, (SELECT count(*) FROM woke) AS sent`;

/** $2 completed|dead, $3 older-than ms or null. */
export const PURGE = `
WITH done AS (
  DELETE FROM {S}.jobs WHERE queue = $1 AND state = $2
    AND ($3::float8 IS NULL OR finished_at <= ${ago("$3::float8")})
  RETURNING 1
)
SELECT count(*)::int AS done FROM done`;

/** $2 keep dead ones; wakes senders waiting for room. */
export const CLEAR = `
WITH done AS (DELETE FROM {S}.jobs WHERE queue = $1 AND (NOT $2::boolean OR state <> 'dead') RETURNING id),
woke AS (SELECT pg_notify($3, $1) FROM (SELECT 1 FROM done LIMIT 1) AS any_row)
SELECT (SELECT count(*) FROM done)::int AS done, (SELECT count(*) FROM woke) AS sent`;

/** The statements that change jobs, here, and those that only read (read-queries.ts). */
const ALL = {
  ENQUEUE,
  ENQUEUE_PLAIN,
  FIND_KEYED,
  LOCK_QUEUE,
  RESCUE,
  RESCUE_KEYED,
  CLAIM,
  CLAIM_BOUNDED,
  TAKE,
  BURY_UNDECODABLE,
  COMPLETE,
  COMPLETE_DELETE,
  DELETE_COMPLETED,
  FAIL,
  EXTEND,
  EXTEND_MANY,
  EXTEND_WAITING,
  RENEWAL_LOCK,
  RELEASE,
  RETRY,
  REMOVE,
  PURGE,
  CLEAR,
  PROGRESS,
  ...SETTINGS,
  ...DEPENDENCY_QUERIES,
  ...LIMITED.LIMITED_QUERIES,
  ...R.READS,
  /** $1 the schema's name: whether the jobs table has statistics (see statistics.ts). */
  JOBS_HAVE_STATISTICS:
    "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = $1 AND tablename = 'jobs') AS known",
  ANALYZE_JOBS: "ANALYZE {S}.jobs",
};
export type QueryName = keyof typeof ALL;

/** Every statement with the schema filled in, for one open backend. */
export function bindQueries(quotedSchema: string): Record<QueryName, string> {
  const out = {} as Record<QueryName, string>;
  for (const name of Object.keys(ALL) as QueryName[]) out[name] = ALL[name].split("{S}").join(quotedSchema);
  return out;
}

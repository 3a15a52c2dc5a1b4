/*
 * The PostgreSQL statements of limited queues, by name, joined to the others in queries.ts: the
 * same names as the SQLite backend's limited-queries.ts. `{S}` is the quoted schema; values are
 * bound parameters. The claim itself is the function claim_limited (limited-claim.ts).
 */
import * as R from "./read-queries.js";

/** A {S}.queues row whose queue is limited: any limit stated, or grouped jobs ever added. */
export const LIMITED_ROW =
  "(rate_max IS NOT NULL OR concurrency IS NOT NULL OR group_concurrency IS NOT NULL OR grouped)";

/**
 * $1 queue, $2 limit, $3 lease ms: the limited claim (nothing when the queue is not limited, or
 * paused). Rows come back unordered: the caller sorts them. The ttl left is measured after the
 * function ran (clock_timestamp()), as it measured the lease.
 */
export const CLAIM_LIMITED = `
SELECT ${R.JOB}, (extract(epoch from expires_at - clock_timestamp()) * 1000)::float8 AS expires_in, trace
  FROM {S}.claim_limited($1, $2, $3::float8)`;

/**
 * For an idle worker's wait (limits-wait.ts): what holds a limited queue's claims back. No row
 * when the queue is not limited.
 */
export const LIMITS_STATE = `
SELECT q.paused, q.rate_max, q.concurrency, q.group_concurrency,
  (SELECT coalesce(sum(st.n), 0) FROM {S}.starts st
    WHERE st.queue = $1 AND st.at > clock_timestamp() - q.rate_duration * interval '1 millisecond')::float8 AS used,
  (SELECT extract(epoch from min(st.at) + q.rate_duration * interval '1 millisecond' - clock_timestamp()) * 1000
     FROM {S}.starts st
    WHERE st.queue = $1 AND st.at > clock_timestamp() - q.rate_duration * interval '1 millisecond')::float8 AS frees_in,
  CASE WHEN q.concurrency IS NULL THEN 0
       ELSE (SELECT count(*) FROM {S}.jobs j WHERE j.queue = $1 AND j.state = 'reserved') END::float8 AS reserved
FROM {S}.queues q WHERE q.queue = $1 AND ${LIMITED_ROW}`;

/**
 * Upserts the limits a handle states ($2 max, $3 duration, $4 concurrency, $5 group concurrency;
 * $6, $7, $8 whether each is stated: null then removes it); the row's other settings stay. A
 * removed rate limit drops its window. Tells every other process ($9 the channel) on commit.
 */
export const STORE_LIMITS = `
WITH done AS (
  INSERT INTO {S}.queues AS q (queue, rate_max, rate_duration, concurrency, group_concurrency)
  VALUES ($1, $2::integer, $3::float8, $4::integer, $5::integer)
  ON CONFLICT (queue) DO UPDATE SET
    rate_max = CASE WHEN $6::boolean THEN excluded.rate_max ELSE q.rate_max END,
    rate_duration = CASE WHEN $6::boolean THEN excluded.rate_duration ELSE q.rate_duration END,
    concurrency = CASE WHEN $7::boolean THEN excluded.concurrency ELSE q.concurrency END,
    group_concurrency = CASE WHEN $8::boolean THEN excluded.group_concurrency ELSE q.group_concurrency END,
    updated_at = now()
  RETURNING 1
),
dropped AS (DELETE FROM {S}.starts WHERE queue = $1 AND $6::boolean AND $2::integer IS NULL RETURNING 1),
woke AS (SELECT pg_notify($9, $1) FROM done)
SELECT (SELECT count(*) FROM woke) AS sent, (SELECT count(*) FROM dropped) AS dropped`;

/** The first grouped add of a queue (in this process) makes it grouped: its claims go round-robin. */
export const MARK_GROUPED = `
INSERT INTO {S}.queues (queue, grouped) VALUES ($1, true)
ON CONFLICT (queue) DO UPDATE SET grouped = true, updated_at = now() WHERE NOT {S}.queues.grouped`;

/** A limited queue's slot came free (a completion, a failure): other processes' workers look. */
export const WAKE = "SELECT pg_notify($1, $2) AS sent";

/** The statements above that run by name, for queries.ts's registry. */
export const LIMITED_QUERIES = { CLAIM_LIMITED, LIMITS_STATE, STORE_LIMITS, MARK_GROUPED, WAKE };

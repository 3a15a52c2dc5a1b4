/*
 * The PostgreSQL statements that only read, by name (the SQLite backend uses the same names in
 * its read-queries.ts). `{S}` is the quoted schema, substituted once on open by `bindQueries`
 * (queries.ts). Every time is the database's now(), never the process's.
 */

/** A timestamptz as whole ms since the epoch (exact: extract() is numeric). */
const ms = (column: string) => `floor(extract(epoch from ${column}) * 1000)::float8`;

/** The columns of a stored job, as every statement that returns jobs selects them (see rows.ts). */
export const JOB = `id, queue,
  CASE WHEN state = 'pending' AND run_at > now() THEN 'delayed' ELSE state END AS state,
  payload, format, priority, attempts, claims, max_attempts, key, backoff,
  ${ms("created_at")} AS created_at, ${ms("run_at")} AS run_at, ${ms("lease_until")} AS lease_until,
  ${ms("finished_at")} AS finished_at, last_error, result, result_format, progress, grp,
  (extract(epoch from run_at) * 1000000)::float8 AS run_at_us`;

/** With the ids of the job's dependencies, ascending, when it has any (null otherwise). */
export const GET = `SELECT ${JOB},
  CASE WHEN deps_left IS NOT NULL THEN ARRAY(SELECT d.dep::float8 FROM {S}.deps AS d WHERE d.job = j.id ORDER BY d.dep)
  END AS depends_on
FROM {S}.jobs AS j WHERE queue = $1 AND id = $2`;

/** $2 after id, $3 limit; one statement per state so each uses its index. */
export const LIST_PENDING = `SELECT ${JOB} FROM {S}.jobs
WHERE queue = $1 AND state = 'pending' AND run_at <= now() AND id > $2 ORDER BY id LIMIT $3`;
export const LIST_DELAYED = `SELECT ${JOB} FROM {S}.jobs
WHERE queue = $1 AND state = 'pending' AND run_at > now() AND id > $2 ORDER BY id LIMIT $3`;
/**
 * $4 the stored state (waiting, reserved, completed, dead): jobs_state serves all three (SQLite walks
 * completed jobs its own way, LIST_COMPLETED).
 */
export const LIST_STATE = `SELECT ${JOB} FROM {S}.jobs
WHERE queue = $1 AND state = $4 AND id > $2 ORDER BY id LIMIT $3`;

/**
 * Jobs of the states in $4 ('delayed' standing for pending jobs not yet due), with
 * $2 < id <= $5, in id order: one statement, so one snapshot, whatever states move meanwhile.
 */
export const BROWSE = `SELECT ${JOB} FROM {S}.jobs
WHERE queue = $1 AND id > $2 AND id <= $5
  AND (CASE WHEN state = 'pending' AND run_at > now() THEN 'delayed' ELSE state END) = ANY($4::text[])
ORDER BY id LIMIT $3`;

/**
 * The LIST_* statements reading previews: payload and result cut to their first $N bytes
 * (PostgreSQL detoasts only that slice of a large value), the error to $N characters, and
 * their full sizes. $N is the statement's last parameter.
 */
const preview = (sql: string, n: string) =>
  [
    ["payload, format,", `substring(payload from 1 for ${n}) AS payload, format,`],
    [
      "last_error, result,",
      `left(last_error, ${n}) AS last_error, substring(result from 1 for ${n}) AS result,`,
    ],
    [
      " FROM {S}.jobs",
      ", octet_length(payload) AS payload_size, octet_length(result) AS result_size, length(last_error) AS error_size FROM {S}.jobs",
    ],
  ].reduce((text, [from = "", to = ""]) => {
    // Loud, not silent: a preview that cut nothing would load whole payloads again.
    if (!text.includes(from))
      throw new Error(`preview: ${JSON.stringify(from)} is not in the LIST statement`);
    return text.replace(from, to);
  }, sql);
export const LIST_PENDING_PREVIEW = preview(LIST_PENDING, "$4");
export const LIST_DELAYED_PREVIEW = preview(LIST_DELAYED, "$4");
export const LIST_STATE_PREVIEW = preview(LIST_STATE, "$5");
export const BROWSE_PREVIEW = preview(BROWSE, "$6");

export const COUNTS = `
SELECT count(*) FILTER (WHERE state = 'waiting')::float8 AS waiting,
       count(*) FILTER (WHERE state = 'pending' AND run_at <= now())::float8 AS pending,
       count(*) FILTER (WHERE state = 'pending' AND run_at > now())::float8 AS delayed,
       count(*) FILTER (WHERE state = 'reserved')::float8 AS reserved,
       count(*) FILTER (WHERE state = 'completed')::float8 AS completed,
       count(*) FILTER (WHERE state = 'dead')::float8 AS dead,
       coalesce((SELECT paused FROM {S}.queues WHERE queue = $1), false) AS paused
FROM {S}.jobs WHERE queue = $1`;

/** Distinct queue names by skipping through the index, one probe per queue (not a full scan). */
export const QUEUES = `
WITH RECURSIVE q AS (
  (SELECT queue FROM {S}.jobs ORDER BY queue LIMIT 1)
  UNION ALL
  SELECT (SELECT j.queue FROM {S}.jobs AS j WHERE j.queue > q.queue ORDER BY j.queue LIMIT 1)
  FROM q WHERE q.queue IS NOT NULL
)
SELECT queue FROM q WHERE queue IS NOT NULL`;

/**
 * ms until the earliest pending job a claim could take is due (0: now), null when there is none.
 * min() of no rows is NULL and greatest() ignores NULL, so the CASE keeps "nothing pending" from
 * reading as "due now" (which had idle workers claiming in a tight loop). Jobs past their ttl
 * are left out, as the claim leaves them out, and so is everything of a paused queue.
 */
export const NEXT_DUE_IN = `
SELECT CASE WHEN min(run_at) IS NULL THEN NULL
            ELSE greatest(0, ceil(extract(epoch from (min(run_at) - now())) * 1000)) END::float8 AS ms
FROM {S}.jobs WHERE queue = $1 AND state = 'pending' AND (expires_at IS NULL OR expires_at > now())
  AND NOT EXISTS (SELECT 1 FROM {S}.queues WHERE queue = $1 AND paused)`;

export const OLDEST_PENDING_AGE = `
SELECT floor(extract(epoch from (now() - min(run_at))) * 1000)::float8 AS ms
FROM {S}.jobs WHERE queue = $1 AND state = 'pending' AND run_at <= now()`;

/** Items waiting (pending and reserved), as a channel counts them. */
export const BACKLOG = `SELECT count(*)::float8 AS n FROM {S}.jobs WHERE queue = $1 AND state IN ('pending', 'reserved')`;

export const READ_SETTINGS = `SELECT queue, retention_completed, retention_dead, paused,
  rate_max, rate_duration, concurrency, group_concurrency, grouped FROM {S}.queues WHERE queue = $1`;

/** The statements above by name, for queries.ts's registry. */
export const READS = {
  GET,
  LIST_PENDING,
  LIST_DELAYED,
  LIST_STATE,
  LIST_PENDING_PREVIEW,
  LIST_DELAYED_PREVIEW,
  LIST_STATE_PREVIEW,
  BROWSE,
  BROWSE_PREVIEW,
  COUNTS,
  BACKLOG,
  QUEUES,
  NEXT_DUE_IN,
  OLDEST_PENDING_AGE,
  READ_SETTINGS,
};

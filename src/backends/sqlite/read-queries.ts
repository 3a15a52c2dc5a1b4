// The SQLite statements that only read, by name (the PostgreSQL backend uses the same names in
// its read-queries.ts). Parameters are bound, never spliced. `:now` is the backend clock in ms.

/**
 * Where a payload of BODY_APART_BYTES or more is kept: in spool_bodies, under its job's id, with
 * an empty `body` and `body_apart` set in the job's row (migration 11). A claim, a completion, a
 * failure each rewrite the job's row, and SQLite rewrites a row whole, overflow pages and all: a
 * 1 MB job kept in its row wrote its payload three times (add, claim, completion), apart once.
 * From 4 KiB a row spills onto overflow pages (a page is 4 KiB); a smaller one stays, as a
 * second B-tree insert would cost it more than its rewrites do.
 */
export const BODY_APART_BYTES = 4096;

/** A job's payload, wherever it is kept (a row's `body_apart` is NULL when it is in the row). */
export const PAYLOAD =
  "iif(body_apart IS NULL, body, (SELECT b.body FROM spool_bodies AS b WHERE b.id = spool_jobs.id))";
/** Its size in bytes: length() of a blob reads its header, never its bytes. */
export const PAYLOAD_LENGTH =
  "iif(body_apart IS NULL, length(body), (SELECT length(b.body) FROM spool_bodies AS b WHERE b.id = spool_jobs.id))";

/** The columns of a stored job, as every statement that returns jobs selects them (see rows.ts). */
export const COLUMNS = `id, queue, state, priority, run_at, ${PAYLOAD} AS payload, format, attempts, claims, max_attempts, key, backoff,
  created_at, lease_until, expires_at, finished_at, last_error, result, result_format, progress, grp, deps_left`;

/*
 * Index hints. SQLite uses a partial index only when the query's WHERE contains every term of
 * the index's WHERE as written: it does not reason that `state = 'reserved'` implies
 * `state <> 'pending'`. So a statement repeats an index's condition beside a stricter one; the
 * repeated term changes no result, it only lets the index serve.
 */

/** spool_jobs_done's condition (every row that is not pending). */
export const IN_DONE_INDEX = "state <> 'pending'";
/**
 * A spool_queues row whose queue is limited: any limit stated, or grouped jobs ever added. Its
 * claims are the limited claim's (limited-claim.ts), not the one-statement CLAIM's.
 */
export const LIMITED =
  "(rate_max IS NOT NULL OR concurrency IS NOT NULL OR group_concurrency IS NOT NULL OR grouped)";
/** spool_jobs_key's condition (the live jobs, whose keys are unique), as migration 9 wrote it. */
export const IN_KEY_INDEX = "state IN ('pending', 'reserved', 'waiting')";

export const GET = `SELECT ${COLUMNS} FROM spool_jobs WHERE queue = :queue AND id = :id`;

/**
 * The largest job id, 2^53 − 1: the largest a JS number (a job's `id`) holds exactly. Ids run
 * from 1 to it; one outside is another writer's (see UnsafeIdError in rows.ts).
 */
export const MAX_JOB_ID = "9007199254740991";

/*
 * Every list starts past id :after (0 at first) and stops at MAX_JOB_ID: a job with an id past it
 * has no id a JS number names, so it is counted, never listed. The unary + keeps that bound off
 * the planner's choice of index.
 */
const LISTED = `AND +id <= ${MAX_JOB_ID}`;

export const LIST_PENDING = `
  SELECT ${COLUMNS} FROM spool_jobs
   WHERE queue = :queue AND state = 'pending' AND run_at <= :now AND id > :after ${LISTED} ORDER BY id LIMIT :limit`;

export const LIST_DELAYED = `
  SELECT ${COLUMNS} FROM spool_jobs
   WHERE queue = :queue AND state = 'pending' AND run_at > :now AND id > :after ${LISTED} ORDER BY id LIMIT :limit`;

/** Reserved and dead jobs are few: the done index finds them, a sort orders them. */
export const LIST_STATE = `
  SELECT ${COLUMNS} FROM spool_jobs WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = :state AND id > :after
   ${LISTED} ORDER BY id LIMIT :limit`;

/**
 * Completed jobs are many and mostly in id order already: walk the table by id from `after`
 * (NOT INDEXED: the done index would read every completed job of the queue, then sort).
 */
export const LIST_COMPLETED = `
  SELECT ${COLUMNS} FROM spool_jobs NOT INDEXED WHERE id > :after AND queue = :queue AND state = 'completed'
   ${LISTED} ORDER BY id LIMIT :limit`;

/**
 * Jobs of the states whose flag is 1, with :after < id <= :through, in id order: one statement,
 * so one snapshot, whatever states move meanwhile (a job moving from one listed state to another
 * between two reads of one state each would be seen twice or never). It walks the table by id,
 * as LIST_COMPLETED does: a browse across states is mostly over finished jobs.
 */
export const BROWSE = `
  SELECT ${COLUMNS} FROM spool_jobs NOT INDEXED WHERE id > :after AND id <= :through AND queue = :queue
   AND CASE state WHEN 'pending' THEN iif(run_at <= :now, :pending, :delayed)
     WHEN 'reserved' THEN :reserved WHEN 'completed' THEN :completed WHEN 'waiting' THEN :waiting
     ELSE :dead END
   ORDER BY id LIMIT :limit`;

/**
 * The LIST_* statements reading previews: payload, result and error cut to :preview (bytes of a
 * blob, characters of text), and their full sizes. A page of 10 MB jobs costs kilobytes.
 */
const preview = (sql: string) => {
  // With :preview 0 (ids and sizes only: export's page plan, the CLI's id reads) the payload is
  // never read: SQLite loads a value whole to cut it, and length() reads only its header
  // (20 jobs of 10 MB: about 140 ms with substr(payload, 1, 0), 0.1 ms with this).
  const cut = COLUMNS.replace(
    `${PAYLOAD} AS payload,`,
    `iif(:preview = 0, x'', substr(${PAYLOAD}, 1, :preview)) AS payload,`,
  )
    .replace(
      "last_error, result,",
      "substr(last_error, 1, :preview) AS last_error, substr(result, 1, :preview) AS result,",
    )
    .concat(
      `, ${PAYLOAD_LENGTH} AS payload_size, length(result) AS result_size, length(last_error) AS error_size`,
    );
  // Loud, not silent: a preview that cut nothing would load whole payloads again.
  if (!sql.includes(COLUMNS)) throw new Error("preview: the statement does not select COLUMNS");
  return sql.replace(COLUMNS, cut);
};
export const LIST_PENDING_PREVIEW = preview(LIST_PENDING);
export const LIST_DELAYED_PREVIEW = preview(LIST_DELAYED);
export const LIST_STATE_PREVIEW = preview(LIST_STATE);
export const LIST_COMPLETED_PREVIEW = preview(LIST_COMPLETED);
export const BROWSE_PREVIEW = preview(BROWSE);

/** The rows that are not pending, by state (the done index); COUNT_PENDING counts the rest. */
export const COUNTS = `
  SELECT state, count(*) AS n FROM spool_jobs WHERE queue = :queue AND ${IN_DONE_INDEX} GROUP BY state`;

export const COUNT_PENDING = `
  SELECT count(*) AS n, coalesce(sum(run_at > :now), 0) AS delayed FROM spool_jobs
   WHERE queue = :queue AND state = 'pending'`;

/** Two counts, so each uses its own index (ready rows; the rest). */
export const BACKLOG = `
  SELECT (SELECT count(*) FROM spool_jobs WHERE queue = :queue AND state = 'pending')
       + (SELECT count(*) FROM spool_jobs WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = 'reserved') AS n`;

/** Queue '' holds only the id placeholder (see PLACEHOLDER in queries.ts). */
export const QUEUES = `SELECT DISTINCT queue FROM spool_jobs WHERE queue <> '' ORDER BY queue`;

/** The earliest run time; reads.ts measures it against the process clock (SQLite's clock). */
/** A job past its ttl is never served, so it is due for nothing (as on PostgreSQL); nor is a paused queue's. */
export const NEXT_DUE_IN = `
  SELECT min(run_at) AS at FROM spool_jobs
   WHERE queue = :queue AND state = 'pending' AND (expires_at IS NULL OR expires_at > :now)
     AND NOT EXISTS (SELECT 1 FROM spool_queues WHERE queue = :queue AND paused)`;

export const OLDEST_PENDING_AGE = `
  SELECT min(run_at) AS at FROM spool_jobs WHERE queue = :queue AND state = 'pending' AND run_at <= :now`;

export const READ_SETTINGS = `SELECT queue, retention_completed, retention_dead, paused,
  rate_max, rate_duration, concurrency, group_concurrency, grouped FROM spool_queues WHERE queue = :queue`;

export const IS_PAUSED = `SELECT paused FROM spool_queues WHERE queue = :queue`;

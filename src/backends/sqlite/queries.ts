// Every runtime statement of the SQLite backend, by name. Parameters are bound, never spliced:
// queue names and payloads never reach SQL as text. `:now` is the backend clock in ms.

const COLUMNS = `id, queue, state, priority, run_at, payload, format, attempts, claims, max_attempts, key, backoff,
  created_at, lease_until, expires_at, finished_at, last_error, result, result_format`;

/** Positional: binding by position is measurably cheaper than by name on the hottest path. */
export const INSERT_JOB = `
  INSERT INTO spool_jobs (queue, state, priority, run_at, payload, format, max_attempts, key, backoff, created_at, expires_at)
  VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;

/*
 * Job ids are never reused, so a stale holder or a remembered id can never meet a newer job.
 * SQLite gives a new row max(id) + 1, so reuse could only follow deleting the row with the
 * highest id; when a delete does that, a placeholder row (queue '', which no queue name can
 * be) takes that id. One extra read per delete instead of AUTOINCREMENT's extra page write on
 * every insert.
 */
export const MAX_ID = "SELECT max(id) AS id FROM spool_jobs";

export const PLACEHOLDER = `
  INSERT INTO spool_jobs (id, queue, state, run_at, payload, format, max_attempts, created_at)
  VALUES (:id, '', 'dead', 0, X'', 0, 0, 0)`;

export const DROP_PLACEHOLDERS =
  "DELETE FROM spool_jobs WHERE queue = '' AND state <> 'pending' AND id < :id";

export const FIND_KEYED = `
  SELECT id FROM spool_jobs WHERE queue = :queue AND key = :key AND state IN ('pending', 'reserved')`;

/** Two counts, so each uses its own index (ready rows; the rest). */
export const BACKLOG = `
  SELECT (SELECT count(*) FROM spool_jobs WHERE queue = :queue AND state = 'pending')
       + (SELECT count(*) FROM spool_jobs WHERE queue = :queue AND state <> 'pending' AND state = 'reserved') AS n`;

/**
 * A lapsed lease settled: back to pending while attempts remain, dead otherwise. The holder may
 * have started the job, so it has met its ttl.
 */
const SETTLE_LAPSED = `
     SET state = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'dead' END,
         last_error = 'lease expired',
         finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE :now END,
         lease_until = NULL, expires_at = NULL`;

/** Lapsed leases of a queue. */
export const RESCUE_LEASES = `
  UPDATE spool_jobs ${SETTLE_LAPSED}
   WHERE queue = :queue AND state <> 'pending' AND state = 'reserved' AND lease_until < :now`;

/**
 * The claim order, driven by spool_jobs_ready. A job past its ttl is never served, even before
 * EXPIRE (throttled, like the lease rescue) has made it dead: the deadline check reads the row
 * the claim reads anyway.
 */
const READY = `SELECT id FROM spool_jobs
                 WHERE queue = :queue AND state = 'pending' AND run_at <= :now
                   AND (expires_at IS NULL OR expires_at > :now)
                 ORDER BY priority DESC, run_at, id`;

/** Never-started jobs past their ttl become dead with "expired" (through spool_jobs_expiry). */
export const EXPIRE = `
  UPDATE spool_jobs SET state = 'dead', last_error = 'expired', finished_at = :now, expires_at = NULL
   WHERE queue = :queue AND state = 'pending' AND expires_at IS NOT NULL AND expires_at <= :now`;

/** Before an add with a key: a lapsed lease on the job holding it is settled first. */
export const RESCUE_KEYED = `
  UPDATE spool_jobs ${SETTLE_LAPSED}
   WHERE queue = :queue AND key = :key AND state IN ('pending', 'reserved') AND state = 'reserved'
     AND lease_until < :now`;

/** Before an add with a key: a job past its ttl can no longer run, so it holds no key. */
export const EXPIRE_KEYED = `
  UPDATE spool_jobs SET state = 'dead', last_error = 'expired', finished_at = :now, expires_at = NULL
   WHERE queue = :queue AND key = :key AND state IN ('pending', 'reserved') AND state = 'pending'
     AND expires_at <= :now`;

/**
 * The claim: one statement, driven by spool_jobs_ready in its own order. The ttl deadline
 * stays: a claimed job handed back unstarted (a worker's prefetch) is still bound by it. Every
 * transition that means the job started clears it (a retry after FAIL, a started job's
 * RELEASE, a lapsed lease).
 */
export const CLAIM = `
  UPDATE spool_jobs
     SET state = 'reserved', attempts = attempts + 1, claims = claims + 1, lease_until = :lease_until
   WHERE id IN (${READY} LIMIT :limit)
  RETURNING ${COLUMNS}`;

/** The same for one job: `id = (…)` plans measurably cheaper than `id IN (…)`. */
export const CLAIM_ONE = `
  UPDATE spool_jobs
     SET state = 'reserved', attempts = attempts + 1, claims = claims + 1, lease_until = :lease_until
   WHERE id = (${READY} LIMIT 1)
  RETURNING ${COLUMNS}`;

export const TAKE = `DELETE FROM spool_jobs WHERE id IN (${READY} LIMIT :limit) RETURNING ${COLUMNS}`;

export const TAKE_ONE = `DELETE FROM spool_jobs WHERE id = (${READY} LIMIT 1) RETURNING ${COLUMNS}`;

/** A taken item that could not be decoded, put back by its take's savepoint: dead, keyless. */
export const BURY_UNDECODABLE = `
  UPDATE spool_jobs SET state = 'dead', finished_at = :now, last_error = :error, lease_until = NULL,
                        expires_at = NULL
   WHERE id = :id`;

/** A held job: the holder's token (claims) when it knows it, else its attempt, else anyone. */
const HELD = `queue = :queue AND id = :id AND state = 'reserved' AND (:token IS NULL OR claims = :token)
              AND (:attempt IS NULL OR attempts = :attempt) AND lease_until >= :now`;

export const COMPLETE_KEEP = `
  UPDATE spool_jobs SET state = 'completed', finished_at = :now, lease_until = NULL, result = :result,
                        result_format = :result_format
   WHERE ${HELD}`;

export const COMPLETE_DELETE = `DELETE FROM spool_jobs WHERE ${HELD}`;

export const FAIL_RETRY = `
  UPDATE spool_jobs SET state = 'pending', run_at = :now + :retry_in, lease_until = NULL, last_error = :error,
                        expires_at = NULL
   WHERE ${HELD}`;

export const FAIL_DEAD = `
  UPDATE spool_jobs SET state = 'dead', finished_at = :now, lease_until = NULL, last_error = :error
   WHERE ${HELD}`;

export const EXTEND = `UPDATE spool_jobs SET lease_until = :lease_until WHERE ${HELD}`;

/**
 * Hands a job back without counting the interrupted attempt (claims, the token, stays). A job
 * that started has met its ttl; one handed back unstarted keeps it.
 */
export const RELEASE = `
  UPDATE spool_jobs SET state = 'pending', attempts = attempts - 1, lease_until = NULL,
                        expires_at = CASE WHEN :started THEN NULL ELSE expires_at END
   WHERE queue = :queue AND id = :id AND state = 'reserved' AND claims = :token`;

export const EXISTS = `SELECT 1 AS found FROM spool_jobs WHERE queue = :queue AND id = :id`;

export const GET = `SELECT ${COLUMNS} FROM spool_jobs WHERE queue = :queue AND id = :id`;

/** Reserved and dead jobs are few: the done index finds them, a sort orders them. */
export const LIST_STATE = `
  SELECT ${COLUMNS} FROM spool_jobs WHERE queue = :queue AND state <> 'pending' AND state = :state AND id > :after
   ORDER BY id LIMIT :limit`;

/** Completed jobs are many and mostly in id order already: walk the table by id from `after`. */
export const LIST_COMPLETED = `
  SELECT ${COLUMNS} FROM spool_jobs NOT INDEXED WHERE id > :after AND queue = :queue AND state = 'completed'
   ORDER BY id LIMIT :limit`;

export const LIST_READY = `
  SELECT ${COLUMNS} FROM spool_jobs
   WHERE queue = :queue AND state = 'pending' AND run_at <= :now AND id > :after ORDER BY id LIMIT :limit`;

export const LIST_DELAYED = `
  SELECT ${COLUMNS} FROM spool_jobs
   WHERE queue = :queue AND state = 'pending' AND run_at > :now AND id > :after ORDER BY id LIMIT :limit`;

/** COLUMNS with payload, result and error cut to :preview (bytes of a blob, characters of text). */
const PREVIEW_COLUMNS = COLUMNS.replace("payload,", "substr(payload, 1, :preview) AS payload,")
  .replace(
    "last_error, result,",
    "substr(last_error, 1, :preview) AS last_error, substr(result, 1, :preview) AS result,",
  )
  .concat(
    ", length(payload) AS payload_size, length(result) AS result_size, length(last_error) AS error_size",
  );

/** A LIST_* statement that reads previews: a page of 10 MB jobs costs kilobytes, not a gigabyte. */
export function withPreview(listSql: string): string {
  // Loud, not silent: a preview that cut nothing would load whole payloads again.
  if (!listSql.includes(COLUMNS)) throw new Error("withPreview: the statement does not select COLUMNS");
  return listSql.replace(COLUMNS, PREVIEW_COLUMNS);
}

export const COUNTS = `
  SELECT state, count(*) AS n FROM spool_jobs WHERE queue = :queue AND state <> 'pending' GROUP BY state`;

export const COUNT_PENDING = `
  SELECT count(*) AS n, coalesce(sum(run_at > :now), 0) AS delayed FROM spool_jobs
   WHERE queue = :queue AND state = 'pending'`;

export const QUEUES = `SELECT DISTINCT queue FROM spool_jobs WHERE queue <> '' ORDER BY queue`;

export const NEXT_RUN_AT = `
  SELECT min(run_at) AS at FROM spool_jobs WHERE queue = :queue AND state = 'pending'`;

export const OLDEST_READY = `
  SELECT min(run_at) AS at FROM spool_jobs WHERE queue = :queue AND state = 'pending' AND run_at <= :now`;

export const RETRY_ALL = `
  UPDATE OR IGNORE spool_jobs SET state = 'pending', attempts = 0, run_at = :now, finished_at = NULL, expires_at = NULL
   WHERE queue = :queue AND state <> 'pending' AND state = 'dead'`;

export const RETRY_ONE = `
  UPDATE OR IGNORE spool_jobs SET state = 'pending', attempts = 0, run_at = :now, finished_at = NULL, expires_at = NULL
   WHERE queue = :queue AND id = :id AND state = 'dead'`;

export const REMOVE = `DELETE FROM spool_jobs WHERE queue = :queue AND id = :id`;

export const PURGE = `
  DELETE FROM spool_jobs WHERE queue = :queue AND state <> 'pending' AND state = :state AND finished_at <= :before`;

export const CLEAR_ALL = `DELETE FROM spool_jobs WHERE queue = :queue`;

export const CLEAR_LIVE = `DELETE FROM spool_jobs WHERE queue = :queue AND state <> 'dead'`;

// ---- queue settings (spool_queues) -----------------------------------------------------------

const SETTINGS = "queue, retention_completed, retention_dead";

export const READ_SETTINGS = `SELECT ${SETTINGS} FROM spool_queues WHERE queue = :queue`;

/** Upserts the retention only: the row's other settings stay as they are. */
export const STORE_RETENTION = `
  INSERT INTO spool_queues (queue, retention_completed, retention_dead, updated_at)
  VALUES (:queue, :completed, :dead, :now)
  ON CONFLICT (queue) DO UPDATE SET retention_completed = excluded.retention_completed,
                                    retention_dead = excluded.retention_dead,
                                    updated_at = excluded.updated_at`;

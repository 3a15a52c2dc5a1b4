// The SQLite statements on cron schedules (spool_schedules), by name: the same names as the
// PostgreSQL backend's schedule-queries.ts. Every value is a bound parameter.

/** The columns a schedule is read with, as StoredSchedule names them. */
const SCHEDULE = `name, queue, cron, tz, catch_up AS catchUp, payload, format, options,
  next_at AS nextAt, last_at AS lastAt, created_at AS createdAt, updated_at AS updatedAt`;

/**
 * Inserts or replaces a schedule. SET reads the row as it was, so `cron = excluded.cron` in the
 * CASE compares the stored cron: an unchanged cron and tz keep next_at (a restart that states
 * its schedules again neither skips nor repeats a fire); a changed one takes :next_at.
 */
export const SCHEDULE_UPSERT = `
INSERT INTO spool_schedules (name, queue, cron, tz, catch_up, payload, format, options, next_at, last_at, created_at, updated_at)
VALUES (:name, :queue, :cron, :tz, :catch_up, :payload, :format, :options, :next_at, NULL, :now, :now)
ON CONFLICT (name) DO UPDATE SET
  next_at = CASE WHEN cron = excluded.cron AND tz = excluded.tz THEN next_at ELSE excluded.next_at END,
  queue = excluded.queue, cron = excluded.cron, tz = excluded.tz, catch_up = excluded.catch_up,
  payload = excluded.payload, format = excluded.format, options = excluded.options,
  updated_at = excluded.updated_at`;

export const SCHEDULE_DELETE = "DELETE FROM spool_schedules WHERE name = :name";

export const SCHEDULE_LIST = `SELECT ${SCHEDULE} FROM spool_schedules ORDER BY name`;

/**
 * The fire's compare-and-set: moves next_at only from the value the firing process read. No
 * row changed means another process fired it first (or it was removed or given a new cron).
 */
export const SCHEDULE_ADVANCE = `
UPDATE spool_schedules SET next_at = :next_at, last_at = coalesce(:last_at, last_at)
WHERE name = :name AND next_at = :expected`;

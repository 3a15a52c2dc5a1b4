/*
 * The PostgreSQL statements on cron schedules ({S}.schedules), by name: the same names as the
 * SQLite backend's schedule-queries.ts. Joined to the others through settings-queries.ts.
 * Fire times (next_at, last_at) are ms computed by the core, stored exactly as bigint.
 */

/** A timestamptz as whole ms since the epoch (exact: extract() is numeric). */
const ms = (column: string) => `floor(extract(epoch from ${column}) * 1000)::float8`;

/** The database's clock, as the scheduler decides what is due on it. */
export const SCHEDULE_NOW = `SELECT ${ms("now()")} AS now`;

/**
 * Inserts or replaces a schedule. An unchanged cron and tz keep next_at (a restart that states
 * its schedules again neither skips nor repeats a fire); a changed one takes $9.
 */
export const SCHEDULE_UPSERT = `
INSERT INTO {S}.schedules AS s (name, queue, cron, tz, catch_up, payload, format, options, next_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint)
ON CONFLICT (name) DO UPDATE SET
  next_at = CASE WHEN s.cron = excluded.cron AND s.tz = excluded.tz THEN s.next_at ELSE excluded.next_at END,
  queue = excluded.queue, cron = excluded.cron, tz = excluded.tz, catch_up = excluded.catch_up,
  payload = excluded.payload, format = excluded.format, options = excluded.options, updated_at = now()`;

export const SCHEDULE_DELETE = "DELETE FROM {S}.schedules WHERE name = $1 RETURNING 1 AS removed";

/** Every schedule in SQLite's order (bytewise), each row with the database's now. */
export const SCHEDULE_LIST = `
SELECT name, queue, cron, tz, catch_up, payload, format, options, next_at::float8 AS next_at,
       last_at::float8 AS last_at, ${ms("created_at")} AS created_at, ${ms("updated_at")} AS updated_at,
       ${ms("now()")} AS now
FROM {S}.schedules ORDER BY name COLLATE "C"`;

/**
 * The fire's compare-and-set: moves next_at only from the value the firing process read ($2).
 * A concurrent fire waits for this row's lock, then finds next_at changed and updates nothing.
 */
export const SCHEDULE_ADVANCE = `
UPDATE {S}.schedules SET next_at = $3::bigint, last_at = coalesce($4::bigint, last_at)
WHERE name = $1 AND next_at = $2::bigint
RETURNING 1 AS moved`;

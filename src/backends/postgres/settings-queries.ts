/*
 * The PostgreSQL statements on a queue's settings row ({S}.queues), by name, joined to the
 * others in queries.ts. `{S}` is the quoted schema; values are bound parameters.
 */
import { ago } from "./time-sql.js";

// The schedules' statements join the named set through this module (queries.ts spreads it).
export * from "./schedule-queries.js";

/** Upserts the retention only: the row's other settings stay as they are. $1 queue. */
export const STORE_RETENTION = `
INSERT INTO {S}.queues (queue, retention_completed, retention_dead) VALUES ($1, $2::float8, $3::float8)
ON CONFLICT (queue) DO UPDATE SET retention_completed = excluded.retention_completed,
                                  retention_dead = excluded.retention_dead, updated_at = now()`;

/**
 * Deletes finished jobs past the queue's stored retention, or past $2 (completed) and $3 (dead)
 * when it stored none: the settings are read by the same statement that deletes.
 */
export const PRUNE = `
WITH stored AS (
  SELECT retention_completed, retention_dead FROM {S}.queues
   WHERE queue = $1 AND retention_completed IS NOT NULL AND retention_dead IS NOT NULL
),
r AS (
  SELECT coalesce((SELECT retention_completed FROM stored), $2::float8) AS completed,
         coalesce((SELECT retention_dead FROM stored), $3::float8) AS dead
),
done AS (
  DELETE FROM {S}.jobs AS j USING r
   WHERE j.queue = $1 AND (
         (j.state = 'completed' AND j.finished_at <= ${ago("r.completed")})
      OR (j.state = 'dead' AND j.finished_at <= ${ago("r.dead")}))
  RETURNING 1
)
SELECT count(*)::int AS done FROM done`;

/**
 * Upserts the pause only ($2): the row's other settings stay as they are. Tells every other
 * process ($3 the channel) on commit, as an add does: their workers look again at once.
 */
export const STORE_PAUSED = `
WITH done AS (
  INSERT INTO {S}.queues (queue, paused) VALUES ($1, $2::boolean)
  ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, updated_at = now()
  RETURNING 1
),
woke AS (SELECT pg_notify($3, $1) FROM done)
SELECT (SELECT count(*) FROM woke) AS sent`;

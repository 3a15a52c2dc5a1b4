// The SQLite schema of job dependencies (migration 9): the links table and the triggers that
// move a job's dependents when it ends. See dependencies.ts for the statements of an add.
//
// What moves a waiting job is a trigger on the dependency's own row, so every way a job can end
// (a completion, a failure, a lapsed last lease, ttl expiry, an undecodable item buried, a
// removal) moves its dependents in the same statement, hence the same transaction: no sweep, and
// no path that can forget. The triggers act only on rows that have dependents (`dependents`
// is NULL on every other row, and their WHEN clause tests it first), and exist only in a store
// that has held a link (migration 10, ensureDependencyTriggers): a store that never used
// dependencies pays nothing for them.

/**
 * The triggers that move a job's dependents, created with the first link (see
 * ensureDependencyTriggers): until a store holds one, every plain job's state change and delete
 * would still run each trigger's WHEN test as a sub-program per row, which measured a third of a
 * channel's batch receive and about 7% of a reserve and complete.
 */
export const DEPENDENCY_TRIGGERS: readonly string[] = [
  // A dependency completed: each unfinished dependent counts one less, and is released when that
  // was its last; the link keeps the result. (SET expressions all read the row as it was.)
  `CREATE TRIGGER IF NOT EXISTS spool_deps_completed AFTER UPDATE OF state ON spool_jobs
    WHEN NEW.dependents IS NOT NULL AND NEW.state = 'completed' AND OLD.state <> 'completed'
  BEGIN
    UPDATE spool_jobs SET deps_left = deps_left - 1,
           state = iif(deps_left = 1 AND state = 'waiting', 'pending', state),
           run_at = iif(deps_left = 1 AND state = 'waiting', max(run_at, NEW.finished_at), run_at),
           expires_at = iif(deps_left = 1 AND state = 'waiting' AND expires_at IS NOT NULL,
                            expires_at - run_at + max(run_at, NEW.finished_at), expires_at)
     WHERE id IN (SELECT job FROM spool_deps WHERE dep = NEW.id AND done = 0);
    UPDATE spool_deps SET done = 1 WHERE dep = NEW.id AND done = 0;
    -- Kept only while a link names it (a dependent deleted before this completion left none).
    INSERT OR REPLACE INTO spool_dep_results (dep, result, result_format)
    SELECT NEW.id, NEW.result, NEW.result_format WHERE EXISTS (SELECT 1 FROM spool_deps WHERE dep = NEW.id);
  END;`,
  // A dependency died: every job waiting on it, directly or through other waiting jobs, dies.
  `CREATE TRIGGER IF NOT EXISTS spool_deps_dead AFTER UPDATE OF state ON spool_jobs
    WHEN NEW.dependents IS NOT NULL AND NEW.state = 'dead' AND OLD.state <> 'dead'
  BEGIN
    UPDATE spool_jobs SET state = 'dead', last_error = 'dependency failed', finished_at = NEW.finished_at,
           expires_at = NULL
     WHERE state = 'waiting' AND id IN (
       WITH RECURSIVE down(id) AS (
         SELECT job FROM spool_deps WHERE dep = NEW.id AND done = 0
         UNION SELECT d.job FROM spool_deps d JOIN down ON d.dep = down.id WHERE d.done = 0)
       SELECT id FROM down);
  END;`,
  // A dependency deleted before it completed (remove, clear, a channel's receive, a purge or
  // prune of a dead one) can never complete: its waiting dependents die (a dead one's are dead
  // already, unless retried since: those too). Deleting a completed one changes nothing.
  `CREATE TRIGGER IF NOT EXISTS spool_deps_removed AFTER DELETE ON spool_jobs
    WHEN OLD.dependents IS NOT NULL AND OLD.state <> 'completed'
  BEGIN
    UPDATE spool_jobs SET state = 'dead', last_error = 'dependency removed', expires_at = NULL,
           finished_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
     WHERE state = 'waiting' AND id IN (
       WITH RECURSIVE down(id) AS (
         SELECT job FROM spool_deps WHERE dep = OLD.id AND done = 0
         UNION SELECT d.job FROM spool_deps d JOIN down ON d.dep = down.id WHERE d.done = 0)
       SELECT id FROM down);
  END;`,
  // A job's links go with it, and the results no other link names.
  `CREATE TRIGGER IF NOT EXISTS spool_deps_gone AFTER DELETE ON spool_jobs WHEN OLD.deps_left IS NOT NULL
  BEGIN
    DELETE FROM spool_dep_results
     WHERE dep IN (SELECT dep FROM spool_deps WHERE job = OLD.id)
       AND NOT EXISTS (SELECT 1 FROM spool_deps AS o WHERE o.dep = spool_dep_results.dep AND o.job <> OLD.id);
    DELETE FROM spool_deps WHERE job = OLD.id;
  END;`,
];

/**
 * Migration 9. spool_deps holds one row per (job, dependency) for as long as the job exists,
 * `done` once the dependency completed. spool_dep_results keeps a completed dependency's result
 * once (not once per dependent: a 4 MB result with 250 dependents is 4 MB) for as long as a link
 * names it, so `results()` outlives the dependency's own row (retention may delete it at once).
 * deps_left counts a job's dependencies not yet completed (NULL: it has none); `dependents` marks a job some other job depends on.
 */
export const DEPENDENCIES_MIGRATION = `
  ALTER TABLE spool_jobs ADD COLUMN deps_left INTEGER;
  ALTER TABLE spool_jobs ADD COLUMN dependents INTEGER;
  CREATE TABLE spool_deps (
     job           INTEGER NOT NULL,              -- the waiting job
     dep           INTEGER NOT NULL,              -- a job it depends on (any queue)
     done          INTEGER NOT NULL DEFAULT 0,    -- 1 once dep completed
     PRIMARY KEY (job, dep)
   ) STRICT, WITHOUT ROWID;
  CREATE TABLE spool_dep_results (
     dep           INTEGER PRIMARY KEY,           -- a completed dependency
     result        BLOB,                          -- its result, copied at its completion
     result_format INTEGER
   ) STRICT;
  -- A dependency's dependents: what its completion or death must move, and which queues its
  -- completion released jobs in. Not partial on done: marking a link done then moves no entry.
  CREATE INDEX spool_deps_dep ON spool_deps (dep, job);
  -- A waiting job holds its key like a pending one: it is live.
  DROP INDEX spool_jobs_key;
  CREATE UNIQUE INDEX spool_jobs_key ON spool_jobs (queue, key)
    WHERE key IS NOT NULL AND state IN ('pending', 'reserved', 'waiting');
  ${DEPENDENCY_TRIGGERS.join("\n  ")}`;

/**
 * Migration 10: the triggers go until a store holds a link (see DEPENDENCY_TRIGGERS), unless it
 * was at version 9 (see migrations.ts).
 */
export const DEPENDENCY_TRIGGERS_ON_DEMAND = `
  DROP TRIGGER IF EXISTS spool_deps_completed;
  DROP TRIGGER IF EXISTS spool_deps_dead;
  DROP TRIGGER IF EXISTS spool_deps_removed;
  DROP TRIGGER IF EXISTS spool_deps_gone;`;

/** Whether all four triggers are in the schema: they are created, and dropped, together. */
export const HAS_DEPENDENCY_TRIGGERS = `
  SELECT count(*) = 4 FROM sqlite_schema
   WHERE type = 'trigger' AND name IN ('spool_deps_completed', 'spool_deps_dead', 'spool_deps_removed', 'spool_deps_gone')`;

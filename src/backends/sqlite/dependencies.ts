// Job dependencies on SQLite (AddOptions.dependsOn): the schema, and the statements of an add
// with dependencies and of `dependencies()`.
//
// What moves a waiting job is a trigger on the dependency's own row, so every way a job can end
// (a completion, a failure, a lapsed last lease, ttl expiry, an undecodable item buried, a
// removal) moves its dependents in the same statement, hence the same transaction: no sweep, and
// no path that can forget. The triggers run only for rows that have dependents (`dependents`
// is NULL on every other row, and their WHEN clause tests it first), so plain jobs pay one
// column test per state change.
import type Database from "better-sqlite3";
import type { PayloadFormat, StoredDependency } from "../../backend.js";
import { SpoolError } from "../../errors.js";

/** Where the statements run: Spool's own store, or the application's connection (addSync). */
// (Store's shape, not its type: store.ts reaches this file through migrations.ts.)
type Statements = { sql(text: string): Database.Statement };

/**
 * Migration 8. spool_deps holds one row per (job, dependency) for as long as the job exists:
 * `done` once the dependency completed, with a copy of its result, so `results()` outlives the
 * dependency's own row (retention may delete it at once). deps_left counts a job's dependencies
 * not yet completed (NULL: it has none); `dependents` marks a job some other job depends on.
 */
export const DEPENDENCIES_MIGRATION = `
  ALTER TABLE spool_jobs ADD COLUMN deps_left INTEGER;
  ALTER TABLE spool_jobs ADD COLUMN dependents INTEGER;
  CREATE TABLE spool_deps (
     job           INTEGER NOT NULL,              -- the waiting job
     dep           INTEGER NOT NULL,              -- a job it depends on (any queue)
     done          INTEGER NOT NULL DEFAULT 0,    -- 1 once dep completed
     result        BLOB,                          -- dep's result, copied at its completion
     result_format INTEGER,
     PRIMARY KEY (job, dep)
   ) STRICT, WITHOUT ROWID;
  -- A dependency's unfinished dependents: what its completion or death must move.
  CREATE INDEX spool_deps_dep ON spool_deps (dep, job) WHERE done = 0;
  -- A waiting job holds its key like a pending one: it is live.
  DROP INDEX spool_jobs_key;
  CREATE UNIQUE INDEX spool_jobs_key ON spool_jobs (queue, key)
    WHERE key IS NOT NULL AND state IN ('pending', 'reserved', 'waiting');
  -- A dependency completed: each unfinished dependent counts one less, and is released when that
  -- was its last; the link keeps the result. (SET expressions all read the row as it was.)
  CREATE TRIGGER spool_deps_completed AFTER UPDATE OF state ON spool_jobs
    WHEN NEW.dependents IS NOT NULL AND NEW.state = 'completed' AND OLD.state <> 'completed'
  BEGIN
    UPDATE spool_jobs SET deps_left = deps_left - 1,
           state = iif(deps_left = 1 AND state = 'waiting', 'pending', state),
           run_at = iif(deps_left = 1 AND state = 'waiting', max(run_at, NEW.finished_at), run_at),
           expires_at = iif(deps_left = 1 AND state = 'waiting' AND expires_at IS NOT NULL,
                            expires_at - run_at + max(run_at, NEW.finished_at), expires_at)
     WHERE id IN (SELECT job FROM spool_deps WHERE dep = NEW.id AND done = 0);
    UPDATE spool_deps SET done = 1, result = NEW.result, result_format = NEW.result_format
     WHERE dep = NEW.id AND done = 0;
  END;
  -- A dependency died: every job waiting on it, directly or through other waiting jobs, dies.
  CREATE TRIGGER spool_deps_dead AFTER UPDATE OF state ON spool_jobs
    WHEN NEW.dependents IS NOT NULL AND NEW.state = 'dead' AND OLD.state <> 'dead'
  BEGIN
    UPDATE spool_jobs SET state = 'dead', last_error = 'dependency failed', finished_at = NEW.finished_at,
           expires_at = NULL
     WHERE state = 'waiting' AND id IN (
       WITH RECURSIVE down(id) AS (
         SELECT job FROM spool_deps WHERE dep = NEW.id AND done = 0
         UNION SELECT d.job FROM spool_deps d JOIN down ON d.dep = down.id WHERE d.done = 0)
       SELECT id FROM down);
  END;
  -- A dependency deleted before it completed (remove, clear, a channel's receive) can never
  -- complete: its waiting dependents die. Deleting a completed or dead one changes nothing.
  CREATE TRIGGER spool_deps_removed AFTER DELETE ON spool_jobs
    WHEN OLD.dependents IS NOT NULL AND OLD.state NOT IN ('completed', 'dead')
  BEGIN
    UPDATE spool_jobs SET state = 'dead', last_error = 'dependency removed', expires_at = NULL,
           finished_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
     WHERE state = 'waiting' AND id IN (
       WITH RECURSIVE down(id) AS (
         SELECT job FROM spool_deps WHERE dep = OLD.id AND done = 0
         UNION SELECT d.job FROM spool_deps d JOIN down ON d.dep = down.id WHERE d.done = 0)
       SELECT id FROM down);
  END;
  -- A job's links go with it.
  CREATE TRIGGER spool_deps_gone AFTER DELETE ON spool_jobs WHEN OLD.deps_left IS NOT NULL
  BEGIN
    DELETE FROM spool_deps WHERE job = OLD.id;
  END;`;

/** The dependencies named by an add, as they stand (queue '' is the id placeholder: no job). */
const FIND_DEPENDENCIES = `
  SELECT j.id, j.state, j.result, j.result_format FROM json_each(:ids) AS e
    JOIN spool_jobs AS j ON j.id = e.value AND j.queue <> ''`;

const MARK_DEPENDENT = "UPDATE spool_jobs SET dependents = 1 WHERE id = :id AND dependents IS NULL";

const LINK = `
  INSERT INTO spool_deps (job, dep, done, result, result_format) VALUES (:job, :dep, :done, :result, :format)`;

/**
 * The new job's state once linked: waiting on what is left, dead when a dependency is dead
 * already, pending (as inserted) when every one completed before the add.
 */
const SETTLE_NEW = `
  UPDATE spool_jobs SET deps_left = :left,
         state = CASE WHEN :dead THEN 'dead' WHEN :left > 0 THEN 'waiting' ELSE state END,
         last_error = CASE WHEN :dead THEN 'dependency failed' ELSE last_error END,
         finished_at = CASE WHEN :dead THEN :now ELSE finished_at END,
         expires_at = CASE WHEN :dead THEN NULL ELSE expires_at END
   WHERE id = :job`;

export const DEPENDENCIES = `
  SELECT dep, done, result, result_format FROM spool_deps
   WHERE job = (SELECT id FROM spool_jobs WHERE queue = :queue AND id = :id) ORDER BY dep`;

/** The dependency ids of one job, for `get`. */
export const DEPENDENCY_IDS = "SELECT dep FROM spool_deps WHERE job = :id ORDER BY dep";

interface FoundDependency {
  id: number;
  state: string;
  result: Uint8Array | null;
  result_format: PayloadFormat | null;
}

/**
 * Links the job `id`, just inserted pending, to the jobs it depends on (inside the insert's
 * transaction): NOT_FOUND, undoing the whole add, when one is not a job of the store.
 */
export function linkDependencies(
  store: Statements,
  id: number,
  dependsOn: readonly number[],
  now: number,
): void {
  const found = store.sql(FIND_DEPENDENCIES).all({ ids: JSON.stringify(dependsOn) }) as FoundDependency[];
  if (found.length < dependsOn.length) {
    const have = new Set(found.map((d) => d.id));
    const missing = dependsOn.find((dep) => !have.has(dep));
    throw new SpoolError("NOT_FOUND", `dependsOn names job ${missing}, which does not exist`);
  }
  const mark = store.sql(MARK_DEPENDENT);
  const link = store.sql(LINK);
  let left = 0;
  let dead = false;
  for (const dep of found) {
    const done = dep.state === "completed";
    if (!done) {
      left++;
      mark.run({ id: dep.id });
    }
    if (dep.state === "dead") dead = true;
    link.run({
      job: id,
      dep: dep.id,
      done: done ? 1 : 0,
      result: done ? dep.result : null,
      format: done ? dep.result_format : null,
    });
  }
  store.sql(SETTLE_NEW).run({ job: id, left, dead: dead ? 1 : 0, now });
}

interface DependencyRow {
  dep: number;
  done: number;
  result: Uint8Array | null;
  result_format: PayloadFormat | null;
}

/** A job's dependencies as `Backend.dependencies` returns them. */
export function readDependencies(store: Statements, queue: string, id: number): StoredDependency[] {
  const rows = store.sql(DEPENDENCIES).all({ queue, id }) as DependencyRow[];
  return rows.map((row) => ({
    id: row.dep,
    done: row.done === 1,
    result:
      row.done === 1 && row.result !== null ? { bytes: row.result, format: row.result_format ?? 0 } : null,
  }));
}

// The SQL of job dependencies on PostgreSQL: migration 8 and the statements of an add with
// dependencies and of `dependencies()`. See dependencies.ts for the design (triggers, locks).
/** Every job that waits on `root`, directly or through other unfinished links. */
const DOWN = (root: string) => `WITH RECURSIVE down(id) AS (
      SELECT job FROM {S}.deps WHERE dep = ${root} AND NOT done
      UNION SELECT d.job FROM {S}.deps AS d JOIN down ON d.dep = down.id WHERE NOT d.done)
    SELECT id FROM down`;

export const DEPENDENCIES_MIGRATION = `
ALTER TABLE {S}.jobs ADD COLUMN deps_left integer, ADD COLUMN dependents boolean;
ALTER TABLE {S}.jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE {S}.jobs ADD CONSTRAINT jobs_state_check
  CHECK (state IN ('waiting', 'pending', 'reserved', 'completed', 'dead'));
-- One row per (job, dependency) for as long as the job exists: done once the dependency
-- completed. dep_results keeps a completed dependency's result once (not once per dependent)
-- while a link names it, so results() outlives the dependency's row.
CREATE TABLE {S}.deps (
  job           bigint   NOT NULL,
  dep           bigint   NOT NULL,
  done          boolean  NOT NULL DEFAULT false,
  PRIMARY KEY (job, dep)
);
CREATE TABLE {S}.dep_results (
  dep           bigint PRIMARY KEY,
  result        bytea,
  result_format smallint
);
-- A dependency's dependents: what its completion or death must move, and which queues its
-- completion released jobs in. Not partial on done: marking a link done then moves no entry.
CREATE INDEX deps_dep ON {S}.deps (dep, job);
-- A waiting job holds its key like a pending one: it is live.
DROP INDEX {S}.jobs_key;
CREATE UNIQUE INDEX jobs_key ON {S}.jobs (queue, key)
  WHERE key IS NOT NULL AND state IN ('pending', 'reserved', 'waiting');

-- A dependency completed: each unfinished dependent counts one less and is released when that
-- was its last (run_at no earlier than the completion, its ttl deadline moved as much); the
-- link keeps the result. Dependents are locked in id order first, as every statement locks
-- several rows, so two completions sharing dependents do not deadlock on them (two grouped
-- completions whose jobs share dependents crosswise still can: the grouper runs those again).
CREATE FUNCTION {S}.deps_completed() RETURNS trigger LANGUAGE plpgsql AS $spool$
BEGIN
  -- Every statement here finds the dependents through deps (dep = NEW.id) first, as an array:
  -- a join the planner drove from the jobs side measured 16-23 ms a completion on a store with
  -- 20,000 pending jobs.
  PERFORM 1 FROM {S}.jobs
   WHERE id = ANY (ARRAY(SELECT job FROM {S}.deps WHERE dep = NEW.id AND NOT done)) ORDER BY id FOR UPDATE;
  UPDATE {S}.jobs AS j SET deps_left = j.deps_left - 1,
         state = CASE WHEN j.deps_left = 1 AND j.state = 'waiting' THEN 'pending' ELSE j.state END,
         run_at = CASE WHEN j.deps_left = 1 AND j.state = 'waiting'
                       THEN greatest(j.run_at, NEW.finished_at) ELSE j.run_at END,
         expires_at = CASE WHEN j.deps_left = 1 AND j.state = 'waiting' AND j.expires_at IS NOT NULL
                           THEN j.expires_at - j.run_at + greatest(j.run_at, NEW.finished_at)
                           ELSE j.expires_at END
   WHERE j.id = ANY (ARRAY(SELECT job FROM {S}.deps WHERE dep = NEW.id AND NOT done));
  UPDATE {S}.deps SET done = true WHERE dep = NEW.id AND NOT done;
  -- Kept only while a link names it (a dependent deleted before this completion left none).
  INSERT INTO {S}.dep_results (dep, result, result_format)
  SELECT NEW.id, NEW.result, NEW.result_format WHERE EXISTS (SELECT 1 FROM {S}.deps WHERE dep = NEW.id)
  ON CONFLICT (dep) DO UPDATE SET result = EXCLUDED.result, result_format = EXCLUDED.result_format;
  -- Every process's workers of the queues it released wake (this one's too: see RELEASED_MARK
  -- in notifier.ts), on the channel open.ts names after the schema; sent on commit.
  PERFORM pg_notify(left(TG_TABLE_SCHEMA || ':wake', 63), '+' || q.queue)
     FROM (SELECT DISTINCT queue FROM {S}.jobs
            WHERE id = ANY (ARRAY(SELECT job FROM {S}.deps WHERE dep = NEW.id))
              AND state = 'pending' AND deps_left = 0) AS q;
  RETURN NULL;
END $spool$;
CREATE TRIGGER deps_completed AFTER UPDATE OF state ON {S}.jobs FOR EACH ROW
  WHEN (NEW.dependents IS NOT NULL AND NEW.state = 'completed' AND OLD.state <> 'completed')
  EXECUTE FUNCTION {S}.deps_completed();

-- A dependency died: every job waiting on it, directly or through other waiting jobs, dies.
CREATE FUNCTION {S}.deps_dead() RETURNS trigger LANGUAGE plpgsql AS $spool$
BEGIN
  UPDATE {S}.jobs SET state = 'dead', last_error = 'dependency failed', finished_at = NEW.finished_at,
         expires_at = NULL
   WHERE state = 'waiting' AND id = ANY (ARRAY(${DOWN("NEW.id")}));
  RETURN NULL;
END $spool$;
CREATE TRIGGER deps_dead AFTER UPDATE OF state ON {S}.jobs FOR EACH ROW
  WHEN (NEW.dependents IS NOT NULL AND NEW.state = 'dead' AND OLD.state NOT IN ('dead', 'waiting'))
  EXECUTE FUNCTION {S}.deps_dead();

-- A dependency deleted before it completed (remove, clear, a channel's receive, a purge or
-- prune of a dead one) can never complete: its waiting dependents die (a dead one's are dead
-- already, unless retried since: those too). Deleting a completed one changes nothing.
CREATE FUNCTION {S}.deps_removed() RETURNS trigger LANGUAGE plpgsql AS $spool$
BEGIN
  UPDATE {S}.jobs SET state = 'dead', last_error = 'dependency removed', finished_at = now(),
         expires_at = NULL
   WHERE state = 'waiting' AND id = ANY (ARRAY(${DOWN("OLD.id")}));
  RETURN NULL;
END $spool$;
CREATE TRIGGER deps_removed AFTER DELETE ON {S}.jobs FOR EACH ROW
  WHEN (OLD.dependents IS NOT NULL AND OLD.state <> 'completed')
  EXECUTE FUNCTION {S}.deps_removed();

-- A job with dependencies deleted: its links go with it.
CREATE FUNCTION {S}.deps_gone() RETURNS trigger LANGUAGE plpgsql AS $spool$
DECLARE
  named bigint[] := ARRAY(SELECT dep FROM {S}.deps WHERE job = OLD.id ORDER BY dep);
BEGIN
  -- The results this job's links name, locked first: two dependents of one result deleted at
  -- once would each still see the other's link and both keep the result for ever. The second
  -- waits here, and its next statements see the first's links gone.
  PERFORM 1 FROM {S}.dep_results WHERE dep = ANY (named) ORDER BY dep FOR UPDATE;
  DELETE FROM {S}.deps WHERE job = OLD.id;
  DELETE FROM {S}.dep_results AS r
   WHERE r.dep = ANY (named) AND NOT EXISTS (SELECT 1 FROM {S}.deps AS o WHERE o.dep = r.dep);
  RETURN NULL;
END $spool$;
CREATE TRIGGER deps_gone AFTER DELETE ON {S}.jobs FOR EACH ROW
  WHEN (OLD.deps_left IS NOT NULL)
  EXECUTE FUNCTION {S}.deps_gone();
`;

/**
 * $1 the ids an add depends on: their rows locked in id order (see the header), before the add
 * writes anything. Fewer rows than ids: one is not a job (NOT_FOUND, nothing written).
 */
export const LOCK_DEPENDENCIES = `
SELECT id::float8 AS id FROM {S}.jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`;

/**
 * Links jobs just inserted (pending) to what they depend on: $1 job ids, $2 dependency ids
 * (parallel, one row per link; rows locked by LOCK_DEPENDENCIES). A completed dependency counts
 * as done with its result copied; a dead one makes the job dead at once; otherwise the job is
 * waiting on those left. The dependencies not completed are marked as having dependents.
 */
export const LINK_DEPENDENCIES = `
WITH found AS MATERIALIZED (
  SELECT p.job, p.dep, d.state = 'completed' AS done, d.state = 'dead' AS dead, d.result, d.result_format
  FROM unnest($1::bigint[], $2::bigint[]) AS p(job, dep) JOIN {S}.jobs AS d ON d.id = p.dep
),
marked AS (
  UPDATE {S}.jobs SET dependents = true
  WHERE id IN (SELECT dep FROM found WHERE NOT done) AND dependents IS NULL
  RETURNING 1
),
linked AS (
  INSERT INTO {S}.deps (job, dep, done) SELECT job, dep, done FROM found
  RETURNING 1
),
kept AS (
  INSERT INTO {S}.dep_results (dep, result, result_format)
  SELECT DISTINCT ON (dep) dep, result, result_format FROM found WHERE done
  ON CONFLICT (dep) DO NOTHING
  RETURNING 1
),
settled AS (
  UPDATE {S}.jobs AS j SET deps_left = s.left_n,
    state = CASE WHEN s.dead THEN 'dead' WHEN s.left_n > 0 THEN 'waiting' ELSE j.state END,
    last_error = CASE WHEN s.dead THEN 'dependency failed' ELSE j.last_error END,
    finished_at = CASE WHEN s.dead THEN now() ELSE j.finished_at END,
    expires_at = CASE WHEN s.dead THEN NULL ELSE j.expires_at END
  FROM (SELECT job, count(*) FILTER (WHERE NOT done)::integer AS left_n, bool_or(dead) AS dead
        FROM found GROUP BY job) AS s
  WHERE j.id = s.job
  RETURNING 1
)
SELECT (SELECT count(*) FROM marked) + (SELECT count(*) FROM linked) + (SELECT count(*) FROM kept)
     + (SELECT count(*) FROM settled) AS n`;

/** $1 queue, $2 id: the job's links, ascending by dependency. */
export const DEPENDENCIES = `
SELECT d.dep::float8 AS dep, d.done, r.result, r.result_format FROM {S}.deps AS d
  LEFT JOIN {S}.dep_results AS r ON r.dep = d.dep AND d.done
WHERE d.job = (SELECT id FROM {S}.jobs WHERE queue = $1 AND id = $2) ORDER BY d.dep`;

export const DEPENDENCY_QUERIES = { LOCK_DEPENDENCIES, LINK_DEPENDENCIES, DEPENDENCIES };

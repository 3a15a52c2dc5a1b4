/*
 * The claim of a limited queue on PostgreSQL (a rate limit, a global or group concurrency, or
 * groups): one PL/pgSQL function, created by migration 7, so a claim costs one round trip
 * however many groups it walks. It locks the queue's settings row first (FOR UPDATE): limited
 * claims of one queue run one at a time across every process, each reading the starts in the
 * window and the reserved jobs as committed by the one before it; plain queues never take that
 * lock. Time is the database's clock, read after the lock (clock_timestamp()): a claim that
 * waited for another one counts from when it runs, not from when its statement began.
 * `{S}` is the quoted schema.
 */

/** Migration 7 (see migrations.ts). */
export const LIMITS_MIGRATION_TABLES = `
ALTER TABLE {S}.queues
  ADD COLUMN rate_max integer,
  ADD COLUMN rate_duration float8,
  ADD COLUMN concurrency integer,
  ADD COLUMN group_concurrency integer,
  ADD COLUMN grouped boolean NOT NULL DEFAULT false,
  ADD COLUMN group_cursor text;
ALTER TABLE {S}.jobs ADD COLUMN grp text;
-- Each group's ready jobs in claim order, the ungrouped ones (grp NULL) too: the next group is
-- one seek past the last one served, and ungrouped jobs added while another process makes the
-- queue grouped are found all the same. It replaces jobs_ready: a plain queue's jobs (all grp
-- NULL) are one range of it in claim order, so a plain job sits in one ready index, not two.
CREATE INDEX jobs_groups ON {S}.jobs (queue, grp, priority DESC, run_at, id) WHERE state = 'pending';
DROP INDEX {S}.jobs_ready;
-- Each group's pending jobs by id: the head of a groupConcurrency-1 group (strict FIFO) is one
-- seek, where the index above would walk the whole group for its lowest id. On id + 0, which
-- the claim orders by: ordered by id, the planner would rather walk the primary key from the
-- table's first job when one group holds most of the rows (seen with ANALYZE statistics).
CREATE INDEX jobs_group_fifo ON {S}.jobs (queue, grp, (id + 0)) WHERE state = 'pending' AND grp IS NOT NULL;
-- Each group's reserved jobs, counted against groupConcurrency.
CREATE INDEX jobs_group_held ON {S}.jobs (queue, grp) WHERE state = 'reserved' AND grp IS NOT NULL;
-- The sliding window of a rate-limited queue: one row per claim, with how many it started.
CREATE TABLE {S}.starts (
  queue text        NOT NULL,
  at    timestamptz NOT NULL,
  n     integer     NOT NULL
);
CREATE INDEX starts_at ON {S}.starts (queue, at);

`;

/** The limited claim, as migration 7 creates it (and migration 8 replaces a draft of it). */
export const CLAIM_LIMITED_FUNCTION = `
-- Claims up to p_limit jobs of a limited queue: as many as its limits allow now, in claim
-- order; for a grouped queue one head per group per pass, round-robin in group order from the
-- group after the cursor, wrapping around to it, skipping groups at their groupConcurrency,
-- until the allowance is taken or a pass takes nothing. Ungrouped jobs are the group ''
-- (first in the order, bound by no groupConcurrency). A group's head is its first ready job in
-- claim order; with groupConcurrency 1 (strict FIFO by id) it is the group's oldest pending job,
-- which holds the group while it is not ready (delayed, or waiting out a retry's backoff); one
-- past its ttl holds nothing (it will never run). Returns nothing for a queue that is not
-- limited, or paused.
CREATE FUNCTION {S}.claim_limited(p_queue text, p_limit integer, p_lease_ms float8)
RETURNS SETOF {S}.jobs LANGUAGE plpgsql AS $fn$
DECLARE
  s record;
  t timestamptz;
  v_lease timestamptz;
  v_allowed bigint := p_limit;
  n bigint;
  v_taken integer := 0;
  v_added integer;
  v_start text;
  v_after text;
  v_wrapped boolean;
  g text;
  v_last text;
  job {S}.jobs;
BEGIN
  SELECT q.rate_max, q.rate_duration, q.concurrency, q.group_concurrency, q.grouped, q.group_cursor
    INTO s FROM {S}.queues q
   WHERE q.queue = p_queue AND NOT q.paused
     AND (q.rate_max IS NOT NULL OR q.concurrency IS NOT NULL OR q.group_concurrency IS NOT NULL OR q.grouped)
     FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  t := clock_timestamp();
  v_lease := t + p_lease_ms * interval '1 millisecond';
  IF s.rate_max IS NOT NULL THEN
    DELETE FROM {S}.starts AS st WHERE st.queue = p_queue AND st.at <= t - s.rate_duration * interval '1 millisecond';
    SELECT coalesce(sum(st.n), 0) INTO n FROM {S}.starts AS st WHERE st.queue = p_queue;
    v_allowed := least(v_allowed, s.rate_max - n);
  END IF;
  IF s.concurrency IS NOT NULL THEN
    SELECT count(*) INTO n FROM {S}.jobs AS j WHERE j.queue = p_queue AND j.state = 'reserved';
    v_allowed := least(v_allowed, s.concurrency - n);
  END IF;
  IF v_allowed <= 0 THEN RETURN; END IF;
  IF NOT s.grouped THEN
    FOR job IN
      UPDATE {S}.jobs AS u SET state = 'reserved', attempts = u.attempts + 1, claims = u.claims + 1, lease_until = v_lease
       WHERE u.id = ANY(ARRAY(
         SELECT j.id FROM {S}.jobs AS j
          WHERE j.queue = p_queue AND j.state = 'pending' AND j.run_at <= t AND (j.expires_at IS NULL OR j.expires_at > t)
          ORDER BY j.grp, j.priority DESC, j.run_at, j.id LIMIT v_allowed FOR UPDATE SKIP LOCKED))
      RETURNING u.*
    LOOP
      v_taken := v_taken + 1;
      RETURN NEXT job;
    END LOOP;
  ELSE
    v_start := s.group_cursor;
    LOOP
      v_added := 0;
      v_wrapped := v_start IS NULL;
      v_after := v_start;
      LOOP
        EXIT WHEN v_taken >= v_allowed;
        -- The next group after v_after ('' the ungrouped jobs, first; NULL: from the start).
        g := NULL;
        IF v_after IS NULL AND EXISTS (
          SELECT 1 FROM {S}.jobs AS j WHERE j.queue = p_queue AND j.state = 'pending' AND j.grp IS NULL) THEN
          g := '';
        ELSE
          SELECT j.grp INTO g FROM {S}.jobs AS j
           WHERE j.queue = p_queue AND j.state = 'pending' AND j.grp > coalesce(v_after, '')
           ORDER BY j.grp LIMIT 1;
        END IF;
        -- Wrapped around: the pass ends at the group it started after.
        IF g IS NOT NULL AND v_wrapped AND v_start IS NOT NULL AND g > v_start THEN g := NULL; END IF;
        IF g IS NULL THEN
          EXIT WHEN v_wrapped;
          v_wrapped := true;
          v_after := NULL;
          CONTINUE;
        END IF;
        v_after := g;
        IF g <> '' AND s.group_concurrency IS NOT NULL THEN
          SELECT count(*) INTO n FROM {S}.jobs AS j WHERE j.queue = p_queue AND j.state = 'reserved' AND j.grp = g;
          CONTINUE WHEN n >= s.group_concurrency;
        END IF;
        IF g = '' THEN
          UPDATE {S}.jobs AS u SET state = 'reserved', attempts = u.attempts + 1, claims = u.claims + 1, lease_until = v_lease
           WHERE u.id = (SELECT j.id FROM {S}.jobs AS j
                          WHERE j.queue = p_queue AND j.state = 'pending' AND j.grp IS NULL AND j.run_at <= t
                            AND (j.expires_at IS NULL OR j.expires_at > t)
                          ORDER BY j.priority DESC, j.run_at, j.id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING u.* INTO job;
        ELSIF s.group_concurrency = 1 THEN
          -- Not SKIP LOCKED: a head another transaction holds (a remove, a promote) is waited
          -- for, never overtaken. Limited claims of the queue are one at a time (the row lock).
          UPDATE {S}.jobs AS u SET state = 'reserved', attempts = u.attempts + 1, claims = u.claims + 1, lease_until = v_lease
           WHERE u.id = (SELECT j.id FROM {S}.jobs AS j
                          WHERE j.queue = p_queue AND j.state = 'pending' AND j.grp IS NOT NULL AND j.grp = g
                            AND (j.expires_at IS NULL OR j.expires_at > t)
                          ORDER BY j.id + 0 LIMIT 1 FOR UPDATE)
             AND u.run_at <= t
          RETURNING u.* INTO job;
        ELSE
          UPDATE {S}.jobs AS u SET state = 'reserved', attempts = u.attempts + 1, claims = u.claims + 1, lease_until = v_lease
           WHERE u.id = (SELECT j.id FROM {S}.jobs AS j
                          WHERE j.queue = p_queue AND j.state = 'pending' AND j.grp = g AND j.run_at <= t
                            AND (j.expires_at IS NULL OR j.expires_at > t)
                          ORDER BY j.priority DESC, j.run_at, j.id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING u.* INTO job;
        END IF;
        IF FOUND THEN
          v_taken := v_taken + 1;
          v_added := v_added + 1;
          v_last := g;
          RETURN NEXT job;
        END IF;
      END LOOP;
      EXIT WHEN v_added = 0 OR v_taken >= v_allowed;
    END LOOP;
    IF v_last IS NOT NULL THEN
      UPDATE {S}.queues SET group_cursor = v_last WHERE queue = p_queue;
    END IF;
  END IF;
  IF s.rate_max IS NOT NULL AND v_taken > 0 THEN
    INSERT INTO {S}.starts (queue, at, n) VALUES (p_queue, t, v_taken);
  END IF;
END
$fn$;
`;

export const LIMITS_MIGRATION = `${LIMITS_MIGRATION_TABLES}\n${CLAIM_LIMITED_FUNCTION}`;

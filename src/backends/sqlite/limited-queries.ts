// The SQLite statements of limited queues (limited-claim.ts): their settings, the sliding window
// of starts, the round-robin walk over groups, and grouped adds. The same names as the
// PostgreSQL backend's limited-queries.ts. Every value is bound, never spliced.
import { PICKED_COLUMNS, READY } from "./queries.js";
import { IN_DONE_INDEX, LIMITED } from "./read-queries.js";

/** What a limited claim reads of the queue's row, in the claim's own transaction. */
export const QUEUE_LIMITS = `
  SELECT paused, ${LIMITED} AS limited, rate_max, rate_duration, concurrency, group_concurrency, grouped,
         group_cursor
    FROM spool_queues WHERE queue = :queue`;

/** Starts that left the window: nothing reads them again. */
export const STARTS_DROP = `DELETE FROM spool_starts WHERE queue = :queue AND at <= :before`;

/** The starts in the window (after :before), and when the oldest of them was. */
export const STARTS_IN_WINDOW = `
  SELECT coalesce(sum(n), 0) AS used, min(at) AS oldest FROM spool_starts WHERE queue = :queue AND at > :before`;

export const STARTS_RECORD = `INSERT INTO spool_starts (queue, at, n) VALUES (:queue, :now, :n)`;

/** The queue's reserved jobs (through spool_jobs_done). */
export const RESERVED_COUNT = `
  SELECT count(*) AS n FROM spool_jobs WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = 'reserved'`;

/**
 * One group's reserved jobs: one range of spool_jobs_done (queue, 'reserved', no finish time,
 * the group). A reserved job has no finish time: only completion and death set one, and a job
 * becomes pending again (and then reserved) with it cleared.
 */
export const GROUP_HELD = `
  SELECT count(*) AS n FROM spool_jobs
   WHERE queue = :queue AND ${IN_DONE_INDEX} AND state = 'reserved' AND finished_at IS NULL AND grp = :grp`;

/**
 * The first group with pending jobs (after :after, up to :upto): one seek on spool_jobs_ready
 * (or spool_jobs_group_fifo). Four statements, not one with `:after IS NULL OR …` terms: SQLite
 * plans those as a range it then walks to the end (measured: 2.6 ms a seek at 100k jobs,
 * against 12 µs).
 */
const groupAfter = (after: boolean, upto: boolean) => `
  SELECT grp FROM spool_jobs
   WHERE queue = :queue AND state = 'pending' AND grp IS NOT NULL${after ? " AND grp > :after" : ""}${upto ? " AND grp <= :upto" : ""}
   ORDER BY grp LIMIT 1`;

export const FIRST_GROUP = groupAfter(false, false);
export const FIRST_GROUP_UPTO = groupAfter(false, true);
export const NEXT_GROUP = groupAfter(true, false);
export const NEXT_GROUP_UPTO = groupAfter(true, true);

const RESERVE = `
  UPDATE spool_jobs
     SET state = 'reserved', attempts = attempts + 1, claims = claims + 1, lease_until = :lease_until`;

/**
 * Claims a group's head: its first ready job in claim order (priority desc, run time, id), one
 * seek on spool_jobs_ready. For groups bound by no groupConcurrency, or by one above 1, and for
 * the ungrouped jobs ('').
 */
export const CLAIM_GROUP_HEAD = `${RESERVE}
   WHERE id = (SELECT id FROM spool_jobs
                WHERE queue = :queue AND state = 'pending' AND grp IS NOT NULL AND grp = :grp
                  AND run_at <= :now AND (expires_at IS NULL OR expires_at > :now)
                ORDER BY priority DESC, run_at, id LIMIT 1)
  RETURNING ${PICKED_COLUMNS}`;

/**
 * CLAIM_GROUP_HEAD of the first group with pending jobs after :after (up to :upto), found by the
 * same seek as groupAfter's, in one statement: a round-robin turn whose group has a ready head
 * and no groupConcurrency costs one statement, not two. Returns the group too (last column,
 * after PickedRow's). Nothing back means that group has no ready head, or there is no group:
 * the caller then seeks it apart. Four shapes, as groupAfter.
 */
const headAfter = (after: boolean, upto: boolean, limit = "1") => `${RESERVE}
   WHERE id = (SELECT id FROM spool_jobs
                WHERE queue = :queue AND state = 'pending'
                  AND grp = (${groupAfter(after, upto)})
                  AND run_at <= :now AND (expires_at IS NULL OR expires_at > :now)
                ORDER BY priority DESC, run_at, id LIMIT ${limit})
  RETURNING ${PICKED_COLUMNS}, grp`;

export const CLAIM_FIRST_HEAD = headAfter(false, false);
export const CLAIM_FIRST_HEAD_UPTO = headAfter(false, true);
export const CLAIM_NEXT_HEAD = headAfter(true, false);
export const CLAIM_NEXT_HEAD_UPTO = headAfter(true, true);

/**
 * CLAIM_NEXT_HEAD as a whole claim of one, with no transaction around it: only while the queue
 * is grouped and bound by nothing else (no pause, rate limit, concurrency or groupConcurrency),
 * which the statement reads itself, once, as its LIMIT (see UNLESS_HELD in queries.ts). Nothing
 * back: the caller runs the whole limited claim, which reads the queue's row in its transaction.
 */
export const CLAIM_NEXT_HEAD_ALONE = headAfter(
  true,
  false,
  `CASE WHEN EXISTS (SELECT 1 FROM spool_queues WHERE queue = :queue AND grouped AND NOT paused
                       AND rate_max IS NULL AND concurrency IS NULL AND group_concurrency IS NULL)
        THEN 1 ELSE 0 END`,
);

/**
 * Claims a FIFO group's head (groupConcurrency 1): its pending job with the lowest id, if that
 * one is ready. A head not ready yet (delayed, or waiting out a retry's backoff) holds the
 * group: nothing later of the group overtakes it. A head past its ttl holds nothing: it will
 * never run (expiry makes it dead), so the next one is the head. One seek on
 * spool_jobs_group_fifo, however many jobs the group holds: named, as the planner would rather
 * walk the whole table in id order (seen with ANALYZE statistics).
 */
export const CLAIM_GROUP_FIFO_HEAD = `${RESERVE}
   WHERE id = (SELECT id FROM spool_jobs INDEXED BY spool_jobs_group_fifo
                WHERE queue = :queue AND state = 'pending' AND grp IS NOT NULL AND grp = :grp
                  AND (expires_at IS NULL OR expires_at > :now)
                ORDER BY id LIMIT 1)
     AND run_at <= :now
  RETURNING ${PICKED_COLUMNS}`;

/** The ordered claim of a limited queue without groups (all grp NULL): READY with no look at the row. */
export const CLAIM_LIMITED = `${RESERVE}
   WHERE id IN (${READY} LIMIT :limit)
  RETURNING ${PICKED_COLUMNS}`;

export const SET_GROUP_CURSOR = `UPDATE spool_queues SET group_cursor = :grp WHERE queue = :queue`;

/** Whether the queue is grouped: an add to it gives ungrouped jobs the group ''. */
export const IS_GROUPED = `SELECT grouped FROM spool_queues WHERE queue = ?`;

/** The first grouped add of a queue makes it grouped. */
export const MARK_GROUPED = `
  INSERT INTO spool_queues (queue, grouped, updated_at) VALUES (:queue, 1, :now)
  ON CONFLICT (queue) DO UPDATE SET grouped = 1, updated_at = excluded.updated_at`;

/** …and its jobs from before (any that can run again) join the ungrouped group ''. */
export const UNGROUPED_JOIN = `
  UPDATE spool_jobs SET grp = '' WHERE queue = :queue AND grp IS NULL AND state <> 'completed'`;

/**
 * Upserts the limits a handle states: each `set_…` flag says whether its value is stated (null
 * then removes the limit); the row's other settings stay.
 */
export const STORE_LIMITS = `
  INSERT INTO spool_queues (queue, rate_max, rate_duration, concurrency, group_concurrency, updated_at)
  VALUES (:queue, :rate_max, :rate_duration, :concurrency, :group_concurrency, :now)
  ON CONFLICT (queue) DO UPDATE SET
    rate_max = CASE WHEN :set_rate THEN excluded.rate_max ELSE rate_max END,
    rate_duration = CASE WHEN :set_rate THEN excluded.rate_duration ELSE rate_duration END,
    concurrency = CASE WHEN :set_concurrency THEN excluded.concurrency ELSE concurrency END,
    group_concurrency = CASE WHEN :set_group THEN excluded.group_concurrency ELSE group_concurrency END,
    updated_at = excluded.updated_at`;

/** A queue whose rate limit went: its window is dropped. */
export const STARTS_CLEAR = `DELETE FROM spool_starts WHERE queue = :queue`;

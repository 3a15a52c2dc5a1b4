// The SQLite schema as numbered migrations (the same shape as the PostgreSQL backend's), applied
// in order on open by connection.ts. PRAGMA user_version records which ones a database has.
import { SpoolError } from "../../errors.js";
import { latestVersion, type Migration } from "../shared.js";
import {
  DEPENDENCIES_MIGRATION,
  DEPENDENCY_TRIGGERS,
  DEPENDENCY_TRIGGERS_ON_DEMAND,
} from "./dependencies-schema.js";
import { type Connection, sqliteCode } from "./driver.js";

/** Tables Spool owns: a database that has one of these without being Spool's is refused. */
export const SPOOL_TABLES = ["spool_jobs", "spool_queues"] as const;

/**
 * A migration, and what it runs after its SQL when that depends on the store: `from` is the
 * version the store had when this open began migrating it.
 */
interface SqliteMigration extends Migration {
  after?: (db: Connection, from: number) => void;
  /** Added to the error when the migration's SQL fails (not when it waits for a lock). */
  hint?: string;
}

export const MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "init",
    sql: `
  CREATE TABLE spool_jobs (
     id           INTEGER PRIMARY KEY,            -- never reused: see PLACEHOLDER in queries.ts
     queue        TEXT    NOT NULL,
     state        TEXT    NOT NULL,               -- pending, reserved, completed, dead (no CHECK: it cost 30% of an insert)
     priority     INTEGER NOT NULL DEFAULT 0,
     run_at       INTEGER NOT NULL,               -- ms since the epoch
     payload      BLOB    NOT NULL,
     format       INTEGER NOT NULL,               -- 0 JSON, 1 raw bytes, 2 custom codec
     attempts     INTEGER NOT NULL DEFAULT 0,
     max_attempts INTEGER NOT NULL,
     key          TEXT,
     backoff      TEXT,
     created_at   INTEGER NOT NULL,
     lease_until  INTEGER,
     expires_at   INTEGER,                        -- ttl deadline of a never-started job
     finished_at  INTEGER,
     last_error   TEXT,
     result       BLOB,
     result_format INTEGER
   ) STRICT;
   -- Matches the claim's ORDER BY exactly, so taking the next job costs the same at any depth.
   CREATE INDEX spool_jobs_ready ON spool_jobs (queue, priority DESC, run_at, id) WHERE state = 'pending';
   -- Every row that is not pending, by state and finish time: lease rescue (reserved rows),
   -- counts, retention (completed and dead by age). Pending rows stay out of it, so an insert
   -- touches one index only (the ready one), and a claim or a completion one more.
   CREATE INDEX spool_jobs_done ON spool_jobs (queue, state, finished_at) WHERE state <> 'pending';
   CREATE UNIQUE INDEX spool_jobs_key ON spool_jobs (queue, key)
     WHERE key IS NOT NULL AND state IN ('pending', 'reserved');`,
  },
  {
    version: 2,
    name: "claim_token_and_expiry",
    sql: `
   -- The lease token: how many times a job was ever claimed. attempts restarts on retry and
   -- goes down on release; claims never does, so a stale holder cannot pass for a later one.
   ALTER TABLE spool_jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
   UPDATE spool_jobs SET claims = attempts;
   -- Never-started jobs with a ttl, by deadline: expiry finds them without scanning the queue.
   -- Only jobs that have a ttl enter it, so a plain insert pays nothing for it.
   CREATE INDEX spool_jobs_expiry ON spool_jobs (queue, expires_at)
     WHERE state = 'pending' AND expires_at IS NOT NULL;`,
  },
  {
    // Settings every process must agree on, one row per queue. A NULL column was never stated
    // (the contract's default applies); later settings (pause, rate limits, concurrency) become
    // columns of this row. Durations are REAL: ms may be fractional.
    version: 3,
    name: "queue_settings",
    sql: `
  CREATE TABLE spool_queues (
     queue               TEXT PRIMARY KEY,
     retention_completed REAL,                    -- ms; 0 deletes jobs on completion
     retention_dead      REAL,                    -- ms
     updated_at          INTEGER NOT NULL         -- ms since the epoch, of the last change
   ) STRICT, WITHOUT ROWID;`,
  },
  {
    // Pause (a queue setting every process must obey, read by the claim itself) and progress
    // (JSON of what the job's holder last reported; kept across retries).
    version: 4,
    name: "pause_and_progress",
    sql: `
  ALTER TABLE spool_queues ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE spool_jobs ADD COLUMN progress TEXT;`,
  },
  {
    // The producer's trace context (JSON of the W3C carrier: traceparent, tracestate) of a job
    // added inside a sampled span; NULL otherwise, so an untraced add writes nothing more.
    version: 5,
    name: "trace_context",
    sql: `
   ALTER TABLE spool_jobs ADD COLUMN trace TEXT;`,
  },
  {
    // Cron schedules, one row per name. next_at is the earliest fire not yet decided: the fire
    // transition moves it with a compare-and-set in the transaction that enqueues the jobs.
    version: 6,
    name: "schedules",
    sql: `
  CREATE TABLE spool_schedules (
     name       TEXT PRIMARY KEY,
     queue      TEXT    NOT NULL,
     cron       TEXT    NOT NULL,
     tz         TEXT    NOT NULL,                 -- IANA zone the cron is read in
     catch_up   TEXT    NOT NULL,                 -- none, last, all
     payload    BLOB    NOT NULL,
     format     INTEGER NOT NULL,                 -- as spool_jobs.format
     options    TEXT    NOT NULL,                 -- JSON of the fired jobs' add options
     next_at    INTEGER NOT NULL,                 -- ms since the epoch
     last_at    INTEGER,                          -- ms since the epoch of the latest fire enqueued
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;`,
  },
  {
    // Limits every process obeys, read by the claim itself (limited-claim.ts): a sliding window
    // of starts, global and per-group concurrency. grouped: the queue ever had a grouped job
    // (its claims then serve groups round-robin; its ungrouped jobs are the group ''), and
    // group_cursor the last group served. Jobs gain their group; migration 8 keys the ready and
    // done indexes on it. Plain jobs (grp NULL) stay out of the index below, so they cost
    // nothing more.
    version: 7,
    name: "limits_and_groups",
    sql: `
  ALTER TABLE spool_queues ADD COLUMN rate_max INTEGER;
  ALTER TABLE spool_queues ADD COLUMN rate_duration INTEGER;   -- ms
  ALTER TABLE spool_queues ADD COLUMN concurrency INTEGER;
  ALTER TABLE spool_queues ADD COLUMN group_concurrency INTEGER;
  ALTER TABLE spool_queues ADD COLUMN grouped INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE spool_queues ADD COLUMN group_cursor TEXT;
  ALTER TABLE spool_jobs ADD COLUMN grp TEXT;
  -- Each group's pending jobs by id: the head of a groupConcurrency-1 group (strict FIFO) is one
  -- seek, where the ready index would walk the whole group for its lowest id.
  CREATE INDEX spool_jobs_group_fifo ON spool_jobs (queue, grp, id)
    WHERE grp IS NOT NULL AND state = 'pending';
  -- The sliding window of a rate-limited queue: one row per claim, with how many it started.
  CREATE TABLE spool_starts (
     queue TEXT    NOT NULL,
     at    INTEGER NOT NULL,                      -- ms since the epoch, of the claim
     n     INTEGER NOT NULL
   ) STRICT;
  CREATE INDEX spool_starts_at ON spool_starts (queue, at);`,
  },
  {
    // The ready and done indexes gain the group, so a grouped job costs one index more than a
    // plain one, not three (measured: a grouped reserve+complete cost 1.9x a plain one with
    // separate group indexes, most of it in the pages each commit wrote). The ready index, in
    // (grp, claim order), gives each group's head in claim order (one seek) and a plain queue's
    // jobs (grp NULL, one range) in claim order as before; the done index, with grp after the
    // finish time, counts a group's reserved jobs (all with no finish time) in one range. Plain
    // jobs' entries grow by one NULL byte. Rebuilding both reads every job once.
    version: 8,
    name: "group_keyed_indexes",
    sql: `
  DROP INDEX IF EXISTS spool_jobs_groups;
  DROP INDEX spool_jobs_ready;
  CREATE INDEX spool_jobs_ready ON spool_jobs (queue, grp, priority DESC, run_at, id) WHERE state = 'pending';
  DROP INDEX spool_jobs_done;
  CREATE INDEX spool_jobs_done ON spool_jobs (queue, state, finished_at, grp) WHERE state <> 'pending';`,
  },
  {
    version: 9,
    name: "dependencies",
    sql: DEPENDENCIES_MIGRATION,
  },
  {
    version: 10,
    name: "dependency_triggers_on_demand",
    sql: DEPENDENCY_TRIGGERS_ON_DEMAND,
    // A store that was at version 9 keeps its triggers: a process of that version may still run
    // on it (a rolling upgrade), and it adds links believing them there. A store below 9 (or
    // new) has no links and no process that could add one without creating them.
    after: (db, from) => {
      if (from >= 9) for (const trigger of DEPENDENCY_TRIGGERS) db.exec(trigger);
    },
  },
  {
    // Payloads of 4 KiB or more move out of the job's row (BODY_APART_BYTES, read-queries.ts),
    // so a claim or a completion rewrites a small row, not the payload. The column is renamed,
    // not kept: a process of an earlier version still running on the store would read a
    // kept-apart job's empty column as its payload; its statements now fail to prepare, loudly,
    // with no job touched. Jobs already stored keep their payloads in their rows.
    version: 11,
    name: "payloads_apart",
    // RENAME COLUMN checks every view and trigger in the file, the application's too (a store
    // shared with it: Spool.open(db)); one that SQLite cannot resolve on Spool's connection
    // (over a table since dropped, or a function or module only the application registers)
    // stops it. Nothing is changed then, and the message says what to mend.
    hint: "upgrading to schema version 11 renames spool_jobs.payload, and SQLite checks every view and trigger of the file when a column is renamed: mend or drop the one named, then open again; the file is unchanged",
    sql: `
  ALTER TABLE spool_jobs RENAME COLUMN payload TO body;
  ALTER TABLE spool_jobs ADD COLUMN body_apart INTEGER;  -- 1: the payload is in spool_bodies, body is empty
  CREATE TABLE spool_bodies (
     id   INTEGER PRIMARY KEY,                     -- the job's id
     body BLOB    NOT NULL
  ) STRICT;`,
  },
];

export const LATEST_VERSION = latestVersion(MIGRATIONS);

/** Refuses a database that is not ours; returns its schema version (0: not yet a Spool one). */
export function checkOwnership(db: Connection, path: string): number {
  // One read transaction, so the version and the tables come from one snapshot: read apart, a
  // migration committed in between by another process would look like a foreign table.
  const { version, tables } = db.transaction(
    () => ({
      version: db.preparePluck("PRAGMA user_version").get() as number,
      tables: db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${SPOOL_TABLES.map(() => "?").join(",")})`,
        )
        .all(...SPOOL_TABLES) as { name: string }[],
    }),
    "deferred",
  );
  if (version > LATEST_VERSION) {
    throw new SpoolError(
      "STORAGE",
      `${path} was written by a newer Spool (schema version ${version}; this one knows up to ${LATEST_VERSION}): upgrade Spool to open it`,
    );
  }
  if (version === 0 && tables.length > 0) {
    throw new SpoolError(
      "STORAGE",
      `${path} is not a Spool database: it already has a table named ${tables[0]?.name} of another application`,
    );
  }
  if (version > 0 && tables.length === 0) {
    throw new SpoolError(
      "STORAGE",
      `${path} is not a Spool database: another application set its user_version to ${version}`,
    );
  }
  return version;
}

/** Applies the missing migrations in one IMMEDIATE transaction (the caller retries on busy). */
export function migrate(db: Connection): void {
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const current = db.preparePluck("PRAGMA user_version").get() as number;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      try {
        db.exec(m.sql);
      } catch (error) {
        if (m.hint !== undefined && error instanceof Error && sqliteCode(error) === "SQLITE_ERROR") {
          error.message = `${error.message} (${m.hint})`;
        }
        throw error;
      }
      m.after?.(db, current);
      db.exec(`PRAGMA user_version = ${m.version}`);
    }
  }, "immediate");
}

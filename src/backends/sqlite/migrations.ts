// The SQLite schema as numbered migrations, applied in order on open and tracked with
// PRAGMA user_version. Kept as code so nothing reads files at run time.

/** Tables Spool owns: a database that has one of these without being Spool's is refused. */
export const SPOOL_TABLES = ["spool_jobs", "spool_queues"] as const;

export const MIGRATIONS: readonly string[] = [
  // 0001_init
  `CREATE TABLE spool_jobs (
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
  // 0002_claim_token_and_expiry
  `-- The lease token: how many times a job was ever claimed. attempts restarts on retry and
   -- goes down on release; claims never does, so a stale holder cannot pass for a later one.
   ALTER TABLE spool_jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
   UPDATE spool_jobs SET claims = attempts;
   -- Never-started jobs with a ttl, by deadline: expiry finds them without scanning the queue.
   -- Only jobs that have a ttl enter it, so a plain insert pays nothing for it.
   CREATE INDEX spool_jobs_expiry ON spool_jobs (queue, expires_at)
     WHERE state = 'pending' AND expires_at IS NOT NULL;`,
  // 0003_queue_settings: settings every process must agree on, one row per queue. A NULL
  // column was never stated (the contract's default applies); later settings (pause, rate
  // limits, concurrency) become columns of this row. Durations are REAL: ms may be fractional.
  `CREATE TABLE spool_queues (
     queue               TEXT PRIMARY KEY,
     retention_completed REAL,                    -- ms; 0 deletes jobs on completion
     retention_dead      REAL,                    -- ms
     updated_at          INTEGER NOT NULL         -- ms since the epoch, of the last change
   ) STRICT, WITHOUT ROWID;`,
];

/*
 * The PostgreSQL schema as numbered migrations (the same shape as the SQLite backend's), applied
 * in order on open by `migrate` below. `{S}` stands for the quoted schema name. The table
 * `schema_version` records which ones a schema has.
 */
import type { PoolClient } from "pg";
import { SpoolError } from "../../errors.js";
import { latestVersion, type Migration, olderStoreError } from "../shared.js";
import { DEPENDENCIES_MIGRATION } from "./dependency-queries.js";
import { CLAIM_LIMITED_FUNCTION, LIMITS_MIGRATION } from "./limited-claim.js";
import { plannedOnceFunctions } from "./planned-once.js";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "init",
    sql: `
CREATE TABLE {S}.jobs (
  id            bigserial PRIMARY KEY,
  queue         text        NOT NULL,
  -- The stored state; "delayed" is derived (pending with run_at ahead of now()).
  state         text        NOT NULL CHECK (state IN ('pending', 'reserved', 'completed', 'dead')),
  payload       bytea       NOT NULL,
  format        smallint    NOT NULL,
  -- bigint: any JS safe integer is a valid priority.
  priority      bigint      NOT NULL DEFAULT 0,
  attempts      integer     NOT NULL DEFAULT 0,
  max_attempts  integer     NOT NULL,
  key           text,
  backoff       text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  run_at        timestamptz NOT NULL,
  -- Set only while the job was never started: past it, the job is dead with "expired".
  expires_at    timestamptz,
  lease_until   timestamptz,
  finished_at   timestamptz,
  last_error    text,
  result        bytea,
  result_format smallint
);
-- Matches the claim's ORDER BY exactly, restricted to the rows a claim can take.
CREATE INDEX jobs_ready ON {S}.jobs (queue, priority DESC, run_at, id) WHERE state = 'pending';
-- (Migration 7 replaces it with jobs_groups, the same order behind the group.)
-- Next due time (nextDueIn, oldestPendingAge) across priorities.
CREATE INDEX jobs_due ON {S}.jobs (queue, run_at) WHERE state = 'pending';
-- Lapsed leases and ttl expiry, scanned before every claim.
CREATE INDEX jobs_lease ON {S}.jobs (queue, lease_until) WHERE state = 'reserved';
CREATE INDEX jobs_expiry ON {S}.jobs (queue, expires_at) WHERE state = 'pending' AND expires_at IS NOT NULL;
-- Browsing, counting and purging one state of one queue.
CREATE INDEX jobs_state ON {S}.jobs (queue, state, id);
CREATE INDEX jobs_finished ON {S}.jobs (queue, state, finished_at) WHERE state IN ('completed', 'dead');
-- Dedupe: one live job per key and queue.
CREATE UNIQUE INDEX jobs_key ON {S}.jobs (queue, key) WHERE key IS NOT NULL AND state IN ('pending', 'reserved');
`,
  },
  {
    version: 2,
    name: "claim_token",
    sql: `
-- The lease token: how many times a job was ever claimed. attempts restarts on retry and goes
-- down on release; claims never does, so a stale holder cannot pass for a later one.
ALTER TABLE {S}.jobs ADD COLUMN claims integer NOT NULL DEFAULT 0;
UPDATE {S}.jobs SET claims = attempts WHERE attempts > 0;
`,
  },
  {
    // Settings every process must agree on, one row per queue. A NULL column was never stated
    // (the contract's default applies); pause, rate limits and concurrency join as columns.
    version: 3,
    name: "queue_settings",
    sql: `
CREATE TABLE {S}.queues (
  queue               text PRIMARY KEY,
  -- ms (float8: a stated duration may be fractional); completed 0 deletes on completion.
  retention_completed float8,
  retention_dead      float8,
  updated_at          timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    // Pause (a queue setting every process must obey, read by the claim itself) and progress
    // (JSON of what the job's holder last reported; kept across retries).
    version: 4,
    name: "pause_and_progress",
    sql: `
ALTER TABLE {S}.queues ADD COLUMN paused boolean NOT NULL DEFAULT false;
ALTER TABLE {S}.jobs ADD COLUMN progress text;
`,
  },
  {
    // The producer's trace context (JSON of the W3C carrier: traceparent, tracestate) of a job
    // added inside a sampled span; NULL otherwise, so an untraced add writes nothing more.
    version: 5,
    name: "trace_context",
    sql: `
ALTER TABLE {S}.jobs ADD COLUMN trace text;
`,
  },
  {
    // Cron schedules, one row per name. next_at is the earliest fire not yet decided: the fire
    // transition moves it with a compare-and-set in the transaction that enqueues the jobs.
    // Fire times are ms computed by the core from the cron, kept exact as bigint.
    version: 6,
    name: "schedules",
    sql: `
CREATE TABLE {S}.schedules (
  name       text PRIMARY KEY,
  queue      text     NOT NULL,
  cron       text     NOT NULL,
  -- The IANA zone the cron is read in.
  tz         text     NOT NULL,
  catch_up   text     NOT NULL CHECK (catch_up IN ('none', 'last', 'all')),
  payload    bytea    NOT NULL,
  format     smallint NOT NULL,
  -- JSON of the fired jobs' add options.
  options    text     NOT NULL,
  next_at    bigint   NOT NULL,
  last_at    bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    // Limits every process obeys, enforced by the claim itself (claim_limited below): a sliding
    // window of starts, global and per-group concurrency, round-robin over groups. grouped: the
    // queue ever had a grouped job; group_cursor: the last group served ('' the ungrouped jobs).
    version: 7,
    name: "limits_and_groups",
    sql: LIMITS_MIGRATION,
  },
  {
    // Job dependencies (AddOptions.dependsOn): the waiting state, the links and the triggers
    // that move a job's dependents when it ends (dependencies.ts).
    // Also brings a store that ran an earlier draft of migration 7 (never released, but run by
    // development builds) to its final form: jobs_groups serves plain claims, so jobs_ready goes,
    // and claim_limited orders by group.
    version: 8,
    name: "dependencies",
    sql: `DROP INDEX IF EXISTS {S}.jobs_ready;\n${CLAIM_LIMITED_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")}\n${DEPENDENCIES_MIGRATION}`,
  },
  {
    // The claim, receive, completion and failure as functions that plan once per connection
    // (planned-once.ts): planning them at every run was half a claim's time.
    version: 9,
    name: "planned_once",
    sql: plannedOnceFunctions(),
  },
  {
    // A job's id is a JS number, exact up to 2^53 − 1 (Number.MAX_SAFE_INTEGER): read back
    // rounded, a larger one would name a neighbour. The sequence stops there, so an add past it
    // fails, writing nothing. Not on a schema whose sequence is past it already (only a hand's
    // setval puts it there): ALTER SEQUENCE would refuse, and every open with it. No CHECK on the
    // rows: a row already past it could then never be claimed again (every UPDATE of it fails).
    version: 10,
    name: "safe_ids",
    sql: `
DO $$ BEGIN
  IF (SELECT last_value FROM {S}.jobs_id_seq) <= 9007199254740991 THEN
    ALTER SEQUENCE {S}.jobs_id_seq MAXVALUE 9007199254740991;
  END IF;
END $$;`,
  },
];

export const LATEST_VERSION = latestVersion(MIGRATIONS);

/** The least time an open waits for another process's migration to finish. */
const MIGRATION_WAIT_MS = 60_000;

/** The schema's version: null when it holds no Spool tables at all. Reads, never locks. */
async function readVersion(client: PoolClient, schema: string, quoted: string): Promise<number | null> {
  // The catalog itself, read with this statement's snapshot: name look-ups (to_regclass) go
  // through caches that need not have seen yet what the migration we waited for committed.
  const found = await client.query(
    `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = 'schema_version'`,
    [schema],
  );
  if (found.rows.length === 0) return null;
  const rows = await client.query<{ v: number | null }>(
    `SELECT max(version) AS v FROM ${quoted}.schema_version`,
  );
  return rows.rows[0]?.v ?? 0;
}

/** A fresh schema's first DDL: the schema itself (unless it exists) and the version table. */
async function createVersionTable(client: PoolClient, schema: string, quoted: string): Promise<void> {
  const exists = await client.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [schema]);
  if (exists.rows.length === 0) await client.query(`CREATE SCHEMA ${quoted}`);
  await client.query(
    `CREATE TABLE ${quoted}.schema_version (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now())`,
  );
}

function refuseNewer(schema: string, current: number): void {
  if (current > LATEST_VERSION) {
    throw new SpoolError(
      "STORAGE",
      `the PostgreSQL schema "${schema}" was written by a newer Spool (schema version ${current}; ` +
        `this version knows up to ${LATEST_VERSION}): upgrade Spool to open it`,
    );
  }
}

/**
 * Brings the schema up to date. A current schema (the everyday open) is only read: no lock, no
 * DDL, so a role with nothing but DML rights opens it, and concurrent opens never wait on each
 * other. Only a missing or older schema takes the advisory lock, reads the version again under
 * it (another process may have just migrated) and runs what is missing, in one transaction, so
 * exactly one process runs each migration. With `create` false, a missing schema is refused
 * (`STORAGE`) and nothing is written.
 */
export async function migrate(
  client: PoolClient,
  schema: string,
  quoted: string,
  create: boolean,
  upgrade = true,
): Promise<void> {
  const seen = await readVersion(client, schema, quoted);
  if (seen === null && !create) {
    // An inspecting tool must not create a schema: only an existing Spool one will do.
    throw new SpoolError("STORAGE", `no Spool database in PostgreSQL schema "${schema}"`);
  }
  if (seen !== null) {
    refuseNewer(schema, seen);
    if (seen === LATEST_VERSION) return;
    if (!upgrade) {
      throw olderStoreError(`the PostgreSQL schema "${schema}"`, seen, LATEST_VERSION);
    }
  }
  await client.query("BEGIN");
  try {
    // Another process migrating is not contention on jobs: wait for it at least a minute,
    // whatever busyTimeout says (0 would fail every open but one of a fleet starting at once).
    // The DDL itself keeps the session's lock_timeout.
    await client.query(`SELECT set_config('lock_timeout', CASE WHEN w = 0 THEN '0' ELSE greatest(w, ${MIGRATION_WAIT_MS})::bigint::text END, true)
      FROM (SELECT extract(epoch from current_setting('lock_timeout')::interval) * 1000 AS w) AS t`);
    await client.query("SELECT pg_advisory_xact_lock(hashtext('spool.migrate'), hashtext($1))", [schema]);
    await client.query("SET LOCAL lock_timeout TO DEFAULT");
    // Read again before any DDL: the process we waited for has usually brought the schema up
    // to date, and then there is nothing to do. PostgreSQL checks the right to CREATE before it
    // looks whether the object exists, so even CREATE … IF NOT EXISTS would refuse a role with
    // DML rights only that merely opened during the owner's upgrade.
    const found = await readVersion(client, schema, quoted);
    if (found !== null) refuseNewer(schema, found);
    if (found === LATEST_VERSION) {
      await client.query("COMMIT");
      return;
    }
    if (found === null) {
      if (!create) throw new SpoolError("STORAGE", `no Spool database in PostgreSQL schema "${schema}"`);
      await createVersionTable(client, schema, quoted);
    }
    const current = found ?? 0;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql.split("{S}").join(quoted));
      await client.query(`INSERT INTO ${quoted}.schema_version (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

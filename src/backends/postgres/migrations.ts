/*
 * The PostgreSQL schema as numbered migrations, compiled in (nothing reads .sql files at run
 * time). `{S}` stands for the quoted schema name. A migration, once released, never changes:
 * a new one is appended instead, and `schema_version` records which ones a schema has.
 */
import type { PoolClient } from "pg";
import { SpoolError } from "../../errors.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

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
    // Settings every process must agree on, one row per queue. A NULL column was never stated
    // (the contract's default applies); pause, rate limits and concurrency join as columns.
    version: 2,
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
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Creates or upgrades the schema in one transaction. The advisory lock serialises processes
 * that open the same database at once, so exactly one of them runs each migration and the
 * others find it done.
 */
export async function migrate(client: PoolClient, schema: string, quoted: string): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('spool.migrate'), hashtext($1))", [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_version (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const found = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${quoted}.schema_version`,
    );
    const current = found.rows[0]?.v ?? 0;
    if (current > LATEST_VERSION) {
      throw new SpoolError(
        "STORAGE",
        `the PostgreSQL schema "${schema}" was written by a newer Spool (schema version ${current}; ` +
          `this version knows up to ${LATEST_VERSION}): upgrade Spool to open it`,
      );
    }
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

/*
 * A role with DML rights only that opens while the owner is upgrading the schema waits for the
 * upgrade, then finds the schema current and opens: it never runs DDL it has no right to (not
 * even CREATE … IF NOT EXISTS, whose right PostgreSQL checks before it looks).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import pg from "pg";
import { MIGRATIONS } from "../../src/backends/postgres/migrations.js";
import { Spool } from "../../src/index.js";
import { waitFor } from "../conformance/harness.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/migrate-wait-rights.test.ts");

function asUser(user: string): string {
  const url = new URL(PG_URL as string);
  url.username = user;
  url.password = "";
  return url.toString();
}

test("postgres: a DML-only role opening during the owner's upgrade opens once it is done", {
  skip: !run,
  timeout: 60_000,
}, async (t) => {
  const f = spoolFixture(t);
  await (await f.open()).close();
  const s = `"${f.schema}"`;
  // The schema as a Spool of version 1 left it: the owner's upgrade will bring it back.
  await sql(`DROP SCHEMA ${s} CASCADE`);
  await sql(`CREATE SCHEMA ${s}`);
  await sql(
    `CREATE TABLE ${s}.schema_version (version integer PRIMARY KEY, name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const [first, ...later] = MIGRATIONS;
  await sql((first?.sql ?? "").split("{S}").join(s));
  await sql(`INSERT INTO ${s}.schema_version (version, name) VALUES (1, 'init')`);
  const role = `spool_dml_${randomBytes(5).toString("hex")}`;
  await sql(`CREATE ROLE ${role} LOGIN`);
  const owner = new pg.Client({ connectionString: PG_URL });
  await owner.connect();
  let dml: Spool | undefined;
  t.after(async () => {
    await dml?.close().catch(() => {});
    await owner.end().catch(() => {});
    await sql(`DROP OWNED BY ${role}`);
    await sql(`DROP ROLE ${role}`);
  });
  await sql(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
  await sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`);
  await sql(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`);

  // The owner's upgrade, under the migration lock (as an owner's Spool.open takes it).
  await owner.query("BEGIN");
  await owner.query("SELECT pg_advisory_xact_lock(hashtext('spool.migrate'), hashtext($1))", [f.schema]);
  const opening = Spool.open(asUser(role), { schema: f.schema });
  opening.catch(() => {});
  await waitFor("the DML role's open to wait on the migration lock", async () => {
    const rows = await sql(
      `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND NOT l.granted AND a.usename = $1`,
      [role],
    );
    return rows.length > 0;
  });
  for (const m of later) {
    await owner.query(m.sql.split("{S}").join(s));
    await owner.query(`INSERT INTO ${s}.schema_version (version, name) VALUES ($1, $2)`, [m.version, m.name]);
  }
  await owner.query("COMMIT");
  // The owner grants the tables the upgrade created, as a deploy would (docs/postgres.md).
  await sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`);

  dml = await opening;
  const q = dml.queue<string>("q");
  const id = await q.add("after the upgrade");
  const job = await q.reserve();
  assert.equal(job?.id, id);
});

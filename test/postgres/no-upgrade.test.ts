// A tool must not upgrade a schema under the application that runs on it: opened with
// `migrate: false` (as every CLI command opens), an older schema is refused and left as it was.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { LATEST_VERSION, MIGRATIONS } from "../../src/backends/postgres/migrations.js";
import { Spool } from "../../src/index.js";
import { expectCode } from "../conformance/harness.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/no-upgrade.test.ts");

test("postgres: migrate: false refuses an older schema with STORAGE and leaves it as it was", {
  skip: !run,
  timeout: 30_000,
}, async (t) => {
  const schema = `spool_t_${randomBytes(6).toString("hex")}`;
  const s = `"${schema}"`;
  t.after(() => sql(`DROP SCHEMA IF EXISTS ${s} CASCADE`));
  await sql(`CREATE SCHEMA ${s}`);
  await sql(
    `CREATE TABLE ${s}.schema_version (version integer PRIMARY KEY, name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  await sql((MIGRATIONS[0]?.sql ?? "").split("{S}").join(s));
  await sql(`INSERT INTO ${s}.schema_version (version, name) VALUES (1, 'init')`);
  const version = async () =>
    (await sql<{ v: number }>(`SELECT max(version) AS v FROM ${s}.schema_version`))[0]?.v;

  await expectCode(() => Spool.open(PG_URL as string, { schema, migrate: false }), "STORAGE", "older Spool");
  assert.equal(await version(), 1);
  const spool = await Spool.open(PG_URL as string, { schema });
  t.after(() => spool.close());
  assert.equal(await version(), LATEST_VERSION, "the application's own open upgrades it");
});

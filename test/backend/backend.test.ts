// The backend suite on every store: a SQLite file, SQLite ":memory:", and PostgreSQL (a fresh
// schema per test) when SPOOL_PG_URL is set. CI always sets it; an unreachable server then
// fails the run rather than skipping it.
import assert from "node:assert/strict";
import { before, describe } from "node:test";
import { postgresFixture, sqliteFileFixture, sqliteMemoryFixture } from "../conformance/harness.js";
import { backendSuite, postgresOnly } from "./index.js";

for (const fixture of [sqliteFileFixture(), sqliteMemoryFixture()]) {
  describe(`backend: ${fixture.name}`, () => backendSuite(fixture));
}

const url = process.env.SPOOL_PG_URL;
if (!url) {
  console.log("PostgreSQL backend suite skipped: set SPOOL_PG_URL to run it");
} else {
  const fixture = postgresFixture(url);
  describe(`backend: ${fixture.name}`, () => {
    before(async () => {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
      await assert.doesNotReject(client.connect(), `PostgreSQL at ${url} is unreachable`);
      await client.end();
    });
    backendSuite(fixture);
    postgresOnly();
  });
}

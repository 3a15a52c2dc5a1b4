// The conformance suite on PostgreSQL (a fresh schema per test), when SPOOL_PG_URL is set.
// CI always sets it; an unreachable server then fails the run rather than skipping it.
import assert from "node:assert/strict";
import { before, describe } from "node:test";
import { conformance, postgresFixture, processConformance } from "../conformance/index.js";

const url = process.env.SPOOL_PG_URL;
if (!url) {
  console.log("PostgreSQL suite skipped: set SPOOL_PG_URL to run it");
} else {
  const fixture = postgresFixture(url);
  describe(fixture.name, () => {
    before(async () => {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
      await assert.doesNotReject(client.connect(), `PostgreSQL at ${url} is unreachable`);
      await client.end();
    });
    conformance(fixture);
    processConformance(fixture);
  });
}

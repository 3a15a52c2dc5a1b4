/*
 * A role (or database) whose default isolation is repeatable read or serializable: a statement
 * of Spool's that waited for another transaction's write of its row then fails with a
 * serialization failure ("could not serialize access due to concurrent update"), where read
 * committed would re-read the row. Spool runs such a transaction again, so the user sees the
 * call succeed. (The waiting lease renewal, which must not lose its place in line, sets read
 * committed itself: test/postgres/waiting-renewals.test.ts.)
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import pg from "pg";
import { waitFor } from "../conformance/harness.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/isolation.test.ts");
const T = { timeout: 60_000 };

describe("postgres: a role whose default isolation is not read committed", { skip: !run }, () => {
  for (const level of ["repeatable read", "serializable"]) {
    test(`at ${level}, a completion that waited for another write of its row completes`, T, async (t) => {
      const role = `spool_iso_${randomBytes(5).toString("hex")}`;
      await sql(`CREATE ROLE ${role} LOGIN`);
      await sql(`ALTER ROLE ${role} SET default_transaction_isolation = '${level}'`);
      await sql(
        `DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ${role}', current_database()); END $$`,
      );
      const f = spoolFixture(t);
      t.after(async () => {
        await sql(`DROP OWNED BY ${role}`);
        await sql(`DROP ROLE ${role}`);
      });
      const url = new URL(PG_URL as string);
      url.username = role;
      url.password = "";
      const spool = await f.open({ busyTimeout: 20_000 }, url.toString());
      const q = spool.queue<string>("q");
      const id = await q.add("x");
      const job = await q.reserve();
      assert.equal(job?.id, id);
      const other = new pg.Client({ connectionString: PG_URL });
      await other.connect();
      t.after(() => other.end());
      await other.query("BEGIN");
      await other.query(`UPDATE "${f.schema}".jobs SET progress = progress WHERE id = $1`, [id]);
      const completing = q.complete(id).then(
        () => null,
        (error: unknown) => error,
      );
      await waitFor("the completion waiting for the row", async () => {
        const rows = await sql(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [`spool ${f.schema}`],
        );
        return Number(rows[0]?.n) > 0;
      });
      await other.query("COMMIT");
      assert.equal(await completing, null);
      assert.equal((await q.get(id))?.state, "completed");
    });
  }
});

/*
 * Opening a current schema reads its version and nothing more: no lock, no DDL. So a role with
 * only the rights to use the tables (the usual production setup) opens and works, and many
 * processes opening at once never wait on each other, even with busyTimeout 0.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/open-rights.test.ts");
const T = { timeout: 60_000 };

/** The server URL with another user in it (trust auth: no password). */
function asUser(user: string): string {
  const url = new URL(PG_URL as string);
  url.username = user;
  url.password = "";
  return url.toString();
}

describe("postgres: opening a current schema", { skip: !run }, () => {
  test("a role with DML rights only opens it and adds, reserves and completes", T, async (t) => {
    const f = spoolFixture(t);
    const owner = await f.open();
    await owner.queue("q").add("made by the owner");
    const role = `spool_dml_${randomBytes(5).toString("hex")}`;
    const s = `"${f.schema}"`;
    await sql(`CREATE ROLE ${role} LOGIN`);
    let dml: Spool | undefined;
    t.after(async () => {
      await dml?.close().catch(() => {});
      // Every grant goes with DROP OWNED; the role can then be dropped.
      await sql(`DROP OWNED BY ${role}`);
      await sql(`DROP ROLE ${role}`);
    });
    await sql(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
    await sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`);
    await sql(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`);

    for (const create of [false, true]) {
      dml = await Spool.open(asUser(role), { schema: f.schema, create });
      const q = dml.queue<string>("q");
      const id = await q.add(`made by the DML role, create: ${create}`);
      assert.ok(id > 0);
      const job = await q.reserve();
      assert.ok(job !== null);
      await q.complete(job);
      assert.equal((await q.get(job.id))?.state, "completed");
      await dml.close();
      dml = undefined;
    }
    assert.equal((await owner.queue("q").size()).completed, 2);
  });

  test("8 concurrent opens with busyTimeout 0 all succeed", T, async (t) => {
    const f = spoolFixture(t);
    await f.open();
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => f.open({ busyTimeout: 0 })));
      const failed = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
      assert.deepEqual(failed, [], `round ${round}`);
    }
  });

  test("a missing schema is created by one of 8 concurrent opens, the others wait for it", T, async (t) => {
    const f = spoolFixture(t);
    // busyTimeout 0: waiting for another process's migration is not a busy store.
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => f.open({ busyTimeout: 0 })));
    assert.deepEqual(
      results.filter((r) => r.status === "rejected").map((r) => String(r.reason)),
      [],
    );
    const versions = await sql(`SELECT count(*)::int AS n FROM "${f.schema}".schema_version`);
    assert.ok((versions[0]?.n as number) >= 1);
  });
});

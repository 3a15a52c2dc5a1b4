/*
 * A job's id is a JS number, exact up to 2^53 − 1; PostgreSQL's bigserial goes to 2^63 − 1. The
 * id sequence stops at 2^53 − 1, so no id Spool hands out is rounded: an add past it fails with
 * STORAGE and writes nothing. The SQLite side: test/sqlite/take-ids.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expectCode } from "../conformance/harness.js";
import { pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/safe-ids.test.ts");
const T = { timeout: 60_000 };
const MAX_SAFE = "9007199254740991";

describe("postgres: job ids stay within 2^53 − 1", { skip: !run }, () => {
  test("the last safe id is given, the next add fails and writes nothing", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<string>("q");
    await sql(`SELECT setval('"${f.schema}".jobs_id_seq', ${MAX_SAFE} - 1)`);
    assert.equal(await q.add("last"), Number.MAX_SAFE_INTEGER);
    const error = await expectCode(() => q.add("past"), "STORAGE");
    assert.match(error.message, /9007199254740991|maximum/);
    await expectCode(() => q.addBatch(["a", "b"]), "STORAGE");
    const rows = await sql(`SELECT id::text AS id FROM "${f.schema}".jobs`);
    assert.deepEqual(
      rows.map((r) => r.id),
      [MAX_SAFE],
    );
    const job = await q.reserve();
    assert.equal(job?.id, Number.MAX_SAFE_INTEGER);
  });

  test("a schema whose sequence a hand moved past it still opens, and its jobs are served", T, async (t) => {
    const f = spoolFixture(t);
    const first = await f.open();
    const q1 = first.queue<string>("q");
    const id = await q1.add("before");
    await first.close();
    // As the schema was before migration 10, with its sequence moved past 2^53 − 1 by hand.
    await sql(`ALTER SEQUENCE "${f.schema}".jobs_id_seq NO MAXVALUE`);
    await sql(`SELECT setval('"${f.schema}".jobs_id_seq', ${MAX_SAFE} + 10)`);
    await sql(`DELETE FROM "${f.schema}".schema_version WHERE version = 10`);
    const spool = await f.open();
    const job = await spool.queue<string>("q").reserve();
    assert.equal(job?.id, id);
    await spool.queue<string>("q").complete(job as NonNullable<typeof job>);
    const versions = await sql(`SELECT max(version) AS v FROM "${f.schema}".schema_version`);
    assert.equal(Number(versions[0]?.v), 10);
  });
});

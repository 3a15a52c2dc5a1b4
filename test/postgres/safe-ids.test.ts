/*
 * A job's id is a JS number, exact up to 2^53 − 1; PostgreSQL's bigserial goes to 2^63 − 1. The
 * schema refuses ids past it (the sequence's maximum and a CHECK), so no rounded id can ever name
 * a neighbour: an add past it fails with STORAGE and writes nothing, and another writer's insert
 * of such an id is refused by the database itself. The SQLite side: test/sqlite/take-ids.test.ts.
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

  test("another writer cannot put a job past it", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    await spool.queue<string>("q").add("one");
    await assert.rejects(sql(`UPDATE "${f.schema}".jobs SET id = ${MAX_SAFE} + 2`), (error: Error) =>
      /check constraint/.test(error.message),
    );
  });
});

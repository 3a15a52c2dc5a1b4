/*
 * Claim order is priority, then runAt, then id (API.md), and runAt is a millisecond Date. Found
 * by the randomized model test: PostgreSQL kept run_at to the microsecond, so a job retried in
 * the same millisecond as another was added, but later in it, was claimed after it although its
 * id is lower (SQLite keeps milliseconds and claims it first). Every run_at Spool writes, and
 * the completion time a dependent's run_at is taken from, is now whole milliseconds.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/run-at-ms.test.ts");

describe("postgres: run_at in whole milliseconds", { skip: !run }, () => {
  test("added with a delay, failed with a retry, retried when dead, released by a dependency", async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<number>("q");
    const later = spool.queue<number>("later");
    await later.add(1, { delay: 7 });
    await later.add(2);
    await q.add(3);
    let job = await q.reserve();
    assert.ok(job);
    assert.equal(await q.fail(job, "again", { retryIn: 60_003 }), "pending");
    const dep = await q.add(4, { maxAttempts: 1 });
    const dependent = await spool.queue<number>("deps").add(5, { dependsOn: [dep] });
    for (;;) {
      job = await q.reserve();
      assert.ok(job, "a job to run");
      if (job.id === dep) break;
      await q.complete(job);
    }
    await q.complete(job);
    const dead = await q.add(6, { maxAttempts: 1 });
    const taken = await q.reserve();
    assert.equal(taken?.id, dead);
    await q.fail(taken, "dead");
    assert.equal(await q.retry([dead]), 1);
    const rows = await sql(
      `SELECT id::float8 AS id, (extract(microseconds FROM run_at)::bigint % 1000)::int AS micros
         FROM "${f.schema}".jobs WHERE state IN ('pending', 'waiting') ORDER BY id`,
    );
    assert.ok(
      rows.some((r) => Number(r.id) === dependent),
      "the dependent was released",
    );
    assert.deepEqual(
      rows.filter((r) => Number(r.micros) !== 0),
      [],
      "no run_at with a part below the millisecond",
    );
  });
});

describe("postgres: a delay kept to the whole millisecond is never shorter than asked", {
  skip: !run,
}, () => {
  test("run_at is at least the delay after the add's own clock", async (t) => {
    // Found by review: rounded down, a delay of 3 ms made 14 of 40 jobs ready 2.4 ms after the add.
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<number>("q");
    for (let i = 0; i < 40; i++) await q.add(i, { delay: 3 });
    const now = spool.queue<number>("now");
    await now.add(1); // no delay: ready at once, not a millisecond on
    assert.equal((await now.reserve())?.payload, 1, "a job added with no delay is ready at once");
    const short = await sql(
      `SELECT id::float8 AS id FROM "${f.schema}".jobs
        WHERE payload IS NOT NULL AND run_at < created_at + interval '3 milliseconds' AND queue = 'q'`,
    );
    assert.deepEqual(short, [], "no job due before its delay");
  });
});

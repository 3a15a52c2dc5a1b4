/*
 * Dependencies under PostgreSQL's row locks (found by a hostile review, each failing first):
 * - an application's open transaction that added a job on a dependency holds that row: the
 *   worker's grouped completion of it waits, and past busyTimeout must fail that job alone, not
 *   the unrelated jobs completed in the same statement (they would run again);
 * - two dependents of one result deleted at once must not both keep the result for ever;
 * - while that held-up completion waits, the worker's heartbeat still renews its other jobs:
 *   renewing the finished job's lease waited for the same lock, and every lease with it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { waitFor } from "../conformance/harness.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/dependencies-locks.test.ts");
const T = { timeout: 60_000 };

describe("postgres: dependencies and row locks", { skip: !run }, () => {
  test(
    "a completion held up by an app's lock on its job fails alone; the others complete once",
    T,
    async (t) => {
      const f = spoolFixture(t);
      const spool = await f.open({ busyTimeout: 500 });
      const r = spool.queue<{ n: string }>("r");
      const q = spool.queue("q");
      const dep = await r.add({ n: "dep" });
      const other = await r.add({ n: "other" });
      const runs: Record<string, number> = {};
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const worker = r.process(
        async (job) => {
          runs[job.payload.n] = (runs[job.payload.n] ?? 0) + 1;
          await gate; // both held at once, so their completions go in one statement
        },
        { concurrency: 2, lease: 10_000 },
      );
      worker.on("error", () => {}); // the dependency's own completion may fail BUSY: expected
      t.after(() => worker.stop());
      await waitFor("both jobs running", () => runs.dep === 1 && runs.other === 1);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      t.after(() => client.end());
      await client.query("BEGIN");
      await q.add("child", { client, dependsOn: [dep] }); // locks the dependency's row until COMMIT
      release();
      await waitFor("the unrelated job completed", async () => (await r.get(other))?.state === "completed");
      await client.query("COMMIT");
      assert.equal((await r.get(other))?.attempts, 1);
      assert.equal(runs.other, 1, "the unrelated job ran once");
    },
  );

  test("a completion held up by an app's lock does not hold up the heartbeat of other jobs", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const r = spool.queue<{ n: string }>("r");
    const q = spool.queue("q");
    const dep = await r.add({ n: "dep" });
    const long = await r.add({ n: "long" });
    const runs: Record<string, number> = {};
    let finishDep!: () => void;
    const depGate = new Promise<void>((resolve) => {
      finishDep = resolve;
    });
    let finishLong!: () => void;
    const longGate = new Promise<void>((resolve) => {
      finishLong = resolve;
    });
    const lease = 500;
    const worker = r.process(
      async (job) => {
        runs[job.payload.n] = (runs[job.payload.n] ?? 0) + 1;
        await (job.payload.n === "dep" ? depGate : longGate);
      },
      { concurrency: 2, lease },
    );
    const errors: unknown[] = [];
    worker.on("error", (e) => errors.push(e));
    t.after(() => {
      finishLong();
      return worker.stop();
    });
    await waitFor("both jobs running", () => runs.dep === 1 && runs.long === 1);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    t.after(() => client.end());
    await client.query("BEGIN");
    try {
      await q.add("child", { client, dependsOn: [dep] }); // locks the dependency's row until COMMIT
      finishDep(); // its completion now waits for the lock, its lease renewal must not
      const heldUntil = (await r.get(long))?.leaseUntil?.getTime() ?? 0;
      await waitFor(
        "the long job's lease renewed while the app's transaction is open",
        async () => ((await r.get(long))?.leaseUntil?.getTime() ?? 0) > heldUntil + lease,
        5_000,
      );
    } finally {
      await client.query("COMMIT");
    }
    await waitFor("the dependency completed", async () => (await r.get(dep))?.state === "completed");
    finishLong();
    await waitFor("the long job completed", async () => (await r.get(long))?.state === "completed");
    assert.deepEqual(runs, { dep: 1, long: 1 });
    assert.deepEqual(errors, []);
  });

  test("an app's lock on a running job does not hold up the heartbeat of the others", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const r = spool.queue<{ n: string }>("r");
    const q = spool.queue("q");
    const dep = await r.add({ n: "dep" });
    const other = await r.add({ n: "other" });
    const runs: Record<string, number> = {};
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const lease = 500;
    const worker = r.process(
      async (job) => {
        runs[job.payload.n] = (runs[job.payload.n] ?? 0) + 1;
        await finished;
      },
      { concurrency: 2, lease },
    );
    const errors: unknown[] = [];
    worker.on("error", (e) => errors.push(e));
    t.after(() => {
      finish();
      return worker.stop();
    });
    await waitFor("both jobs running", () => runs.dep === 1 && runs.other === 1);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    t.after(() => client.end());
    await client.query("BEGIN");
    try {
      await q.add("child", { client, dependsOn: [dep] }); // locks the running dependency's row
      const heldUntil = (await r.get(other))?.leaseUntil?.getTime() ?? 0;
      await waitFor(
        "the other job's lease renewed while the app's transaction is open",
        async () => ((await r.get(other))?.leaseUntil?.getTime() ?? 0) > heldUntil + lease,
        5_000,
      );
    } finally {
      await client.query("COMMIT");
    }
    finish();
    await waitFor("both completed", async () => (await r.size()).completed === 2);
    assert.deepEqual(runs, { dep: 1, other: 1 });
    assert.deepEqual(errors, []);
  });

  test("dependents of one result deleted at once leave no result behind", T, async (t) => {
    const f = spoolFixture(t);
    const a = await f.open();
    const b = await f.open();
    const qa = a.queue("q", { retention: { completed: 0 } });
    const qb = b.queue("q", { retention: { completed: 0 } });
    for (let round = 0; round < 30; round++) {
      const dep = await qa.add("dep");
      const [d1, d2] = await qa.addBatch(["d1", "d2"], { dependsOn: [dep] });
      const job = await qa.reserve();
      assert.equal(job?.id, dep);
      await qa.complete(job, { round });
      const one = await qa.reserve();
      const two = await qb.reserve();
      assert.deepEqual([one?.id, two?.id].sort(), [d1, d2].sort());
      // Completed with retention 0: both dependents deleted, in two transactions at once.
      await Promise.all([qa.complete(one as never), qb.complete(two as never)]);
    }
    const left = await sql(`SELECT count(*)::int AS n FROM "${f.schema}".dep_results`);
    assert.equal(left[0]?.n, 0);
  });
});

// A worker that claims back a job whose lease it lost (its own earlier run still going) must
// treat that earlier run as a stale holder: abort its signal, never let it slip out of sight.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ExtendedMany } from "../../src/backend.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";
import { type BackendFixture, type Db, fresh, T, waitFor } from "./harness.js";

/** Makes job `id`'s lease lapse from outside, as a stalled event loop would. */
async function lapse(b: BackendFixture, db: Db, id: number): Promise<void> {
  if (b.kind === "sqlite") {
    const raw = openRawSqlite(db.target.target);
    raw.prepare("UPDATE spool_jobs SET lease_until = 0 WHERE id = ?").run(id);
    raw.close();
    return;
  }
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: db.target.target });
  await client.connect();
  try {
    await client.query(
      `UPDATE "${db.target.options.schema}".jobs SET lease_until = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
  } finally {
    await client.end();
  }
}

export function workerReclaim(b: BackendFixture): void {
  describe("a worker reclaiming its own lapsed job", { skip: !b.persistent }, () => {
    test(
      "the earlier run is aborted as a stale holder when the same worker takes the job again",
      T,
      async (t) => {
        const db = await fresh(b, t);
        const q = db.spool.queue<string>("reclaim", { maxAttempts: 5 });
        const id = await q.add("x");
        const runs: { attempt: number; signal: AbortSignal }[] = [];
        // A long lease: the heartbeat stays out of the way, the claim meets the lapse first.
        const worker = q.process(
          (job, { signal }) => {
            runs.push({ attempt: job.attempts, signal });
            return new Promise<void>((resolve) => {
              if (job.attempts > 1) resolve();
              else signal.addEventListener("abort", () => resolve());
            });
          },
          { concurrency: 3, lease: 60_000, pollInterval: 20 },
        );
        const errors: unknown[] = [];
        worker.on("error", (e) => errors.push(e));
        t.after(() => worker.stop({ timeout: 0 }));
        await waitFor("the first run to start", () => runs.length === 1);
        await lapse(b, db, id);
        await waitFor("the same worker to run the job again", () => runs.length === 2);
        assert.equal(runs[1]?.attempt, 2);
        await waitFor("the first run's signal to abort", () => runs[0]?.signal.aborted === true);
        await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
      },
    );

    test("a finished job keeps its lease while its outcome waits to be written", T, async (t) => {
      // The outcome's write can wait behind a busy pool or another worker's round; the
      // heartbeat used to drop the job once its handler returned, so a write slower than the
      // lease let another worker run the job again (hostile review, PostgreSQL at lease 500).
      const db = await fresh(b, t);
      const q = db.spool.queue<string>("slow-outcome");
      const id = await q.add("x");
      const backend = db.spool.ctx.backend;
      const complete = backend.complete.bind(backend);
      let letWrite = () => {};
      const writable = new Promise<void>((resolve) => {
        letWrite = resolve;
      });
      let writing = false;
      backend.complete = async (...args) => {
        writing = true;
        await writable;
        return complete(...args);
      };
      let runs = 0;
      const lease = 500;
      const worker = q.process(
        () => {
          runs++;
        },
        { lease, pollInterval: 20 },
      );
      const errors: unknown[] = [];
      worker.on("error", (e) => errors.push(e));
      t.after(() => worker.stop({ timeout: 0 }));
      try {
        await waitFor("the outcome's write to begin", () => writing);
        const heldUntil = (await q.get(id))?.leaseUntil?.getTime() ?? 0;
        await waitFor(
          "the heartbeat to renew the lease of the finished job",
          async () => ((await q.get(id))?.leaseUntil?.getTime() ?? 0) > heldUntil + lease / 2,
          5_000,
        );
      } finally {
        letWrite(); // closing waits for the outcome's write
      }
      await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
      assert.equal(runs, 1);
      assert.deepEqual(errors, []);
    });

    test("a renewal that never answers does not stop the next ones", T, async (t) => {
      // A connection gone silent (a dropped NAT entry) never settles its query: a heartbeat that
      // waited for its last renewal before sending the next renewed nothing ever again.
      const db = await fresh(b, t);
      const q = db.spool.queue<string>("silent-renewal");
      await q.add("x");
      const backend = db.spool.ctx.backend;
      const extendMany = backend.extendMany.bind(backend);
      let renewals = 0;
      backend.extendMany = (...args) => {
        if (renewals++ === 0) return new Promise<ExtendedMany>(() => {}); // the first never answers
        return extendMany(...args);
      };
      let started = false;
      let finish = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const worker = q.process(
        async () => {
          started = true;
          await finished;
        },
        { lease: 500 },
      );
      t.after(() => worker.stop({ timeout: 0 }));
      try {
        await waitFor("the job to start", () => started);
        await waitFor("renewals after the silent one", () => renewals >= 3, 5_000);
      } finally {
        finish(); // closing waits for the handler
      }
    });
  });
}

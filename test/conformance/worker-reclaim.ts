// A worker that claims back a job whose lease it lost (its own earlier run still going) must
// treat that earlier run as a stale holder: abort its signal, never let it slip out of sight.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
  });
}

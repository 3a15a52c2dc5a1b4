// groupConcurrency 1 is strict FIFO per group, by id (API.md): a group's next job is its oldest
// pending one, and while that one is not ready (delayed, waiting out a retry's backoff) the
// group waits; later jobs of the group never overtake it, whatever their priority. Other
// groups are served meanwhile.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job, Queue } from "../../src/index.js";
import { type BackendFixture, fresh, T, waitFor } from "./harness.js";

/** Every job a claim takes now (many at once), as payloads. */
async function takeAll<P>(q: Queue<P>): Promise<P[]> {
  return (await q.reserveBatch(50)).map((j) => j.payload);
}

/** Waits until a claim takes a job, and returns it. */
async function nextJob<P>(q: Queue<P>, what: string): Promise<Job<P>> {
  const taken: Job<P>[] = [];
  await waitFor(what, async () => {
    const job = await q.reserve();
    if (job !== null) taken.push(job);
    return job !== null;
  });
  return taken[0] as Job<P>;
}

export function limitsFifo(b: BackendFixture): void {
  describe(`groupConcurrency 1 is FIFO per group [${b.name}]`, () => {
    test("a failed job waiting out its backoff runs again before its group's next job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("fifo-retry", { groupConcurrency: 1 });
      // Long enough for the three calls below to run inside it on a loaded machine (one measured
      // over 200 ms for two calls), after which the retried head is waited for.
      const backoff = { type: "fixed", delay: 2000 } as const;
      await q.addBatch(["create", "pay", "ship"], { group: "c1", backoff });
      await q.addBatch(["other-1", "other-2"], { group: "c2" });
      const first = await q.reserveBatch(50);
      assert.deepEqual(first.map((j) => j.payload).sort(), ["create", "other-1"]);
      const create = first.find((j) => j.payload === "create");
      assert.ok(create);
      assert.equal(await q.fail(create, "transient"), "pending");
      // create waits out its backoff: c1 waits with it, c2 goes on.
      assert.deepEqual(await takeAll(q), [], "c1 held by its retrying head, c2 at its one slot");
      await q.complete(first.find((j) => j.payload === "other-1") as (typeof first)[number]);
      assert.deepEqual(await takeAll(q), ["other-2"], "another group is served meanwhile");
      const again = await nextJob(q, "create to be ready again");
      assert.equal(again.payload, "create", "the retried head, not a later job of its group");
      assert.equal(again.attempts, 2);
      await q.complete(again);
      assert.deepEqual(await takeAll(q), ["pay"]);
    });

    test("a delayed first job holds its group; other groups are served", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("fifo-delay", { groupConcurrency: 1 });
      await q.add("a-first", { group: "a", delay: 2000 }); // outlasting the next four calls, even slow
      await q.add("a-second", { group: "a" });
      await q.add("b-first", { group: "b" });
      await q.add("plain");
      assert.deepEqual((await takeAll(q)).sort(), ["b-first", "plain"], "a waits for its delayed head");
      const head = await nextJob(q, "a's head to be due");
      assert.equal(head.payload, "a-first");
      assert.deepEqual(await takeAll(q), [], "a's one slot is taken by its head");
      await q.complete(head);
      assert.deepEqual(await takeAll(q), ["a-second"]);
    });

    test("priorities do not reorder the jobs of a group", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("fifo-priority", { groupConcurrency: 1 });
      await q.add("low", { group: "a", priority: 0 });
      await q.add("high", { group: "a", priority: 100 });
      await q.add("b-low", { group: "b", priority: -5 });
      const taken = await q.reserveBatch(50);
      assert.deepEqual(taken.map((j) => j.payload).sort(), ["b-low", "low"], "the oldest of each group");
      for (const job of taken) await q.complete(job);
      assert.deepEqual(await takeAll(q), ["high"]);
    });
  });
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, clockPast, fresh, T, waitFor } from "./harness.js";

export function dedupeTtlRetention(b: BackendFixture): void {
  describe("dedupe keys", () => {
    test("the same key while pending returns the same id and adds nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("dedupe");
      const a = await q.add("first", { key: "order-1" });
      const c = await q.add("second", { key: "order-1" });
      assert.equal(c, a);
      assert.equal((await q.size()).total, 1);
      assert.equal((await q.get(a))?.payload, "first", "the first payload stays");
      const other = await q.add("other", { key: "order-2" });
      assert.notEqual(other, a);
    });

    test("the same key while delayed or reserved returns the same id", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("dedupe2");
      const delayed = await q.add("d", { key: "later", delay: 60_000 });
      assert.equal(await q.add("d2", { key: "later" }), delayed);
      const held = await q.add("r", { key: "held" });
      const job = await q.reserve();
      assert.equal(job?.id, held);
      assert.equal(await q.add("r2", { key: "held" }), held);
      assert.equal((await q.size()).total, 2);
    });

    test("after completion or death the same key adds a new job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("dedupe3");
      const a = await q.add("a", { key: "k", maxAttempts: 1 });
      await q.complete((await q.reserve())!);
      const c = await q.add("b", { key: "k", maxAttempts: 1 });
      assert.notEqual(c, a);
      await q.fail((await q.reserve())!, "x");
      const d = await q.add("c", { key: "k" });
      assert.notEqual(d, c);
      assert.equal((await q.get(d))?.payload, "c");
    });

    test("keys are per queue", T, async (t) => {
      const { spool } = await fresh(b, t);
      const a = await spool.queue("qa").add(1, { key: "same" });
      const c = await spool.queue("qb").add(1, { key: "same" });
      assert.notEqual(a, c);
    });

    test("addBatch with a key already pending returns that id for it", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("dedupe-batch");
      const existing = await q.add("x", { key: "k" });
      const ids = await q.addBatch(["y", "z"], { key: "k" });
      assert.deepEqual(ids, [existing, existing]);
      assert.equal((await q.size()).total, 1);
    });
  });

  describe("ttl", () => {
    test("a job not started within ttl of its runAt becomes dead with 'expired'", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ttl");
      const id = await q.add("x", { ttl: 100 });
      const info = await q.get(id);
      await clockPast(info!.runAt.getTime() + 100, 50);
      await waitFor("the expired job to be dead", async () => {
        assert.equal(await q.reserve(), null, "an expired job is never handed out");
        return (await q.get(id))?.state === "dead";
      });
      assert.equal((await q.get(id))?.lastError, "expired");
    });

    test("a job started within its ttl runs normally", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ttl-ok");
      const id = await q.add("x", { ttl: 60_000 });
      const job = await q.reserve();
      assert.equal(job?.id, id);
      await q.complete(job!);
      assert.equal((await q.get(id))?.state, "completed");
    });

    test("ttl counts from runAt, not from when the job was added", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ttl-delay");
      const id = await q.add("x", { delay: 2000, ttl: 300 });
      const created = (await q.get(id))!.createdAt;
      await clockPast(created.getTime() + 600);
      assert.equal(await q.reserve(), null);
      assert.equal((await q.get(id))?.state, "delayed", "not expired before it was due");
    });
  });

  describe("retention", () => {
    test("completed jobs are kept by default", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("keep");
      const id = await q.add(1);
      await q.complete((await q.reserve())!, "r");
      assert.equal((await q.get(id))?.state, "completed");
      assert.equal((await q.size()).completed, 1);
    });

    test("retention completed: 0 deletes a job on completion", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("nokeep", { retention: { completed: 0 } });
      const id = await q.add(1);
      await q.complete((await q.reserve())!);
      assert.equal(await q.get(id), null);
      assert.equal((await q.size()).total, 0);
    });

    test("a short retention removes completed and dead jobs automatically", T, async (t) => {
      const { spool } = await fresh(b, t);
      // Short, yet long enough for the state reads below on a loaded machine (100 ms was not).
      const q = spool.queue("short", { retention: { completed: 1500, dead: 1500 }, maxAttempts: 1 });
      const [a, c] = await q.addBatch([1, 2]);
      const keep = await q.add(3, { delay: 3_600_000 });
      await q.complete((await q.reserve())!);
      await q.fail((await q.reserve())!, "x");
      assert.equal((await q.get(a!))?.state, "completed");
      assert.equal((await q.get(c!))?.state, "dead");
      await waitFor(
        "finished jobs past their retention to be removed",
        async () => {
          await q.reserve();
          return (await q.get(a!)) === null && (await q.get(c!)) === null;
        },
        15_000,
        50,
      );
      assert.equal((await q.get(keep))?.state, "delayed", "unfinished jobs are never removed");
    });
  });
}

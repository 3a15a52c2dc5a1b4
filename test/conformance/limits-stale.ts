// A process that just claimed through a queue's limits must not go on believing them once
// another process removed them (or paused and resumed the queue): its claims would come back
// empty with jobs ready, and its idle worker wait for a poll. Proven on PostgreSQL by a review.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, fresh, T } from "./harness.js";

export function limitsStale(b: BackendFixture): void {
  if (!b.persistent) return;
  describe("limits removed by another process", () => {
    test(
      "a claim right after another process removed the queue's limit takes the ready jobs",
      T,
      async (t) => {
        const { spool, reopen } = await fresh(b, t);
        const a = spool.queue("q", { concurrency: 1 });
        await a.addBatch(["p0", "p1", "p2"]);
        const first = await a.reserve();
        assert.equal(first?.payload, "p0");
        assert.deepEqual(await a.reserveBatch(10), []); // at its limit
        const other = await reopen();
        // Its claims wait for its handle's write: once this one returns, the limit is gone.
        const viaOther = await other.queue("q", { concurrency: null }).reserveBatch(1);
        assert.deepEqual(
          viaOther.map((j) => j.payload),
          ["p1"],
        );
        assert.deepEqual(
          (await a.reserveBatch(10)).map((j) => j.payload),
          ["p2"],
        );
      },
    );
  });
}

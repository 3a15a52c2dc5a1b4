// spool.metrics(): the stored sizes of every queue, and this process's counters and latency.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

export function metrics(b: BackendFixture): void {
  describe("metrics", () => {
    test("a fresh Spool counts nothing and reports no latency", T, async (t) => {
      const { spool } = await fresh(b, t);
      const m = await spool.metrics();
      assert.deepEqual(m.queues, {});
      assert.deepEqual(m.counters, { added: 0, completed: 0, failed: 0, retried: 0, dead: 0, leaseLost: 0 });
      assert.deepEqual(m.latency, {
        waitMs: { p50: null, p95: null, p99: null },
        runMs: { p50: null, p95: null, p99: null },
      });
    });

    test(
      "adds, completions, retries and dead jobs of a worker are counted, with wait and run times",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue<{ n: number; fail?: number }>("counted");
        await q.addBatch([{ n: 1 }, { n: 2 }, { n: 3, fail: 1 }]);
        // A key already held by a live job adds nothing.
        await q.add({ n: 4 }, { key: "k", maxAttempts: 1 });
        await q.add({ n: 5 }, { key: "k" });
        const [tx] = await spool.channel("counted");
        await tx.send({ n: 6 });
        assert.equal((await spool.metrics()).counters.added, 5);

        const tries = new Map<number, number>();
        const done: number[] = [];
        const worker = q.process(
          (job) => {
            const seen = (tries.get(job.payload.n) ?? 0) + 1;
            tries.set(job.payload.n, seen);
            if (job.payload.n === 4) throw new Error("always");
            if (seen <= (job.payload.fail ?? 0)) throw new Error("once");
            return job.payload.n;
          },
          { concurrency: 2 },
        );
        worker.on("completed", (job) => done.push(job.id));
        worker.on("failed", (job) => done.push(job.id));
        await waitFor("every job settled", () => done.length === 6);
        await worker.stop();

        const m = await spool.metrics();
        assert.deepEqual(m.counters, {
          added: 5,
          completed: 4,
          failed: 2,
          retried: 1,
          dead: 1,
          leaseLost: 0,
        });
        const size = m.queues.counted;
        assert.ok(size);
        assert.equal(size.completed, 4);
        assert.equal(size.dead, 1);
        assert.equal(size.pending, 0);
        assert.equal(size.paused, false);
        assert.equal(size.oldestPendingMs, null);
        for (const p of [m.latency.waitMs, m.latency.runMs]) {
          assert.ok(p.p50 !== null && p.p95 !== null && p.p99 !== null, "percentiles once jobs ran");
          assert.ok(
            p.p50 >= 0 && p.p50 <= p.p95 && p.p95 <= p.p99,
            `ordered percentiles ${JSON.stringify(p)}`,
          );
        }
      },
    );

    test("manual completions, failures and lost leases are counted", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("manual");
      await q.addBatch([1, 2, 3]);
      const [a, c, d] = (await q.reserveBatch(3)) as [Job<unknown>, Job<unknown>, Job<unknown>];
      await q.complete(a, "ok");
      assert.equal(await q.fail(c, new Error("later")), "pending");
      // Failed by its id behind its holder's back: the holder's completion is refused.
      await q.fail(d.id, new Error("taken away"));
      await expectCode(() => q.complete(d), "LEASE_LOST");
      const m = await spool.metrics();
      assert.deepEqual(m.counters, { added: 3, completed: 1, failed: 2, retried: 2, dead: 0, leaseLost: 1 });
      assert.equal(m.latency.runMs.p50, null, "no worker ran a handler");
    });

    test(
      "queues cover the store's and those this process uses; the oldest pending age is read",
      T,
      async (t) => {
        const { spool, reopen } = await fresh(b, t);
        await spool.queue("stored").add(1);
        spool.queue("used-empty").process(() => {});
        const other = b.persistent ? await reopen() : spool;
        const m = await other.metrics();
        assert.ok(m.queues.stored, "a queue in the store");
        assert.equal(m.queues.stored.pending, 1);
        assert.ok(m.queues.stored.oldestPendingMs !== null && m.queues.stored.oldestPendingMs >= 0);
        const mine = await spool.metrics();
        assert.ok(mine.queues["used-empty"], "a queue this process uses, though empty");
        assert.equal(mine.queues["used-empty"].total, 0);
      },
    );

    test("a stale holder's refused failure and renewal count as lost leases too", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("stale");
      await q.addBatch([1, 2]);
      const [a, c] = (await q.reserveBatch(2)) as [Job<unknown>, Job<unknown>];
      await q.fail(a.id, new Error("taken away"));
      await q.fail(c.id, new Error("taken away"));
      await expectCode(() => q.fail(a, new Error("late")), "LEASE_LOST");
      await expectCode(() => q.extend(c, 1000), "LEASE_LOST");
      assert.equal((await spool.metrics()).counters.leaseLost, 2);
    });

    test("a queue handle alone is not a queue this process uses", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (let i = 0; i < 50; i++) spool.queue(`handle-${i}`);
      assert.deepEqual(Object.keys((await spool.metrics()).queues), []);
    });

    test("metrics on a closed Spool is CLOSED", T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.close();
      await expectCode(() => spool.metrics(), "CLOSED");
    });
  });
}

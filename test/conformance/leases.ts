import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/index.js";
import { type BackendFixture, clockPast, expectCode, fresh, near, T, waitFor } from "./harness.js";

type Q = { reserve(o?: { lease?: number }): Promise<Job<unknown> | null> };

/** Reserves until a job comes back (bounded): for jobs whose lease is about to lapse. */
async function reserveWhenReady(q: Q, lease = 30_000): Promise<Job<unknown>> {
  let job: Job<unknown> | null = null;
  await waitFor("a job to become reservable", async () => {
    job = await q.reserve({ lease });
    return job !== null;
  });
  return job!;
}

export function leases(b: BackendFixture): void {
  describe("leases and stale holders", () => {
    test("reserve sets leaseUntil to now + lease (default 30 s)", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("lease");
      await q.addBatch([1, 2]);
      const t0 = Date.now();
      const a = await q.reserve();
      near(a!.leaseUntil.getTime(), t0 + 30_000, 1000, "default lease");
      const c = await q.reserve({ lease: 5000 });
      near(c!.leaseUntil.getTime(), Date.now() + 5000, 1000, "explicit lease");
      const info = await q.get(c!.id);
      near(info!.leaseUntil!.getTime(), c!.leaseUntil.getTime(), 5, "get shows the lease");
    });

    test("a queue's default lease applies to reserve", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("qlease", { lease: 120_000 });
      await q.add(1);
      const job = await q.reserve();
      near(job!.leaseUntil.getTime(), Date.now() + 120_000, 1000, "queue default lease");
    });

    test("an expired lease returns the job to pending", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("expire");
      const id = await q.add("x");
      // Held long enough for the next reserve to see it held (a short lease can run out first on
      // a loaded machine), then cut to 1 ms.
      const first = await q.reserve({ lease: 30_000 });
      assert.equal(await q.reserve(), null, "held while the lease runs");
      await q.extend(first!, 1);
      await clockPast(Date.now() + 1);
      const second = await reserveWhenReady(q);
      assert.equal(second.id, id);
      assert.equal(second.attempts, 2, "the lapsed reservation counted as an attempt");
      assert.equal(second.payload, "x");
      // Every backend says why the first attempt ended.
      assert.equal((await q.get(id))?.lastError, "lease expired");
    });

    test("an expired lease with attempts spent makes the job dead with 'lease expired'", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("expire-dead");
      const id = await q.add("x", { maxAttempts: 1 });
      const job = await q.reserve({ lease: 100 });
      await clockPast(job!.leaseUntil);
      await waitFor("the job to be dead", async () => {
        assert.equal(await q.reserve(), null, "a spent job is never handed out again");
        return (await q.get(id))?.state === "dead";
      });
      const info = await q.get(id);
      assert.equal(info?.lastError, "lease expired");
      assert.equal((await q.size()).dead, 1);
    });

    test("a stale holder's complete, fail and extend reject LEASE_LOST and change nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("stale");
      const id = await q.add("x");
      const stale = await q.reserve({ lease: 100 });
      await clockPast(stale!.leaseUntil);
      const current = await reserveWhenReady(q, 60_000);
      assert.equal(current.id, id);
      const snapshot = await q.get(id);
      await expectCode(() => q.complete(stale!, "late"), "LEASE_LOST");
      await expectCode(() => q.fail(stale!, new Error("late")), "LEASE_LOST");
      await expectCode(() => q.extend(stale!, 60_000), "LEASE_LOST");
      assert.deepEqual(await q.get(id), snapshot, "nothing changed");
      await q.complete(current, "mine");
      const info = await q.get(id);
      assert.equal(info?.state, "completed");
      assert.equal(info?.result, "mine");
    });

    test(
      "a holder whose lease lapsed, with nobody else holding the job, is refused LEASE_LOST",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("lapsed");
        const id = await q.add("x");
        const job = await q.reserve({ lease: 100 });
        await clockPast(job!.leaseUntil);
        await expectCode(() => q.complete(job!), "LEASE_LOST");
        assert.notEqual((await q.get(id))?.state, "completed");
      },
    );

    test("complete, fail and extend on a job not reserved reject LEASE_LOST", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("notheld");
      const pending = await q.add("p");
      await expectCode(() => q.complete(pending), "LEASE_LOST");
      await expectCode(() => q.fail(pending, "e"), "LEASE_LOST");
      await expectCode(() => q.extend(pending, 1000), "LEASE_LOST");
      assert.equal((await q.get(pending))?.state, "pending");
      assert.equal((await q.get(pending))?.attempts, 0);
      const job = await q.reserve();
      await q.complete(job!);
      await expectCode(() => q.complete(job!), "LEASE_LOST");
      await expectCode(() => q.fail(job!, "again"), "LEASE_LOST");
      assert.equal((await q.get(pending))?.state, "completed");
    });

    test("complete, fail and extend on a missing id reject NOT_FOUND", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("missing");
      const id = await q.add(1);
      const job = await q.reserve();
      await q.remove(id);
      await expectCode(() => q.complete(job!), "NOT_FOUND");
      await expectCode(() => q.fail(job!, "x"), "NOT_FOUND");
      await expectCode(() => q.extend(job!, 1000), "NOT_FOUND");
      await expectCode(() => q.complete(987_654), "NOT_FOUND", "987654");
      await expectCode(() => spool.queue("other").complete(id + 1), "NOT_FOUND");
    });

    test("a job of another queue is NOT_FOUND through this queue", T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.queue("mine").add(1);
      const job = await spool.queue("mine").reserve();
      await expectCode(() => spool.queue("theirs").complete(job!.id), "NOT_FOUND");
      assert.equal((await spool.queue("mine").get(job!.id))?.state, "reserved");
    });

    test("extend pushes leaseUntil to now + ms and keeps the job held past its first lease", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("extend");
      const id = await q.add("x");
      const job = await q.reserve({ lease: 1000 });
      const firstLease = job!.leaseUntil;
      await q.extend(job!, 60_000);
      const info = await q.get(id);
      near(info!.leaseUntil!.getTime(), Date.now() + 60_000, 1000, "extended lease");
      await clockPast(firstLease, 100);
      assert.equal(await q.reserve(), null, "still held after the first lease ran out");
      await q.extend(id, 1000);
      near((await q.get(id))!.leaseUntil!.getTime(), Date.now() + 1000, 500, "extend by id");
      await q.complete(job!);
      assert.equal((await q.get(id))?.state, "completed");
    });
  });
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Spool } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T } from "./harness.js";

export function queueBasics(b: BackendFixture): void {
  describe("queue basics", () => {
    test("add returns increasing ids and get returns the pending job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<{ n: number }>("basics");
      const before = Date.now();
      const a = await q.add({ n: 1 });
      const c = await q.add({ n: 2 }, { priority: 5, maxAttempts: 7, key: "k2" });
      assert.ok(Number.isSafeInteger(a) && Number.isSafeInteger(c));
      assert.ok(c > a, "ids increase");
      const info = await q.get(c);
      assert.ok(info);
      assert.equal(info.id, c);
      assert.equal(info.queue, "basics");
      assert.deepEqual(info.payload, { n: 2 });
      assert.equal(info.state, "pending");
      assert.equal(info.attempts, 0);
      assert.equal(info.maxAttempts, 7);
      assert.equal(info.priority, 5);
      assert.equal(info.key, "k2");
      assert.ok(info.createdAt instanceof Date && info.runAt instanceof Date);
      assert.ok(info.createdAt.getTime() >= before - 1000 && info.createdAt.getTime() <= Date.now() + 1000);
      const plain = await q.get(a);
      assert.equal(plain?.maxAttempts, 3, "maxAttempts defaults to 3");
      assert.equal(plain?.priority, 0, "priority defaults to 0");
      assert.equal(plain?.key, undefined);
    });

    test("get returns null for an unknown id and for a job of another queue", T, async (t) => {
      const { spool } = await fresh(b, t);
      const id = await spool.queue("one").add(1);
      assert.equal(await spool.queue("one").get(id + 1000), null);
      assert.equal(await spool.queue("two").get(id), null);
    });

    test("addBatch adds every payload in order and returns their ids", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("batch");
      const ids = await q.addBatch(["a", "b", "c"], { priority: 2 });
      assert.equal(ids.length, 3);
      assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
      for (const [i, id] of ids.entries()) {
        const info = await q.get(id);
        assert.equal(info?.payload, ["a", "b", "c"][i]);
        assert.equal(info?.priority, 2);
      }
      assert.deepEqual(await q.addBatch([]), []);
      assert.equal((await q.size()).total, 3);
    });

    test("reserve, then complete, moves a job to completed with its result", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("cycle");
      const id = await q.add("x");
      const job = await q.reserve();
      assert.ok(job);
      assert.equal(job.id, id);
      assert.equal(job.payload, "x");
      assert.equal(job.attempts, 1, "attempts counts the current attempt");
      assert.ok(job.leaseUntil instanceof Date);
      assert.equal((await q.get(id))?.state, "reserved");
      await q.complete(job, { ok: true });
      const info = await q.get(id);
      assert.equal(info?.state, "completed");
      assert.deepEqual(info?.result, { ok: true });
      assert.ok(info?.finishedAt instanceof Date);
      assert.equal(await q.reserve(), null, "nothing left to reserve");
    });

    test("complete accepts a bare id", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("byid");
      const id = await q.add(1);
      await q.reserve();
      await q.complete(id);
      assert.equal((await q.get(id))?.state, "completed");
    });

    test("size counts pending, delayed, reserved, completed and dead jobs", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("sizes");
      assert.deepEqual(await q.size(), {
        waiting: 0,
        pending: 0,
        delayed: 0,
        reserved: 0,
        completed: 0,
        dead: 0,
        total: 0,
        paused: false,
      });
      await q.addBatch([1, 2, 3, 4]);
      await q.add(5, { maxAttempts: 1 });
      await q.add(6, { delay: 60_000 });
      const j1 = await q.reserve();
      const j2 = await q.reserve();
      await q.reserve();
      await q.complete(j1!);
      await q.fail(j2!, new Error("x"), { retryIn: 0 });
      const j5 = await q.reserveBatch(5);
      // ids 2 (retried), 4, 5 reserved now; fail 5 for good.
      const five = j5.find((j) => j.payload === 5)!;
      assert.equal(await q.fail(five, "bye"), "dead");
      assert.deepEqual(await q.size(), {
        waiting: 0,
        pending: 0,
        delayed: 1,
        reserved: 3,
        completed: 1,
        dead: 1,
        total: 6,
        paused: false,
      });
      await spool.queue("other").add(1);
      assert.equal((await q.size()).total, 6, "size counts only its own queue");
    });

    test("list browses one state in id order, paging with after", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("paging");
      const ids = await q.addBatch([1, 2, 3, 4, 5]);
      await q.add(99, { delay: 60_000 });
      const page1 = await q.list({ state: "pending", limit: 2 });
      assert.deepEqual(
        page1.map((j) => j.id),
        ids.slice(0, 2),
      );
      const page2 = await q.list({ state: "pending", limit: 2, after: page1[1]!.id });
      assert.deepEqual(
        page2.map((j) => j.id),
        ids.slice(2, 4),
      );
      const page3 = await q.list({ state: "pending", limit: 2, after: page2[1]!.id });
      assert.deepEqual(
        page3.map((j) => j.payload),
        [5],
      );
      assert.deepEqual(await q.list({ state: "pending", after: ids[4]! }), []);
      const all = await q.list({ state: "pending" });
      assert.equal(all.length, 5, "delayed jobs are not listed as pending");
      assert.ok(all.every((j) => j.state === "pending"));
      const delayed = await q.list({ state: "delayed" });
      assert.deepEqual(
        delayed.map((j) => j.payload),
        [99],
      );
      assert.deepEqual(await q.list({ state: "dead" }), []);
    });

    test("remove deletes one job whatever its state and says whether it existed", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("rm");
      const [a, c, d] = await q.addBatch([1, 2, 3]);
      await q.reserve();
      assert.equal(await q.remove(a!), true, "a reserved job");
      assert.equal(await q.remove(c!), true, "a pending job");
      assert.equal(await q.remove(c!), false, "already gone");
      assert.equal(await q.get(a!), null);
      assert.equal(await spool.queue("elsewhere").remove(d!), false, "another queue's job is not touched");
      assert.equal((await q.size()).total, 1);
    });

    test("purge deletes completed or dead jobs, optionally only older ones", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("purge");
      await q.addBatch([1, 2, 3, 4], { maxAttempts: 1 });
      const [j1, j2, j3] = await q.reserveBatch(3);
      await q.complete(j1!);
      await q.complete(j2!);
      await q.fail(j3!, "x");
      assert.equal(await q.purge({ state: "completed", olderThan: 3_600_000 }), 0, "nothing that old");
      assert.equal(await q.purge({ state: "completed" }), 2);
      assert.equal(await q.get(j1!.id), null);
      const size = await q.size();
      assert.equal(size.completed, 0);
      assert.equal(size.dead, 1, "dead jobs untouched by a completed purge");
      assert.equal(size.pending, 1, "pending jobs untouched");
      assert.equal(await q.purge({ state: "dead" }), 1);
      assert.equal((await q.size()).total, 1);
    });

    test("clear deletes every job of the queue and only that queue", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("clearme");
      await q.addBatch([1, 2, 3]);
      await q.reserve();
      await spool.queue("keep").add(1);
      await q.clear();
      assert.equal((await q.size()).total, 0);
      assert.equal((await spool.queue("keep").size()).total, 1);
    });

    test("queues lists the names that hold jobs", T, async (t) => {
      const { spool } = await fresh(b, t);
      assert.deepEqual(await spool.queues(), []);
      await spool.queue("b.second").add(1);
      await spool.queue("a:first").add(1);
      spool.queue("c-empty");
      assert.deepEqual((await spool.queues()).sort(), ["a:first", "b.second"]);
      await spool.queue("b.second").clear();
      assert.deepEqual(await spool.queues(), ["a:first"]);
    });

    test("close is idempotent and every later call rejects with CLOSED", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("closing");
      const id = await q.add(1);
      await spool.close();
      await spool.close();
      await expectCode(() => q.add(2), "CLOSED");
      await expectCode(() => q.reserve(), "CLOSED");
      await expectCode(() => q.get(id), "CLOSED");
      await expectCode(() => q.size(), "CLOSED");
      await expectCode(() => spool.queues(), "CLOSED");
      await expectCode(() => spool.queue("late").add(1), "CLOSED");
      await expectCode(() => spool.channel("late"), "CLOSED");
    });

    test("await using closes the spool at the end of the block", T, async (t) => {
      const target = await b.newTarget();
      t.after(() => target.cleanup());
      let q: ReturnType<Spool["queue"]>;
      {
        await using spool = await Spool.open(target.target, target.options);
        q = spool.queue("disposed");
        await q.add(1);
        assert.equal(typeof spool[Symbol.asyncDispose], "function");
      }
      await expectCode(() => q.add(2), "CLOSED");
    });

    test("jobs in every state survive closing and reopening", T, async (t) => {
      if (!b.persistent) return t.skip("the backend does not persist");
      const { spool, reopen } = await fresh(b, t);
      const q = spool.queue<{ v: string }>("persist");
      const ids = await q.addBatch([{ v: "a" }, { v: "b" }, { v: "c" }, { v: "d" }], { maxAttempts: 1 });
      await q.add({ v: "later" }, { delay: 3_600_000 });
      const [ja, jb, jc] = await q.reserveBatch(3, { lease: 3_600_000 });
      await q.complete(ja!, [1, 2]);
      await q.fail(jb!, new Error("kaput"));
      const before = await q.size();
      await spool.close();
      const again = await reopen();
      const q2 = again.queue<{ v: string }>("persist");
      assert.deepEqual(await q2.size(), before);
      assert.deepEqual(before, {
        waiting: 0,
        pending: 1,
        delayed: 1,
        reserved: 1,
        completed: 1,
        dead: 1,
        total: 5,
        paused: false,
      });
      assert.deepEqual((await q2.get(ids[0]!))?.result, [1, 2]);
      assert.match((await q2.get(ids[1]!))?.lastError ?? "", /kaput/);
      assert.deepEqual((await q2.reserve())?.payload, { v: "d" });
      await q2.complete(jc!.id);
      assert.equal((await q2.get(jc!.id))?.state, "completed", "a lease survives reopening");
      assert.deepEqual(await again.queues(), ["persist"]);
    });
  });
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, expectCode, fresh, near, T, waitFor } from "./harness.js";

export function ordering(b: BackendFixture): void {
  describe("ordering and delays", () => {
    test("without priorities or delays, reserve is strict FIFO", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("fifo");
      const n = 50;
      for (let i = 0; i < n; i++) await q.add(i);
      await q.addBatch([50, 51, 52]);
      const got: number[] = [];
      for (;;) {
        const job = await q.reserve();
        if (!job) break;
        got.push(job.payload);
      }
      assert.deepEqual(
        got,
        Array.from({ length: n + 3 }, (_, i) => i),
      );
    });

    test("higher priority first, then earlier runAt, then lower id", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("prio");
      const now = Date.now();
      await q.add("low-1", { priority: -5 });
      await q.add("mid-late", { runAt: now - 1000 });
      await q.add("high-1", { priority: 10 });
      await q.add("mid-early", { runAt: now - 5000 });
      await q.add("high-2", { priority: 10 });
      await q.add("mid-tie-a", { runAt: now - 3000 });
      await q.add("mid-tie-b", { runAt: now - 3000 });
      await q.add("top", { priority: 100 });
      const order: string[] = [];
      for (let job = await q.reserve(); job; job = await q.reserve()) order.push(job.payload);
      assert.deepEqual(order, [
        "top",
        "high-1",
        "high-2",
        "mid-early",
        "mid-tie-a",
        "mid-tie-b",
        "mid-late",
        "low-1",
      ]);
    });

    test("reserveBatch takes up to limit jobs in the same order", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("batchorder");
      await q.addBatch([1, 2, 3, 4, 5]);
      await q.add(0, { priority: 1 });
      const first = await q.reserveBatch(4);
      assert.deepEqual(
        first.map((j) => j.payload),
        [0, 1, 2, 3],
      );
      assert.ok(first.every((j) => j.attempts === 1));
      const rest = await q.reserveBatch(10, { lease: 60_000 });
      assert.deepEqual(
        rest.map((j) => j.payload),
        [4, 5],
      );
      assert.deepEqual(await q.reserveBatch(3), []);
      assert.equal((await q.size()).reserved, 6);
    });

    test("a delayed job is in state delayed and becomes ready when due", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("delay");
      // Its state is read with a minute to spare: a loaded machine has taken over 200 ms for two
      // calls, and a 300 ms delay read back late is already due.
      const before = Date.now();
      const later = await q.add("later", { delay: 60_000 });
      const after = Date.now();
      const info = await q.get(later);
      assert.equal(info?.state, "delayed");
      const runAt = info!.runAt.getTime();
      assert.ok(
        runAt >= before + 60_000 && runAt <= after + 60_000,
        `runAt = now + delay, got ${runAt - before} ms`,
      );
      assert.equal((await q.size()).delayed, 1);
      assert.equal(await q.reserve(), null, "not ready yet");
      // Becoming ready: a short delay, reserved once due and not before.
      const soon = await q.add("soon", { delay: 300 });
      const due = (await q.get(soon))!.runAt.getTime();
      let job: { id: number } | null = null;
      await waitFor("the delayed job to become ready", async () => {
        job = await q.reserve();
        return job !== null;
      });
      assert.ok(Date.now() >= due, "not reserved before it was due");
      assert.equal((job as { id: number } | null)?.id, soon);
    });

    test("runAt as a Date or epoch ms schedules the job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("runat");
      const at = Date.now() + 3_600_000;
      const a = await q.add("date", { runAt: new Date(at) });
      const c = await q.add("ms", { runAt: at });
      for (const id of [a, c]) {
        const info = await q.get(id);
        assert.equal(info?.state, "delayed");
        near(info!.runAt.getTime(), at, 5, "runAt kept");
      }
      const past = await q.add("past", { runAt: new Date(Date.now() - 10_000) });
      assert.equal((await q.get(past))?.state, "pending");
      assert.equal((await q.reserve())?.id, past);
    });

    test("a ready job added later runs before a delayed one not yet due", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("mixed");
      await q.add("delayed", { delay: 60_000, priority: 50 });
      await q.add("now");
      assert.equal((await q.reserve())?.payload, "now");
      assert.equal(await q.reserve(), null);
    });

    test("giving both delay and runAt is INVALID_ARGUMENT and writes nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("both");
      await expectCode(
        () => q.add(1, { delay: 10, runAt: Date.now() }),
        "INVALID_ARGUMENT",
        "delay",
        "runAt",
      );
      await expectCode(() => q.addBatch([1, 2], { delay: 10, runAt: new Date() }), "INVALID_ARGUMENT");
      assert.equal((await q.size()).total, 0);
    });
  });
}

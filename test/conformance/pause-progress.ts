// Pause and resume (stored with the queue, obeyed by every claim) and progress (stored on a held
// job, lease-checked like extend): behaviour every backend must show alike.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/index.js";
import { type BackendFixture, clockPast, expectCode, fresh, T, waitFor } from "./harness.js";

export function pauseProgress(b: BackendFixture): void {
  describe("pause and resume", () => {
    test("reserve on a paused queue returns null; resume lets claims go", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("p");
      await q.addBatch([1, 2, 3]);
      assert.equal(await q.isPaused(), false);
      await q.pause();
      assert.equal(await q.isPaused(), true);
      assert.equal(await q.reserve(), null);
      assert.deepEqual(await q.reserveBatch(10), []);
      // Pausing twice is no error, and the jobs stay pending.
      await q.pause();
      const size = await q.size();
      assert.equal(size.paused, true);
      assert.equal(size.pending, 3);
      await q.resume();
      assert.equal(await q.isPaused(), false);
      assert.equal((await q.size()).paused, false);
      const job = await q.reserve();
      assert.equal(job?.payload, 1);
    });

    test("size().paused is false for a queue never paused, with or without jobs", T, async (t) => {
      const { spool } = await fresh(b, t);
      assert.equal((await spool.queue("empty").size()).paused, false);
      const q = spool.queue("some");
      await q.add("x");
      assert.deepEqual(await q.size(), {
        waiting: 0,
        pending: 1,
        delayed: 0,
        reserved: 0,
        completed: 0,
        dead: 0,
        total: 1,
        paused: false,
      });
    });

    test("the pause is the queue's alone, and keeps its retention", T, async (t) => {
      const { spool } = await fresh(b, t);
      const a = spool.queue("a", { retention: { completed: 0 } });
      const other = spool.queue("other");
      await a.add("a1");
      await other.add("o1");
      await a.pause();
      assert.equal(await a.reserve(), null);
      assert.equal((await other.reserve())?.payload, "o1");
      assert.equal(await other.isPaused(), false);
      await a.resume();
      const job = await a.reserve();
      assert.ok(job);
      await a.complete(job);
      // retention completed: 0 still applies after the pause upserted the settings row
      assert.equal(await a.get(job.id), null);
    });

    test(
      "a paused queue's jobs can still be added, held jobs completed, and a channel still receives",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("held");
        await q.add("first");
        const held = await q.reserve();
        assert.ok(held);
        await q.pause();
        const id = await q.add("second");
        assert.ok(id > 0);
        await q.complete(held, "done");
        assert.equal((await q.get(held.id))?.state, "completed");
        assert.equal(await q.reserve(), null);
        // Channels are not paused: pause is a worker's control.
        const [sender, receiver] = await spool.channel<string>("msgs");
        await sender.send("hi");
        await spool.queue("msgs").pause();
        assert.deepEqual(await receiver.recvBatch(10), ["hi"]);
      },
    );

    test(
      "a worker stops claiming on pause, hands back its prefetched jobs, and resumes at once",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue<number>("w");
        const ran: number[] = [];
        let release: () => void = () => {};
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const worker = q.process(
          async (job) => {
            ran.push(job.payload);
            if (job.payload === 1) await gate;
          },
          { concurrency: 1, pollInterval: 60_000 },
        );
        t.after(() => worker.stop({ timeout: 0 }));
        try {
          // Quick jobs first: a worker claims ahead only once it has seen its handlers are quick.
          await q.addBatch(Array.from({ length: 20 }, (_, i) => 100 + i));
          await waitFor("the warm-up jobs to complete", async () => (await q.size()).completed === 20);
          ran.length = 0;
          // Job 0 is quick, job 1 blocks. A worker that found its queue empty claims one job
          // alone when woken: it claims ahead with the next claim, job 1's.
          await q.addBatch(Array.from({ length: 50 }, (_, i) => i));
          await waitFor("the blocking job to run", () => ran.includes(1));
          await waitFor("the worker to claim ahead", async () => (await q.size()).reserved > 1);
          await q.pause();
          // The prefetched, unstarted jobs go back: only the running one stays reserved.
          await waitFor("prefetched jobs handed back", async () => (await q.size()).reserved === 1);
          release();
          await waitFor("the running job to complete", async () => (await q.size()).completed === 22);
          // Woken by its completion, the worker claims again, and finds nothing while paused.
          assert.equal((await q.size()).reserved, 0);
          assert.deepEqual(ran, [0, 1]);
          // pollInterval is a minute: only the resume's wake-up can start it again.
          await q.resume();
          await waitFor("every job to complete after resume", async () => (await q.size()).completed === 70);
        } finally {
          release(); // even when an assertion failed: closing the Spool waits for its handlers
        }
      },
    );

    test("pause on a closed Spool rejects CLOSED", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("c");
      await spool.close();
      await expectCode(() => q.pause(), "CLOSED");
      await expectCode(() => q.resume(), "CLOSED");
      await expectCode(() => q.isPaused(), "CLOSED");
    });
  });

  describe("progress", () => {
    test("a holder's progress is stored, shown by get and list, null when never set", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("prog");
      const id = await q.add("x");
      assert.equal((await q.get(id))?.progress, null);
      const job = await q.reserve();
      assert.ok(job);
      await q.progress(job, 42.5);
      assert.equal((await q.get(id))?.progress, 42.5);
      await q.progress(job, { step: "upload", done: 3, of: 7, nested: { ok: true, list: [1, "a", null] } });
      assert.deepEqual((await q.get(id))?.progress, {
        step: "upload",
        done: 3,
        of: 7,
        nested: { ok: true, list: [1, "a", null] },
      });
      const [listed] = await q.list({ state: "reserved" });
      assert.deepEqual(listed?.progress, (await q.get(id))?.progress);
      await q.progress(id, 100); // a bare id: any holder
      await q.complete(job);
      // Kept on the finished job.
      assert.equal((await q.get(id))?.progress, 100);
    });

    test("progress is kept when the job fails and is retried", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("retry");
      const id = await q.add("x", { maxAttempts: 2, backoff: { type: "fixed", delay: 0 } });
      const first = await q.reserve();
      assert.ok(first);
      await q.progress(first, 30);
      await q.fail(first, new Error("boom"));
      assert.equal((await q.get(id))?.progress, 30);
      const second = await q.reserve();
      assert.equal(second?.attempts, 2);
      assert.equal((await q.get(id))?.progress, 30);
    });

    test("a stale holder's progress is refused like its extend", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("stale");
      const id = await q.add("x");
      const first = (await q.reserve({ lease: 50 })) as Job<unknown>;
      assert.ok(first);
      await clockPast(first.leaseUntil, 30);
      const second = await q.reserve({ lease: 60_000 });
      assert.equal(second?.id, id);
      await q.progress(second as Job<unknown>, 10);
      const extendError = await expectCode(() => q.extend(first, 1000), "LEASE_LOST");
      await expectCode(() => q.progress(first, 99), extendError.code, String(id));
      assert.equal((await q.get(id))?.progress, 10, "the stale holder changed nothing");
      // A completed job takes no more progress; a missing one is NOT_FOUND, as extend says.
      await q.complete(second as Job<unknown>);
      await expectCode(() => q.progress(second as Job<unknown>, 50), "LEASE_LOST");
      await expectCode(() => q.progress(id, 50), "LEASE_LOST");
      await expectCode(() => q.progress(id + 1000, 50), "NOT_FOUND");
      await expectCode(() => q.extend(id + 1000, 50), "NOT_FOUND");
    });

    test("odd progress values are refused, naming the value, before anything is stored", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("odd");
      await q.add("x");
      const job = await q.reserve();
      assert.ok(job);
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      const huge = { blob: "x".repeat(70_000) };
      const odd: Array<[unknown, string]> = [
        [Number.NaN, "NaN"],
        [Number.POSITIVE_INFINITY, "Infinity"],
        [-1, "-1"],
        [101, "101"],
        [() => 1, "function"],
        [{ f: () => 1 }, "function"],
        [cycle, "cycle"],
        [huge, "bytes"],
        ["50", '"50"'],
        [null, "null"],
        [undefined, "undefined"],
        [[1, 2], "array"],
        [new Date(0), "Date"],
        [{ when: new Date(0) }, "Date"],
        [{ n: Number.NaN }, "NaN"],
        [{ u: undefined }, "undefined"],
        [{ big: 1n }, "bigint"],
        [new Map(), "Map"],
      ];
      for (const [value, mention] of odd) {
        await expectCode(() => q.progress(job, value as never), "INVALID_ARGUMENT", mention);
      }
      assert.equal((await q.get(job.id))?.progress, null);
      await q.progress(job, 0);
      await q.progress(job, Object.create(null) as Record<string, unknown>);
      assert.deepEqual({ ...((await q.get(job.id))?.progress as object) }, {});
    });

    test("a progress value is read once: what was checked is what is stored", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("read-once");
      await q.add("x");
      const job = await q.reserve();
      assert.ok(job);
      // A toJSON JSON.stringify would call, even unlisted: refused, not obeyed.
      const hidden = Object.defineProperty({ a: 1 }, "toJSON", { value: () => 150, enumerable: false });
      await expectCode(() => q.progress(job, hidden), "INVALID_ARGUMENT", "toJSON");
      let reads = 0;
      const flip = {
        get step(): unknown {
          reads++;
          return reads === 1 ? 3 : () => 1;
        },
      };
      await q.progress(job, flip);
      assert.equal(reads, 1);
      assert.deepEqual((await q.get(job.id))?.progress, { step: 3 });
      // Far past the limit: refused before the walk reads it all.
      let touched = 0;
      const wide: Record<string, unknown> = {};
      for (let i = 0; i < 100_000; i++) {
        Object.defineProperty(wide, `k${i}`, {
          enumerable: true,
          get() {
            touched++;
            return i;
          },
        });
      }
      await expectCode(() => q.progress(job, wide), "INVALID_ARGUMENT", "bytes");
      assert.ok(touched < 100_000, `read ${touched} of 100000 values before refusing`);
    });

    test("a handler's ctx.progress is stored and emitted as the worker's progress event", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("ctx");
      const id = await q.add("x");
      const seen: Array<[number, unknown]> = [];
      let during: unknown;
      const worker = q.process(async (job, ctx) => {
        await ctx.progress(25);
        await ctx.progress({ stage: "half" });
        during = (await q.get(job.id))?.progress;
        await assert.rejects(() => ctx.progress(500), /INVALID_ARGUMENT|0 to 100/);
      });
      worker.on("progress", (job, value) => seen.push([job.id, value]));
      t.after(() => worker.stop());
      await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
      assert.deepEqual(during, { stage: "half" });
      assert.deepEqual(seen, [
        [id, 25],
        [id, { stage: "half" }],
      ]);
      assert.deepEqual((await q.get(id))?.progress, { stage: "half" });
    });
  });
}

// Found by the hostile review of issue 11's core: each a value or a race the checks let through.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

export function reviewCore(b: BackendFixture): void {
  describe("core under hostile values", () => {
    test(
      "a handler's extend longer than the worker's lease is not cut back by the heartbeat",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("extendlong", { maxAttempts: 3 });
        const id = await q.add("x");
        let runs = 0;
        const errors: unknown[] = [];
        const worker = q.process(
          async (_job, { extend }) => {
            runs++;
            await extend(5000);
            // Heartbeats come and go (every 200 ms), then the loop is blocked past the lease.
            await new Promise((resolve) => setTimeout(resolve, 700));
            const until = Date.now() + 1500;
            while (Date.now() < until) {
              // CPU-bound work: the heartbeat cannot run, the extended lease must hold.
            }
          },
          { lease: 600, pollInterval: 50 },
        );
        worker.on("error", (e) => errors.push(e));
        t.after(() => worker.stop());
        await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
        assert.equal(runs, 1, "the job ran again: its extended lease was cut back");
        assert.deepEqual(errors, []);
      },
    );

    test("a backoff function answering a huge number still fails the job (capped, stored)", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("hugebackoff", { backoff: () => 1e300 });
      const id = await q.add("x");
      const job = (await q.reserve()) as Job<unknown>;
      assert.equal(await q.fail(job, new Error("boom")), "pending");
      const info = await q.get(id);
      assert.equal(info?.state, "delayed");
      assert.equal(info?.lastError, "boom");
      assert.ok(Number.isFinite(info?.runAt.getTime()), "runAt is a valid Date");
    });

    test("an error whose message getter throws is still stored; the job is not stranded", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("hostileerror", { maxAttempts: 1 });
      const hostile = new Error("x");
      Object.defineProperty(hostile, "message", {
        get() {
          throw new Error("getter boom");
        },
      });
      const id = await q.add("manual");
      const job = (await q.reserve()) as Job<unknown>;
      assert.equal(await q.fail(job, hostile), "dead");
      assert.match(String((await q.get(id))?.lastError), /could not be read/);
      const wid = await q.add("worker");
      const worker = q.process(() => {
        throw hostile;
      });
      worker.on("error", () => {});
      t.after(() => worker.stop());
      await waitFor("the worker's job to be dead", async () => (await q.get(wid))?.state === "dead");
    });

    test("keys one store could not keep exactly are INVALID_ARGUMENT everywhere", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("oddkeys");
      const cjk = String.fromCodePoint(
        ...Array.from({ length: 1024 }, (_, i) => 0x4e00 + ((i * 7919) % 20000)),
      );
      await expectCode(() => q.add(1, { key: cjk }), "INVALID_ARGUMENT", "key");
      await expectCode(() => q.add(1, { key: "x\ud800" }), "INVALID_ARGUMENT", "key");
      await expectCode(() => q.add(1, { key: "x\udc00y" }), "INVALID_ARGUMENT", "key");
      // A well-formed pair is fine, and 512 emoji (2048 bytes) too.
      assert.ok((await q.add(1, { key: "x😀" })) > 0);
      assert.ok((await q.add(1, { key: "😀".repeat(512) })) > 0);
      assert.deepEqual(await q.size(), {
        waiting: 0,
        pending: 2,
        delayed: 0,
        reserved: 0,
        completed: 0,
        dead: 0,
        total: 2,
        paused: false,
      });
    });

    test("values past what every store holds are INVALID_ARGUMENT, never STORAGE", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ranges");
      await expectCode(() => q.add(1, { maxAttempts: 2 ** 31 }), "INVALID_ARGUMENT", "maxAttempts");
      await expectCode(() => q.add(1, { runAt: new Date(-8.64e15) }), "INVALID_ARGUMENT", "runAt");
      await expectCode(() => q.add(1, { runAt: 4e15 + 1 }), "INVALID_ARGUMENT", "runAt");
      assert.ok((await q.add(1, { runAt: 4e15, ttl: 1e15 })) > 0, "the latest runAt with the longest ttl");
      assert.ok((await q.add(1, { maxAttempts: 2 ** 31 - 1 })) > 0);
      const job = (await q.reserve()) as Job<unknown>;
      await expectCode(() => q.complete({ ...job, token: 2 ** 31 }), "INVALID_ARGUMENT", "job.token");
      await expectCode(
        () => q.extend({ ...job, attempts: 2 ** 40 }, 1000),
        "INVALID_ARGUMENT",
        "job.attempts",
      );
      assert.equal(await q.purge({ state: "dead", olderThan: 1e15 }), 0);
      await q.complete(job);
    });

    test("a retention longer than history still prunes the other state", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("longretention", { retention: { completed: 1e15, dead: 1 }, maxAttempts: 1 });
      const done = await q.add("done");
      const gone = await q.add("gone");
      await q.complete((await q.reserve()) as Job<unknown>);
      await q.fail((await q.reserve()) as Job<unknown>, new Error("x"));
      await waitFor("the dead job to be pruned", async () => (await q.get(gone)) === null);
      assert.equal((await q.get(done))?.state, "completed");
    });

    test("a refused process() leaves the Spool a viewer (it prunes nothing)", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("viewer");
      assert.throws(() => q.process(async () => {}, { lease: 100 }), /lease/);
      assert.ok(!spool.ctx.settings.workedQueues.has("viewer"), "a refused worker made the Spool prune");
      assert.throws(() => q.process(async () => {}, { timeout: 3e9 }), /timeout/);
    });

    test(
      "stop() with a bad timeout rejects (a promise never throws) and the worker runs on",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("badstop");
        const worker = q.process(async () => {});
        t.after(() => worker.stop());
        let thrown: unknown;
        let promise: Promise<void> | undefined;
        try {
          promise = worker.stop({ timeout: -1 });
        } catch (error) {
          thrown = error;
        }
        assert.equal(thrown, undefined, "stop threw instead of rejecting");
        await expectCode(() => promise, "INVALID_ARGUMENT", "timeout");
        assert.ok(worker.isRunning);
      },
    );

    test("payloads JSON would silently empty are ENCODE", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("emptied");
      await expectCode(() => q.add(new ArrayBuffer(4)), "ENCODE");
      await expectCode(() => q.add({ m: new Map([[1, 2]]) }), "ENCODE");
      await expectCode(() => q.add({ s: new Set([1]) }), "ENCODE");
      await expectCode(() => q.add(new Uint16Array([1, 2])), "ENCODE");
      assert.equal((await q.size()).total, 0);
      // Bytes as ever: a Buffer or a Uint8Array is stored as raw bytes.
      const id = await q.add(new Uint8Array([1, 2]));
      assert.deepEqual((await q.get(id))?.payload, Buffer.from([1, 2]));
    });

    test("an options getter is read once: the value checked is the value stored", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("getter");
      let reads = 0;
      const options = {
        get key() {
          reads++;
          return reads === 1 ? "ok" : "x".repeat(5000);
        },
      };
      const id = await q.add(1, options);
      assert.equal((await q.get(id))?.key, "ok");
    });
  });
}

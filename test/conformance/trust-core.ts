// Regression tests for the core defects of issue 11 (durations, payload copies, backoff
// precedence, worker wake-ups and shutdown, error texts), on every backend.
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import type { Codec, Job } from "../../src/index.js";
import { type BackendFixture, child, childTarget, expectCode, fresh, near, T, waitFor } from "./harness.js";

const TOL = 5000;

/** A promise with its resolver: handlers wait on gates the test opens. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** Resolves with `promise`, or fails naming `what` when it takes longer than `ms`. */
async function within<R>(ms: number, what: string, promise: Promise<R>): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function whole(value: number, what: string): void {
  assert.ok(Number.isInteger(value), `${what} must be whole ms, got ${value}`);
}

export function trustCore(b: BackendFixture): void {
  describe("trust: core", () => {
    // ---- 1: fractional durations ----------------------------------------------------------
    test("fractional delay, runAt, ttl, lease and extend are rounded up, never refused", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("frac", { lease: 1000.5, delay: 0.25 });
      const before = Date.now();
      const delayed = await q.add("d", { delay: 1.5 });
      const jitter = await q.add("j", { delay: Math.random() * 5000 });
      const ttl = await q.add("t", { ttl: 1000.5, delay: 0 });
      const at = await q.add("r", { runAt: Date.now() + 0.5 });
      const dflt = await q.add("q");
      for (const id of [delayed, jitter, ttl, at, dflt]) {
        const info = await q.get(id);
        assert.ok(info, `job ${id} stored`);
        whole(info.runAt.getTime(), "runAt");
      }
      const d = await q.get(delayed);
      assert.ok(d!.runAt.getTime() >= d!.createdAt.getTime() + 2 || b.kind === "postgres", "1.5 ms → 2 ms");
      await waitFor("the delayed jobs to be ready", async () => (await q.size()).delayed <= 1, 10_000);
      const job = await q.reserve({ lease: 1000.5 });
      assert.ok(job, "a ready job");
      whole(job.leaseUntil.getTime(), "leaseUntil");
      await q.extend(job, 1000.5);
      whole(job.leaseUntil.getTime(), "leaseUntil after extend");
      assert.equal(await q.fail(job, "again", { retryIn: 0.5 }), "pending");
      const byQueueLease = await q.reserve();
      assert.ok(byQueueLease, "the queue's fractional default lease is accepted");
      await q.complete(byQueueLease);
      assert.ok((await q.purge({ state: "completed", olderThan: 0.5 })) >= 0);
      assert.ok(Date.now() >= before);
    });

    test("a duration or time too large to store is INVALID_ARGUMENT, not STORAGE", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("huge");
      await expectCode(() => q.add("x", { delay: 1e300 }), "INVALID_ARGUMENT", "delay");
      await expectCode(() => q.add("x", { ttl: 1e300 }), "INVALID_ARGUMENT", "ttl");
      await expectCode(() => q.add("x", { runAt: 1e300 }), "INVALID_ARGUMENT", "runAt");
      await expectCode(() => q.add("x", { delay: 2 ** 53 }), "INVALID_ARGUMENT", "delay");
      assert.equal((await q.size()).total, 0);
      await q.add("x");
      await expectCode(() => q.reserve({ lease: 1e300 }), "INVALID_ARGUMENT", "lease");
      const job = await q.reserve();
      assert.ok(job);
      await expectCode(() => q.extend(job, 1e300), "INVALID_ARGUMENT", "extend");
      const far = await q.add("far", { delay: 1e15 });
      assert.ok(
        (await q.get(far))!.runAt.getTime() > Date.now(),
        "the longest delay is stored as a valid time",
      );
    });

    test("fractional backoffs, stored or returned by a function, are rounded up", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("frac-backoff", { backoff: () => 0.5, maxAttempts: 5 });
      const fixed = await q.add("f", { backoff: { type: "fixed", delay: 0.5 } });
      const expo = await q.add("e", { backoff: { type: "exponential", delay: 0.3, max: 0.7 } });
      const fn = await q.add("n");
      for (const id of [fixed, expo, fn]) {
        const job = await q.reserve();
        assert.ok(job, `job ${id} ready`);
        assert.equal(await q.fail(job, "x"), "pending");
        whole((await q.get(job.id))!.runAt.getTime(), "runAt after a fractional backoff");
      }
    });

    test("a worker with a fractional lease, timeout and pollInterval runs its jobs", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("frac-worker");
      const errors: unknown[] = [];
      const w = q.process(async (job) => job.payload, {
        lease: 2000.5,
        timeout: 5000.5,
        pollInterval: 100.5,
      });
      w.on("error", (e) => errors.push(e));
      t.after(() => w.stop());
      await q.addBatch([1, 2, 3], { delay: 0.5 });
      await waitFor("three jobs completed", async () => (await q.size()).completed === 3);
      assert.deepEqual(errors, []);
      await w.stop();
    });

    // ---- 2: payloads are copied when added ---------------------------------------------------
    test("a Buffer rewritten after add is stored as it was at the call", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Buffer>("reuse");
      const buf = Buffer.alloc(4);
      const adds: Promise<number>[] = [];
      for (let i = 0; i < 3; i++) {
        buf.fill(i + 1);
        adds.push(q.add(buf));
      }
      buf.fill(9);
      const ids = await Promise.all(adds);
      const stored = await Promise.all(ids.map(async (id) => [...((await q.get(id))!.payload as Buffer)]));
      assert.deepEqual(stored, [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        [3, 3, 3, 3],
      ]);
    });

    test("a custom codec that reuses its output buffer stores each payload", T, async (t) => {
      const { spool } = await fresh(b, t);
      const scratch = Buffer.alloc(1);
      const codec: Codec<number> = {
        encode(n) {
          scratch[0] = n;
          return scratch;
        },
        decode: (bytes) => bytes[0] as number,
      };
      const q = spool.queue<number>("reuse-codec", { codec });
      const ids = await Promise.all([q.add(1), q.add(2), q.add(3)]);
      const stored = await Promise.all(ids.map(async (id) => (await q.get(id))!.payload));
      assert.deepEqual(stored, [1, 2, 3]);
    });

    // ---- 6: backoff precedence ---------------------------------------------------------------
    test("a job's own backoff wins over the queue's function backoff", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("own-wins", { backoff: () => 1000 });
      const id = await q.add("x", { backoff: { type: "fixed", delay: 600_000 } });
      const job = await q.reserve();
      const at = Date.now();
      await q.fail(job!, "no");
      near((await q.get(id))!.runAt.getTime() - at, 600_000, TOL, "the job's own fixed backoff");
    });

    test("a per-add function backoff applies where this queue fails the job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("add-fn", { backoff: { type: "fixed", delay: 600_000 } });
      const id = await q.add("x", { backoff: () => 123_456 });
      const job = await q.reserve();
      const at = Date.now();
      await q.fail(job!, "no");
      near((await q.get(id))!.runAt.getTime() - at, 123_456, TOL, "the job's function backoff");
    });

    test("a deduplicated add's function backoff leaves the existing job's policy alone", T, async (t) => {
      // Found by review: the add that a key swallowed attached its function to the job it found.
      const { spool } = await fresh(b, t);
      const q = spool.queue("dedupe-fn", { backoff: { type: "fixed", delay: 600_000 } });
      const id = await q.add("first", { key: "k" });
      assert.equal(await q.add("second", { key: "k", backoff: () => 123_456 }), id);
      const job = await q.reserve();
      const at = Date.now();
      await q.fail(job!, "no");
      near((await q.get(id))!.runAt.getTime() - at, 600_000, TOL, "the existing job's queue backoff");
    });

    test("a per-add function backoff applies where this queue's worker fails the job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("add-fn-worker", { backoff: () => 600_000 });
      const id = await q.add("x", { backoff: () => 123_456 });
      const w = q.process(() => {
        throw new Error("no");
      });
      t.after(() => w.stop());
      const at = Date.now();
      await once(w, "failed");
      near((await q.get(id))!.runAt.getTime() - at, 123_456, TOL, "the job's function backoff");
    });

    test("a per-add function backoff keeps the queue's default for other queue objects", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("add-fn-keep", { backoff: { type: "fixed", delay: 600_000 } });
      const id = await q.add("x", { backoff: () => 0 });
      const other = spool.queue("add-fn-keep");
      const job = await other.reserve();
      const at = Date.now();
      await other.fail(job!, "no");
      near((await q.get(id))!.runAt.getTime() - at, 600_000, TOL, "the queue default, not the built-in one");
    });

    test("the queue's function backoff applies to a job without its own", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("queue-fn", { backoff: () => 123_456 });
      const id = await spool.queue("queue-fn").add("x");
      const job = await q.reserve();
      const at = Date.now();
      await q.fail(job!, "no");
      near((await q.get(id))!.runAt.getTime() - at, 123_456, TOL, "the queue's function backoff");
    });

    // ---- 7: wake-ups during the idle check ---------------------------------------------------
    test("close right after drained does not wait a poll interval", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("drained-close");
      const w = q.process(async () => {}, { pollInterval: 60_000 });
      await once(w, "drained");
      await within(10_000, "close after drained", spool.close());
    });

    test("a job added from a drained listener runs at once", T, async (t) => {
      const { spool } = await fresh(b, t, { crossProcessWakeups: false });
      const q = spool.queue("drained-add");
      const w = q.process(async () => {}, { pollInterval: 60_000 });
      t.after(() => w.stop());
      w.once("drained", () => void q.add("late"));
      await waitFor("the job added on drained to complete", async () => (await q.size()).completed === 1);
    });

    // ---- 8: worker leases too short to heartbeat ---------------------------------------------
    test("a worker lease below 500 ms is refused with INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("short");
      await expectCode(() => q.process(async () => {}, { lease: 40 }), "INVALID_ARGUMENT", "lease", "500");
      await expectCode(() => q.process(async () => {}, { lease: 499 }), "INVALID_ARGUMENT", "lease", "500");
      const short = spool.queue("short", { lease: 100 });
      await expectCode(() => short.process(async () => {}), "INVALID_ARGUMENT", "lease", "500");
      assert.ok(await short.add("reserve may still use it"));
      assert.ok(await short.reserve(), "reserve takes any positive lease");
    });

    test("a job outliving several minimum leases runs once", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("min-lease");
      const id = await q.add("x");
      const runs: number[] = [];
      const started = gate();
      const release = gate();
      const w1 = q.process(
        async (job) => {
          runs.push(job.id);
          started.open();
          await release.promise;
        },
        { lease: 500, pollInterval: 50 },
      );
      t.after(() => w1.stop());
      await started.promise;
      const w2 = q.process(
        async (job) => {
          runs.push(job.id);
        },
        { lease: 500, pollInterval: 50 },
      );
      t.after(() => w2.stop());
      const until = Date.now() + 2000;
      await waitFor("four leases to pass", () => Date.now() > until, 10_000);
      release.open();
      await waitFor("the job completed", async () => (await q.get(id))?.state === "completed");
      assert.deepEqual(runs, [id], "one run only");
      assert.equal((await q.get(id))?.attempts, 1);
    });

    // ---- 9: the timeout timer does not outlive close -----------------------------------------
    test("a handler ignoring its signal does not keep the process alive after close", T, async (t) => {
      const { target } = await fresh(b, t);
      const k = child(t, "timeout-close.ts", childTarget(target), "timeout-close");
      await k.waitLine(/^closed$/);
      await waitFor("the child to exit after close", () => k.exited, 10_000);
      assert.equal((await k.exit).code, 0);
    });

    // ---- 10: a throwing listener ------------------------------------------------------------
    test("a drained listener that throws is reported and the worker goes on", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("listener-throws");
      const errors: unknown[] = [];
      const w = q.process(async () => "ok", { pollInterval: 100 });
      w.on("error", (e) => errors.push(e));
      w.once("drained", () => {
        throw new Error("listener boom");
      });
      t.after(() => w.stop());
      await waitFor("the listener's throw reported", () => errors.length > 0);
      assert.match(String((errors[0] as Error).message), /listener boom/);
      await q.add("after");
      await waitFor("the worker to go on", async () => (await q.size()).completed === 1);
      await within(10_000, "stop", w.stop());
    });

    // ---- 11: stop releases unstarted jobs with a wake-up -------------------------------------
    test("a stopping worker's unstarted jobs wake other workers at once", T, async (t) => {
      if (!b.persistent) return t.skip("needs a second handle that does not wake this one");
      const { spool, reopen } = await fresh(b, t, { crossProcessWakeups: false });
      const q = spool.queue<number>("handback");
      const done: number[] = [];
      const other = q.process(
        async (job) => {
          done.push(job.payload);
        },
        { pollInterval: 60_000 },
      );
      t.after(() => other.stop());
      await once(other, "drained");
      // Added through a handle that does not wake this one: `other` sleeps on.
      await (await reopen()).queue<number>("handback").addBatch([1, 2, 3]);
      // Stopped while its first claim is in flight: the jobs it gets are handed back unstarted.
      let started = 0;
      const stopping = q.process(
        async () => {
          started++;
        },
        { concurrency: 3 },
      );
      await stopping.stop();
      if (started > 0) return t.skip("the claim missed the stop");
      await waitFor("the other worker to run the handed-back jobs", () => done.length === 3);
      assert.deepEqual(
        done.sort((x, y) => x - y),
        [1, 2, 3],
      );
    });

    // ---- 12 and 17: error texts --------------------------------------------------------------
    test("the same thrown value is stored as the same text by the worker and by fail", T, async (t) => {
      const { spool } = await fresh(b, t);
      const values: unknown[] = [{ code: 42 }, 7, null, "words", new Error("boom"), ["a"]];
      const viaWorker = spool.queue<number>("texts-worker");
      const viaFail = spool.queue<number>("texts-fail");
      const wIds = await viaWorker.addBatch(
        values.map((_, i) => i),
        { maxAttempts: 1 },
      );
      const fIds = await viaFail.addBatch(
        values.map((_, i) => i),
        { maxAttempts: 1 },
      );
      for (const _ of values) {
        const job = (await viaFail.reserve()) as Job<number>;
        await viaFail.fail(job, values[job.payload]);
      }
      const w = viaWorker.process((job) => {
        throw values[job.payload];
      });
      t.after(() => w.stop());
      await waitFor("every worker job dead", async () => (await viaWorker.size()).dead === values.length);
      for (const [i, value] of values.entries()) {
        const a = (await viaWorker.get(wIds[i]!))?.lastError;
        const c = (await viaFail.get(fIds[i]!))?.lastError;
        assert.equal(a, c, `the texts of ${String(value)}`);
        assert.ok(a && !a.includes("[object Object]"), `a readable text, got ${a}`);
      }
    });

    test("a heartbeat that loses its lease says the lease was lost", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("hb-lost");
      const id = await q.add("x");
      const errors: Error[] = [];
      const running = gate();
      const w = q.process(
        async (_job, { signal }) => {
          running.open();
          await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
        },
        { lease: 600 },
      );
      w.on("error", (e) => errors.push(e as Error));
      t.after(() => w.stop());
      await running.promise;
      assert.equal(await q.remove(id), true);
      await waitFor("the heartbeat to report the lost lease", () => errors.length > 0);
      assert.match(errors[0]!.message, /lease was lost/);
      assert.doesNotMatch(errors[0]!.message, /could not be completed/);
    });

    test("a NUL byte in an error text is stored safely and the job is failed", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("nul");
      const id = await q.add("x", { maxAttempts: 1 });
      const w = q.process(() => {
        throw new Error("bad\0byte");
      });
      t.after(() => w.stop());
      await waitFor("the job dead", async () => (await q.get(id))?.state === "dead");
      assert.equal((await q.get(id))?.lastError, "bad\uFFFDbyte");
      await w.stop();
      const other = await q.add("y", { maxAttempts: 1 });
      await q.fail((await q.reserve())!, "also\0here");
      assert.equal((await q.get(other))?.lastError, "also\uFFFDhere");
    });

    test("a lone surrogate in an error text is stored as one U+FFFD on every driver", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("surrogate");
      const id = await q.add("x", { maxAttempts: 1 });
      // Half an emoji, as a message cut short would hold.
      await q.fail((await q.reserve())!, new Error("x\uD83Dy"));
      assert.equal((await q.get(id))?.lastError, "x\uFFFDy");
    });

    test("a dedupe key with a NUL byte is refused with INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("nul-key");
      await expectCode(() => q.add("x", { key: "a\0b" }), "INVALID_ARGUMENT", "key");
      assert.equal((await q.size()).total, 0);
    });
  });
}

import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import { SpoolError } from "../../src/index.js";
import { pickyCodec } from "./codecs.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

/** A promise with its resolver: handlers wait on gates the test opens. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

export function worker(b: BackendFixture): void {
  describe("worker", () => {
    test("runs up to concurrency handlers at once and completes every job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("conc");
      await q.addBatch([1, 2, 3, 4, 5, 6, 7]);
      const g = gate();
      let running = 0;
      let maxRunning = 0;
      const w = q.process(
        async (job) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await g.promise;
          running--;
          return job.payload * 2;
        },
        { concurrency: 3 },
      );
      t.after(() => w.stop());
      await waitFor("three handlers running", () => running === 3);
      g.open();
      await waitFor("all jobs completed", async () => (await q.size()).completed === 7);
      assert.equal(maxRunning, 3, "never more than concurrency at once");
      await w.stop();
    });

    test("the handler's value is kept as result and emitted with completed", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<{ n: number }>("result");
      const id = await q.add({ n: 21 });
      const w = q.process(async (job) => ({ doubled: job.payload.n * 2 }));
      t.after(() => w.stop());
      const [job, result] = (await once(w, "completed")) as [{ id: number }, unknown];
      assert.equal(job.id, id);
      assert.deepEqual(result, { doubled: 42 });
      await waitFor("the completion to be stored", async () => (await q.get(id))?.state === "completed");
      assert.deepEqual((await q.get(id))?.result, { doubled: 42 });
    });

    test("a handler may replace its context's signal, before or after reading it", T, async (t) => {
      // Found by review: once the signal was made on first read, assigning it threw a TypeError.
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("signal-swap");
      const ids = await q.addBatch([1, 2]);
      const w = q.process(async (job, ctx) => {
        const timeout = AbortSignal.timeout(60_000);
        ctx.signal = job.payload === 1 ? AbortSignal.any([ctx.signal, timeout]) : timeout;
        ctx.signal.throwIfAborted();
        return ctx.signal === timeout || job.payload === 1;
      });
      t.after(() => w.stop());
      await waitFor("both jobs to complete", async () => {
        const states = await Promise.all(ids.map(async (id) => (await q.get(id))?.state));
        return states.every((s) => s === "completed");
      });
      for (const id of ids) assert.equal((await q.get(id))?.result, true);
    });

    test(
      "a handler's context is a plain object with its four members own: a copy, a Proxy and a child read them",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue<number>("context-copy");
        const id = await q.add(1);
        const w = q.process(async (_job, ctx) => {
          const copy = { ...ctx };
          await copy.extend(60_000);
          // Found by review: a signal kept in a private field threw when read through a Proxy
          // (a tracing wrapper) or an object made from the context.
          const traced = new Proxy(ctx, {
            get: (target, key, receiver) => Reflect.get(target, key, receiver),
          });
          return {
            keys: Object.keys(ctx).sort(),
            live: copy.signal instanceof AbortSignal && !copy.signal.aborted,
            same: copy.signal === ctx.signal,
            throughProxy: traced.signal === ctx.signal,
            throughChild: (Object.create(ctx) as typeof ctx).signal === ctx.signal,
            plain: Object.getPrototypeOf(ctx) === Object.prototype,
          };
        });
        t.after(() => w.stop());
        await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
        assert.deepEqual((await q.get(id))?.result, {
          keys: ["extend", "progress", "results", "signal"],
          live: true,
          same: true,
          throughProxy: true,
          throughChild: true,
          plain: true,
        });
      },
    );

    test("a throwing handler fails the job with backoff and emits failed", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("throws");
      const id = await q.add("x", { backoff: { type: "fixed", delay: 60_000 } });
      const w = q.process(async () => {
        throw new Error("handler broke");
      });
      t.after(() => w.stop());
      const [job, error, state] = (await once(w, "failed")) as [{ id: number }, Error, string];
      assert.equal(job.id, id);
      assert.equal(error.message, "handler broke");
      assert.equal(state, "pending");
      await waitFor("the failure to be stored", async () => (await q.get(id))?.state === "delayed");
      const info = await q.get(id);
      assert.match(info?.lastError ?? "", /handler broke/);
      assert.ok(info!.runAt.getTime() > Date.now() + 50_000, "retried after its backoff");
    });

    test("a handler's last allowed failure makes the job dead", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("dies");
      const id = await q.add("x", { maxAttempts: 2, backoff: { type: "fixed", delay: 0 } });
      const states: string[] = [];
      const w = q.process(async () => Promise.reject(new Error("always")));
      w.on("failed", (_j, _e, state) => states.push(state));
      t.after(() => w.stop());
      await waitFor("the job to be dead", async () => (await q.get(id))?.state === "dead");
      assert.deepEqual(states, ["pending", "dead"]);
      assert.equal((await q.get(id))?.attempts, 2);
    });

    test("past timeout the signal aborts and the job fails with 'timeout'", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("timeout");
      const id = await q.add("x", { maxAttempts: 1 });
      let aborted = false;
      const w = q.process(
        (_job, { signal }) =>
          new Promise((resolve) => {
            signal.addEventListener("abort", () => {
              aborted = true;
              resolve("too late");
            });
          }),
        { timeout: 100 },
      );
      t.after(() => w.stop());
      await waitFor("the timed-out job to be dead", async () => (await q.get(id))?.state === "dead");
      assert.equal(aborted, true, "the handler's signal was aborted");
      assert.match((await q.get(id))?.lastError ?? "", /timeout/);
    });

    test("drained is emitted once no ready job is left", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("drain");
      await q.addBatch([1, 2, 3]);
      const w = q.process(async () => "ok", { concurrency: 2 });
      t.after(() => w.stop());
      await once(w, "drained");
      assert.equal((await q.size()).pending, 0);
      await waitFor("all completed", async () => (await q.size()).completed === 3);
    });

    test("drained comes when the last running handler ends, not a poll interval later", T, async (t) => {
      // The worker's claim found nothing while a handler still ran: it slept its poll interval,
      // and "drained" waited for that sleep to end (hostile review: a full pollInterval late).
      const { spool } = await fresh(b, t);
      const q = spool.queue("drain-late");
      await q.add(1);
      const g = gate();
      let started = false;
      const w = q.process(
        async () => {
          started = true;
          await g.promise;
        },
        { concurrency: 2, pollInterval: 3_600_000 },
      );
      t.after(() => w.stop({ timeout: 0 }));
      let drained = false;
      w.on("drained", () => {
        drained = true;
      });
      await waitFor("the handler to start", () => started);
      g.open();
      await waitFor("drained", () => drained);
      assert.equal((await q.size()).completed, 1);
    });

    test(
      "drained comes at once when the last handler ends while the worker asks when to wake",
      T,
      async (t) => {
        // Between the claim that found nothing and its sleep the worker awaits nextDueIn: a handler
        // ending there found no sleep to cut short, and "drained" waited the whole poll interval.
        const { spool } = await fresh(b, t);
        const q = spool.queue("drain-race");
        await q.add(1);
        const g = gate();
        const backend = spool.ctx.backend;
        const nextDueIn = backend.nextDueIn.bind(backend);
        backend.nextDueIn = async (...args) => {
          const due = await nextDueIn(...args);
          g.open(); // the handler ends now, before the worker sleeps
          await new Promise((resolve) => setImmediate(resolve));
          return due;
        };
        const w = q.process(() => g.promise, { concurrency: 2, pollInterval: 3_600_000 });
        t.after(() => w.stop({ timeout: 0 }));
        let drained = false;
        w.on("drained", () => {
          drained = true;
        });
        await waitFor("drained", () => drained);
        assert.equal((await q.size()).completed, 1);
      },
    );

    test("an undecodable job emits error with DECODE and the worker goes on", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("wdecode", { codec: pickyCodec });
      const [bad, good] = await q.addBatch(["bad bytes", "good"]);
      const errors: unknown[] = [];
      const done: string[] = [];
      const w = q.process(async (job) => {
        done.push(job.payload);
      });
      w.on("error", (e) => errors.push(e));
      t.after(() => w.stop());
      // The bad job is made dead in the background, beside the good one's run: wait for both.
      await waitFor(
        "the good job to complete and the bad one to be dead",
        async () => (await q.get(good!))?.state === "completed" && (await q.get(bad!))?.state === "dead",
      );
      assert.deepEqual(done, ["good"]);
      const decode = errors.find((e) => e instanceof SpoolError && e.code === "DECODE") as
        | SpoolError
        | undefined;
      assert.ok(decode, `an error event with DECODE (got ${errors.map(String).join(", ")})`);
      assert.equal(decode.jobId, bad);
    });

    test("stop waits for running handlers and takes no new job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("stopwait");
      const id = await q.add("x");
      const g = gate();
      let started = 0;
      const w = q.process(async () => {
        started++;
        await g.promise;
        return "done";
      });
      await waitFor("the handler to start", () => started === 1);
      let stopped = false;
      const stopping = w.stop().then(() => {
        stopped = true;
      });
      const later = await q.add("after stop");
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      assert.equal(stopped, false, "stop waits for the running handler");
      g.open();
      await stopping;
      assert.equal((await q.get(id))?.state, "completed");
      assert.equal((await q.get(later))?.state, "pending", "no new job taken while stopping");
      assert.equal(started, 1);
    });

    test(
      "stop with a timeout aborts handlers and hands their jobs back to pending at once, uncounted",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("stopforce");
        const ids = await q.addBatch(["a", "b"]);
        let aborted = 0;
        let started = 0;
        const w = q.process(
          async (_job, { signal }) => {
            started++;
            await new Promise((r) => signal.addEventListener("abort", r));
            aborted++;
            await new Promise(() => {}); // ignores the abort: never settles
          },
          { concurrency: 2, lease: 60_000 },
        );
        await waitFor("both handlers to start", () => started === 2);
        await w.stop({ timeout: 100 });
        assert.equal(aborted, 2, "signals aborted");
        for (const id of ids) {
          const info = await q.get(id);
          assert.equal(info?.state, "pending", "back to pending at once, not after the lease");
          assert.equal(info?.attempts, 0, "the interrupted attempt is not counted");
        }
        const again = await q.reserve();
        assert.equal(again?.attempts, 1);
      },
    );

    test("an idle worker wakes for a new job without waiting for pollInterval", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("wake");
      const done: string[] = [];
      const w = q.process(
        async (job) => {
          done.push(job.payload);
        },
        { pollInterval: 60_000 },
      );
      t.after(() => w.stop());
      await q.add("first");
      await waitFor("the first job", () => done.length === 1);
      await waitFor("the worker to go idle", async () => (await q.size()).reserved === 0);
      // With a 60 s poll, the second job is processed within this test only through a wake-up.
      await q.add("second");
      await waitFor("the second job, woken by the add", () => done.length === 2);
      assert.deepEqual(done, ["first", "second"]);
    });

    test("a delayed job wakes the idle worker when it falls due", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("delaywake");
      let done = 0;
      const w = q.process(
        async () => {
          done++;
        },
        { pollInterval: 60_000 },
      );
      t.after(() => w.stop());
      const id = await q.add("x", { delay: 300 });
      await waitFor(
        "the delayed job to run",
        async () => done === 1 && (await q.get(id))?.state === "completed",
      );
    });

    test("spool.close stops its workers gracefully, letting running handlers finish", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("closeworkers");
      await q.add("x");
      const g = gate();
      let started = false;
      let completedBeforeClose = false;
      const w = q.process(async () => {
        started = true;
        await g.promise;
        return 1;
      });
      w.on("completed", () => {
        completedBeforeClose = true;
      });
      await waitFor("the handler to start", () => started);
      const closing = spool.close();
      g.open();
      await closing;
      assert.equal(completedBeforeClose, true, "the running job completed before close resolved");
      await expectCode(() => q.size(), "CLOSED");
    });

    test("a handler's extend pushes its lease", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("hextend");
      const id = await q.add("x");
      const g = gate();
      let extended = false;
      const w = q.process(
        async (_job, { extend }) => {
          await extend(600_000);
          extended = true;
          await g.promise;
        },
        { lease: 5000 },
      );
      t.after(() => w.stop());
      await waitFor("the handler to extend", () => extended);
      const info = await q.get(id);
      assert.ok(info!.leaseUntil!.getTime() > Date.now() + 300_000, "lease pushed out");
      g.open();
      await waitFor("completion", async () => (await q.get(id))?.state === "completed");
    });

    test(
      "after thousands of tiny jobs, a worker's prefetch takes large ones by their size, not the tiny ones'",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue<number | Buffer>("prefetch-bytes");
        await q.addBatch(Array.from({ length: 2000 }, (_, i) => i));
        const g = gate();
        let bigStarted = 0;
        const w = q.process(
          async (job) => {
            if (typeof job.payload === "number") return;
            bigStarted++;
            await g.promise;
          },
          { concurrency: 2 },
        );
        t.after(() => w.stop());
        // The gate opens whatever the assertions say: the store's close (fresh's after hook,
        // which runs first) waits for these handlers.
        try {
          await waitFor("the tiny jobs done", async () => (await q.size()).completed === 2000, 60_000);
          // The worker's pace now knows quick handlers and tiny payloads: its claims ask for
          // more than its free slots. 20 jobs of 600 kB (12 MB) arrive at once.
          await q.addBatch(Array.from({ length: 20 }, () => Buffer.alloc(600_000, 1)));
          await waitFor("both slots running a large job", () => bigStarted === 2);
          // Its claim took the two free slots' jobs and, as a third would start past 1 MiB of
          // payloads, nothing more: only the running ones are reserved, the rest still pending.
          const size = await q.size();
          assert.ok(size.reserved <= 3, `${size.reserved} jobs of 600 kB reserved for 2 slots`);
          assert.equal(size.pending + size.reserved, 20);
        } finally {
          g.open();
        }
      },
    );
  });
}

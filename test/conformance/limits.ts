// Rate limits, global concurrency and groups (issue 16), on every backend: the options are
// checked and stored with the queue, and the claim itself obeys them whoever claims.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Queue } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

/** Jobs started within any span of `span` ms, at most: the fullest such window of `starts`. */
export function fullestWindow(starts: readonly number[], span: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[j] as number) <= (sorted[i] as number) - span) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** A job's start: when its claim was made (the store's clock), and when its handler began. */
export interface Start {
  claimedAt: number;
  startedAt: number;
}

/**
 * Checks a rate limit of `max` starts per `duration` ms: no window of `duration` holds more than
 * `max` claims (the store's guarantee: a claim is a start), and no window of `duration` less the
 * longest wait from a claim to its handler holds more than `max` handler starts (what the claims
 * imply for the handlers, however loaded the machine).
 */
export function assertRate(starts: readonly Start[], max: number, duration: number): void {
  const claims = fullestWindow(
    starts.map((s) => s.claimedAt),
    duration,
  );
  assert.ok(claims <= max, `at most ${max} claims in any ${duration} ms, saw ${claims}`);
  const lag = Math.max(0, ...starts.map((s) => s.startedAt - s.claimedAt));
  const handlers = fullestWindow(
    starts.map((s) => s.startedAt),
    duration - lag,
  );
  assert.ok(handlers <= max, `at most ${max} handler starts in any ${duration - lag} ms, saw ${handlers}`);
}

/** Reserves one batch after another until `count` jobs are taken or none comes; their payloads. */
async function drainOrder<P>(q: Queue<P>, count: number, batch: number): Promise<P[]> {
  const order: P[] = [];
  while (order.length < count) {
    const jobs = await q.reserveBatch(batch);
    if (jobs.length === 0) break;
    for (const job of jobs) order.push(job.payload);
  }
  return order;
}

export function limits(b: BackendFixture): void {
  describe(`limits and groups [${b.name}]`, () => {
    test("limits and groups refuse odd values, naming them", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "2", 2 ** 53, {}]) {
        await expectCode(
          () => spool.queue("v", { concurrency: bad as number }),
          "INVALID_ARGUMENT",
          "concurrency",
        );
        await expectCode(
          () => spool.queue("v", { groupConcurrency: bad as number }),
          "INVALID_ARGUMENT",
          "groupConcurrency",
        );
        await expectCode(
          () => spool.queue("v", { rateLimit: { max: bad as number, duration: 1000 } }),
          "INVALID_ARGUMENT",
          "rateLimit.max",
        );
      }
      for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, "1000", null, 1e16]) {
        await expectCode(
          () => spool.queue("v", { rateLimit: { max: 1, duration: bad as number } }),
          "INVALID_ARGUMENT",
          "rateLimit.duration",
        );
      }
      for (const bad of [5, "1/s", [], { max: 1, duration: 1, burst: 2 }]) {
        await expectCode(
          () => spool.queue("v", { rateLimit: bad as never }),
          "INVALID_ARGUMENT",
          "rateLimit",
        );
      }
      const q = spool.queue("v");
      for (const bad of ["", "a\0b", "\uD800", "x".repeat(1025), 7, null, {}]) {
        await expectCode(() => q.add(1, { group: bad as string }), "INVALID_ARGUMENT", "group");
      }
      // A fractional duration is rounded up to whole ms, as every duration is.
      const r = spool.queue("v", { rateLimit: { max: 1, duration: 0.5 } });
      await r.add(1);
      await r.add(2);
      assert.equal((await r.reserveBatch(5)).length, 1, "one start per (rounded-up) ms window");
    });

    test("get and list show a job's group; an ungrouped job has none", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("shown");
      const plain = await q.add("before any group");
      const grouped = await q.add("x", { group: "tenant é 1" });
      const after = await q.add("after");
      assert.equal((await q.get(plain))?.group, undefined);
      assert.equal((await q.get(grouped))?.group, "tenant é 1");
      assert.equal((await q.get(after))?.group, undefined);
      assert.deepEqual(
        (await q.list({ state: "pending" })).map((j) => j.group ?? null),
        [null, "tenant é 1", null],
      );
    });

    test("stored limits bind a handle that states none; null removes one", T, async (t) => {
      const { spool, reopen } = await fresh(b, t);
      const stating = spool.queue("s", { concurrency: 2 });
      await stating.addBatch([1, 2, 3, 4, 5]);
      assert.equal((await stating.reserveBatch(5)).length, 2);
      // Another handle, in another Spool where the store allows it, follows the stored limit.
      const other = b.persistent ? await reopen() : spool;
      const follower = other.queue("s");
      assert.equal((await follower.reserveBatch(5)).length, 0, "the stored concurrency holds");
      assert.equal((await follower.reserveBatch(5)).length, 0, "and stating nothing changed nothing");
      other.queue("s", { concurrency: null });
      assert.equal((await other.queue("s").reserveBatch(5)).length, 3, "null removed the limit");
    });

    test("global concurrency is never exceeded by several workers", T, async (t) => {
      const { spool, reopen } = await fresh(b, t);
      const q = spool.queue<number>("c", { concurrency: 3 });
      await q.addBatch(Array.from({ length: 40 }, (_, i) => i));
      const spools = b.persistent ? [spool, await reopen(), await reopen()] : [spool, spool, spool];
      let running = 0;
      let most = 0;
      let done = 0;
      let reservedTooMany = 0;
      // pollInterval a minute: a freed slot must wake the waiting workers.
      const workers = spools.map((s) =>
        s.queue<number>("c").process(
          async () => {
            running++;
            most = Math.max(most, running);
            if ((await q.size()).reserved > 3) reservedTooMany++;
            await new Promise((r) => setTimeout(r, 5));
            running--;
            done++;
          },
          { concurrency: 4, pollInterval: 60_000 },
        ),
      );
      await waitFor("every job to run", () => done === 40, 20_000);
      await Promise.all(workers.map((w) => w.stop()));
      assert.ok(most <= 3, `at most 3 ran at once, saw ${most}`);
      assert.equal(reservedTooMany, 0, "never more than 3 reserved");
    });

    test("a worker on a limited queue claims only its free slots, never ahead", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("np", { concurrency: 100 });
      await q.addBatch(Array.from({ length: 150 }, (_, i) => i));
      const started = new Set<number>();
      let hoarded = 0;
      let done = 0;
      // Quick handlers: on a plain queue the worker would claim several per slot ahead. A job
      // reserved but not started is one it claimed ahead (a started one may still be reserved
      // while its completion is on its way).
      const w = q.process(
        async (job) => {
          started.add(job.id);
          const reserved = await q.list({ state: "reserved", limit: 1000 });
          hoarded = Math.max(hoarded, reserved.filter((r) => !started.has(r.id)).length);
          done++;
        },
        { concurrency: 1 },
      );
      await waitFor("every job to run", () => done === 150, 20_000);
      await w.stop();
      assert.equal(hoarded, 0, "no job claimed ahead of a free slot");
    });

    test("a rate limit starts at most max jobs in any window of its duration", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("r", { rateLimit: { max: 5, duration: 300 } });
      await q.addBatch(Array.from({ length: 20 }, (_, i) => i));
      const starts: Start[] = [];
      // pollInterval a minute: only the wait the limit computes can bring the next window in.
      const w = q.process(
        async (job) => {
          starts.push({ claimedAt: job.leaseUntil.getTime() - q.lease, startedAt: Date.now() });
        },
        { concurrency: 10, pollInterval: 60_000 },
      );
      await waitFor("every job to start", () => starts.length === 20, 20_000);
      await w.stop();
      assertRate(starts, 5, 300);
    });

    test("a worker held back by a rate limit is not drained while jobs wait", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("rd", { rateLimit: { max: 2, duration: 200 } });
      await q.addBatch([1, 2, 3, 4, 5]);
      let done = 0;
      const drainedAt: number[] = [];
      const w = q.process(
        async () => {
          done++;
        },
        { concurrency: 5 },
      );
      w.on("drained", () => drainedAt.push(done));
      await waitFor("the worker to drain", () => drainedAt.length > 0, 20_000);
      await w.stop();
      assert.deepEqual(drainedAt, [5], "drained once, after every job ran");
    });

    test("groupConcurrency 1 runs each group's jobs one at a time, in id order", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<{ g: string; i: number }>("f", { groupConcurrency: 1 });
      for (let i = 0; i < 8; i++) for (const g of ["a", "b", "c"]) await q.add({ g, i }, { group: g });
      const running = new Map<string, number>();
      const order = new Map<string, number[]>();
      let overlaps = 0;
      let done = 0;
      const w = q.process(
        async (job) => {
          const { g, i } = job.payload;
          running.set(g, (running.get(g) ?? 0) + 1);
          if ((running.get(g) ?? 0) > 1) overlaps++;
          order.set(g, [...(order.get(g) ?? []), i]);
          await new Promise((r) => setTimeout(r, 2));
          running.set(g, (running.get(g) ?? 0) - 1);
          done++;
        },
        { concurrency: 6, pollInterval: 60_000 },
      );
      await waitFor("every job to run", () => done === 24, 20_000);
      await w.stop();
      assert.equal(overlaps, 0, "never two jobs of one group at once");
      for (const g of ["a", "b", "c"])
        assert.deepEqual(order.get(g), [0, 1, 2, 3, 4, 5, 6, 7], `group ${g} in order`);
    });

    test("groups are served round-robin: a huge group does not starve small ones", {
      timeout: 120_000,
    }, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("fair");
      await q.addBatch(
        Array.from({ length: 10_000 }, () => "big"),
        { group: "big" },
      );
      for (let g = 0; g < 10; g++)
        await q.addBatch(
          Array.from({ length: 10 }, () => `small-${g}`),
          { group: `small-${g}` },
        );
      await q.add("ungrouped");
      for (const batch of [1, 7, 50]) {
        // Every batch size sees the same: the 101 jobs of small groups (and the ungrouped one) within the first ~200 claims.
        const order = await drainOrder(q, 200, batch);
        const small = order.filter((p) => p !== "big").length;
        assert.equal(
          small,
          101,
          `batches of ${batch}: every small group's jobs within 200 starts, got ${small}`,
        );
        // The jobs taken go back (pending again at once) for the next batch size.
        for (const job of await q.list({ state: "reserved", limit: 1000 }))
          await q.fail(job.id, "again", { retryIn: 0 });
      }
    });

    test("dead, retried, released and lapsed jobs give their slots back", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("slots", { concurrency: 1 });
      await q.add("dies", { maxAttempts: 1 });
      await q.addBatch(["retried", "lapses"]);
      const dies = await q.reserve();
      assert.equal(dies?.payload, "dies");
      assert.equal(await q.reserve(), null, "the one slot is taken");
      await q.fail(dies, "boom");
      assert.equal((await q.get(dies.id))?.state, "dead");
      const retried = await q.reserve();
      assert.equal(retried?.payload, "retried", "a dead job gave its slot back");
      assert.equal(await q.reserve(), null);
      await q.fail(retried, "again", { retryIn: 60_000 });
      // A lease long enough to hold the slot while the next reserve checks it (a 50 ms one ran
      // out first on a loaded machine), then cut to 1 ms.
      const lapses = await q.reserve({ lease: 30_000 });
      assert.equal(lapses?.payload, "lapses", "a retried job gave its slot back");
      assert.equal(await q.reserve(), null);
      await q.extend(lapses, 1);
      // Only the lapse can free the slot: the retried job waits a minute.
      await waitFor("the lease to lapse", async () => (await q.reserve()) !== null, 10_000, 20);
      // Released: a stopping worker hands back the job its handler did not finish.
      await q.clear();
      const g = spool.queue<string>("slots-g", { groupConcurrency: 1 });
      await g.addBatch(["x1", "x2"], { group: "x" });
      let started = 0;
      const w = g.process(
        (_job, ctx) => {
          started++;
          return new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          );
        },
        { pollInterval: 60_000 },
      );
      await waitFor("the first job to start", () => started === 1);
      assert.equal((await g.reserveBatch(2)).length, 0, "the group's one slot is taken");
      await w.stop({ timeout: 10 });
      const back = await g.reserveBatch(2);
      assert.deepEqual(
        back.map((j) => j.payload),
        ["x1"],
        "the released job is back, and its group's slot with it",
      );
    });
  });
}

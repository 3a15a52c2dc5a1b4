// Cron schedules firing: missed fires following catchUp, the fire's compare-and-set raced in one
// process, the scheduler a worker starts, and one that never throws into the user.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SpoolError } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";
import { backdate, keysOf, runUntilCaughtUp, YEARLY, yearlyKeys } from "./schedules.js";

export function schedulesFiring(b: BackendFixture): void {
  describe("cron schedules firing", () => {
    test('catchUp "none" skips the fires missed while no scheduler ran', T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.schedule("s", YEARLY, { queue: "q", catchUp: "none" });
      await backdate(spool, "s", Date.UTC(2020, 0, 1));
      await runUntilCaughtUp(spool, "s");
      assert.deepEqual(await keysOf(spool, "q"), []);
      const [s] = await spool.schedules();
      assert.equal(s?.last, null);
      assert.equal(s?.next.getUTCMonth(), 0);
      assert.ok((s?.next.getTime() ?? 0) > Date.UTC(2026, 0, 1));
    });

    test('catchUp "last" enqueues one job, for the latest missed fire', T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.schedule("s", YEARLY, { queue: "q", payload: "p" });
      await backdate(spool, "s", Date.UTC(2020, 0, 1));
      await runUntilCaughtUp(spool, "s");
      const now = await spool.ctx.backend.schedules.now();
      const latest = yearlyKeys("s", 2020, now).at(-1);
      assert.deepEqual(await keysOf(spool, "q"), [latest]);
      const [job] = await spool.queue("q").list({ state: "pending" });
      assert.equal(job?.payload, "p");
      assert.equal(job?.runAt.toISOString(), latest?.slice(2), "the job runs at its fire time");
      assert.equal((await spool.schedules())[0]?.last?.toISOString(), latest?.slice(2));
    });

    test('catchUp "all" enqueues one job per missed fire, oldest first', T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.schedule("s", YEARLY, { queue: "q", catchUp: "all", priority: 3 });
      await backdate(spool, "s", Date.UTC(2020, 0, 1));
      await runUntilCaughtUp(spool, "s");
      const now = await spool.ctx.backend.schedules.now();
      assert.deepEqual(await keysOf(spool, "q"), yearlyKeys("s", 2020, now));
      const jobs = await spool.queue("q").list({ state: "pending" });
      assert.ok(jobs.every((j) => j.priority === 3 && j.maxAttempts === 3));
    });

    test('catchUp "all" after a long gap enqueues the latest 1000 fires, one each', T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.schedule("s", "* * * * * *", { queue: "q", catchUp: "all" });
      const now = await spool.ctx.backend.schedules.now();
      await backdate(spool, "s", Math.floor(now / 1000) * 1000 - 7_200_000);
      await runUntilCaughtUp(spool, "s");
      const runs = (await spool.queue("q").list({ state: "pending", limit: 10_000 })).map((j) =>
        j.runAt.getTime(),
      );
      // The pass that caught up enqueued 1000; on-time fires may follow it while the loop ran.
      assert.ok(runs.length >= 1000, `got ${runs.length}`);
      const first = runs.slice(0, 1000);
      for (let i = 1; i < first.length; i++) assert.equal(first[i], (first[i - 1] as number) + 1000);
      assert.ok((first[0] as number) > now - 7_200_000 + 1000, "the oldest missed fires were dropped");
      assert.equal(new Set(runs).size, runs.length, "one job per fire");
    });

    test(
      "two fires of the same next_at race: exactly one enqueues, the other changes nothing",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        await spool.schedule("s", YEARLY, { queue: "q" });
        const store = spool.ctx.backend.schedules;
        const row = (await store.list()).schedules[0];
        assert.ok(row);
        const job = (at: number) => ({
          payload: Buffer.from("1"),
          format: 0 as const,
          priority: 0,
          maxAttempts: 1,
          key: null,
          backoff: null,
          delayMs: 0,
          runAt: at,
          ttlMs: null,
        });
        const results = await Promise.all(
          Array.from({ length: 4 }, () =>
            store.fire("s", row.nextAt, row.nextAt + 1, row.nextAt, "q", [job(row.nextAt)]),
          ),
        );
        assert.equal(results.filter((r) => r !== null).length, 1, `one winner: ${JSON.stringify(results)}`);
        assert.equal((await spool.queue("q").size()).total, 1);
        // An unscheduled (or replaced) schedule's fire finds no row: nothing is added.
        await spool.unschedule("s");
        assert.equal(await store.fire("s", row.nextAt + 1, row.nextAt + 2, null, "q", [job(1)]), null);
        assert.equal((await spool.queue("q").size()).total, 1);
      },
    );

    test("two schedulers on one store enqueue each fire once", T, async (t) => {
      if (!b.persistent) return t.skip("needs a second Spool on the same store");
      const { spool, reopen } = await fresh(b, t);
      const other = await reopen();
      await spool.schedule("tick", "* * * * * *", { queue: "ticks", catchUp: "all" });
      const a = spool.runScheduler();
      const c = other.runScheduler();
      await waitFor("four fires", async () => (await spool.queue("ticks").size()).total >= 4, 15_000);
      await Promise.all([a.stop(), c.stop()]);
      const keys = await keysOf(spool, "ticks");
      assert.equal(new Set(keys).size, keys.length, `no fire twice: ${keys.join(" ")}`);
    });

    test("a running worker fires due schedules; its handler gets the payload", T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.schedule("tick", "* * * * * *", { queue: "ticks", payload: { n: 1 }, catchUp: "none" });
      const seen: Array<{ payload: unknown; key: string | undefined }> = [];
      spool.queue("ticks").process(async (job) => {
        seen.push({ payload: job.payload, key: job.key });
      });
      await waitFor("a scheduled job to run", () => seen.length > 0, 15_000);
      assert.deepEqual(seen[0]?.payload, { n: 1 });
      assert.match(seen[0]?.key ?? "", /^tick@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      await spool.close();
    });

    test("stopping a runScheduler handle leaves the scheduler a worker needs running", T, async (t) => {
      const { spool } = await fresh(b, t);
      const handle = spool.runScheduler();
      const seen: unknown[] = [];
      spool.queue("ticks").process(async (job) => {
        seen.push(job.payload);
      });
      await handle.stop();
      await handle.stop(); // twice: still one handle's worth
      await spool.schedule("tick", "* * * * * *", { queue: "ticks", payload: "t", catchUp: "none" });
      await waitFor("a scheduled job to run", () => seen.length > 0, 15_000);
      await spool.close();
    });

    test("a schedule the scheduler cannot read is logged; the others still fire", T, async (t) => {
      const errors: string[] = [];
      const noop = () => {};
      const logger = {
        debug: noop,
        info: noop,
        warn: noop,
        error: (_o: unknown, msg: string) => errors.push(msg),
      };
      const { spool } = await fresh(b, t, { logger } as never);
      await spool.schedule("good", YEARLY, { queue: "q" });
      await spool.schedule("bad", YEARLY, { queue: "q" });
      const store = spool.ctx.backend.schedules;
      const bad = (await store.list()).schedules.find((s) => s.name === "bad");
      assert.ok(bad);
      // As a newer version might store it: a cron this one cannot read.
      await store.upsert({ ...bad, cron: "not a cron", nextAt: Date.UTC(2020, 0, 1) });
      await backdate(spool, "good", Date.UTC(2020, 0, 1));
      await runUntilCaughtUp(spool, "good");
      const keys = await keysOf(spool, "q");
      assert.equal(keys.length, 1);
      assert.match(keys[0] ?? "", /^good@/);
      assert.ok(
        errors.some((m) => m.includes("bad")),
        `logged: ${errors.join(" | ")}`,
      );
    });

    test("close stops the scheduler and rejects later schedule calls with CLOSED", T, async (t) => {
      const { spool } = await fresh(b, t);
      const scheduler = spool.runScheduler();
      await spool.close();
      await scheduler.stop();
      await expectCode(() => spool.schedule("s", "* * * * *", { queue: "q" }), "CLOSED");
      await expectCode(() => spool.schedules(), "CLOSED");
      await expectCode(() => spool.unschedule("s"), "CLOSED");
      assert.throws(() => spool.runScheduler(), SpoolError);
    });
  });
}

// Cron schedules: stored, listed, replaced and removed alike on every backend; each fire enqueued
// exactly once (the compare-and-set of next_at in the transaction that adds the jobs); missed
// fires following catchUp. Across real processes: schedules-processes.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Spool, SpoolError } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

const YEARLY = "0 0 1 1 *";

/** Moves a schedule's next_at to `at` through the fire transition itself (a CAS, no jobs). */
async function backdate(spool: Spool, name: string, at: number): Promise<void> {
  const store = spool.ctx.backend.schedules;
  const row = (await store.list()).schedules.find((s) => s.name === name);
  assert.ok(row, `schedule ${name} is stored`);
  assert.deepEqual(await store.fire(name, row.nextAt, at, null, row.queue, []), []);
}

/** Runs this Spool's scheduler until the schedule's next fire is ahead of the store's clock. */
async function runUntilCaughtUp(spool: Spool, name: string): Promise<void> {
  const scheduler = spool.runScheduler();
  try {
    await waitFor(`schedule ${name} to be caught up`, async () => {
      const { now, schedules } = await spool.ctx.backend.schedules.list();
      const row = schedules.find((s) => s.name === name);
      return row !== undefined && row.nextAt > now;
    });
  } finally {
    await scheduler.stop();
  }
}

const keysOf = async (spool: Spool, queue: string) =>
  (await spool.queue(queue).list({ state: "pending", limit: 10_000 })).map((j) => j.key);

/** Jan 1st 00:00 UTC of each year from `from` to the year of `now`, as fire keys of `name`. */
function yearlyKeys(name: string, from: number, now: number): string[] {
  const keys: string[] = [];
  for (let y = from; y <= new Date(now).getUTCFullYear(); y++) keys.push(`${name}@${y}-01-01T00:00:00.000Z`);
  return keys;
}

export function schedules(b: BackendFixture): void {
  describe("cron schedules", () => {
    test("schedule stores, schedules() lists, unschedule removes", T, async (t) => {
      const { spool } = await fresh(b, t);
      assert.deepEqual(await spool.schedules(), []);
      const before = await spool.ctx.backend.schedules.now();
      await spool.schedule("nightly", "30 3 * * *", {
        queue: "reports",
        payload: { kind: "daily" },
        tz: "Europe/Berlin",
        priority: 5,
        maxAttempts: 2,
        backoff: { type: "fixed", delay: 100 },
        ttl: 60_000,
      });
      await spool.schedule("bytes", "*/10 * * * * *", {
        queue: "raw",
        payload: Buffer.from([0, 255]),
        catchUp: "all",
      });
      const [bytes, nightly] = await spool.schedules();
      assert.ok(bytes && nightly);
      assert.equal(nightly.name, "nightly");
      assert.equal(nightly.cron, "30 3 * * *");
      assert.equal(nightly.queue, "reports");
      assert.equal(nightly.tz, "Europe/Berlin");
      assert.equal(nightly.catchUp, "last");
      assert.deepEqual(nightly.payload, { kind: "daily" });
      assert.equal(nightly.priority, 5);
      assert.equal(nightly.maxAttempts, 2);
      assert.deepEqual(nightly.backoff, { type: "fixed", delay: 100 });
      assert.equal(nightly.ttl, 60_000);
      assert.equal(nightly.last, null);
      // 03:30 in Berlin is 01:30 or 02:30 UTC, within a day of now.
      assert.ok(nightly.next.getTime() > before && nightly.next.getTime() <= before + 86_400_000);
      assert.ok([1, 2].includes(nightly.next.getUTCHours()) && nightly.next.getUTCMinutes() === 30);
      assert.deepEqual(bytes.payload, Buffer.from([0, 255]));
      assert.equal(bytes.catchUp, "all");
      assert.equal(bytes.tz, "UTC");
      assert.equal(bytes.next.getTime() % 10_000, 0);
      assert.equal(await spool.unschedule("nightly"), true);
      assert.equal(await spool.unschedule("nightly"), false);
      assert.deepEqual(
        (await spool.schedules()).map((s) => s.name),
        ["bytes"],
      );
    });

    test(
      "stating a schedule again with the same cron and tz keeps its next fire; a new cron moves it",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        await spool.schedule("s", YEARLY, { queue: "q" });
        await backdate(spool, "s", Date.UTC(2020, 0, 1));
        // A restart states it again, with other options: the pending fire is neither skipped nor repeated.
        await spool.schedule("s", YEARLY, { queue: "q2", payload: 7, catchUp: "all" });
        const [kept] = await spool.schedules();
        assert.equal(kept?.next.getTime(), Date.UTC(2020, 0, 1));
        assert.equal(kept?.queue, "q2");
        assert.equal(kept?.payload, 7);
        // The same zone under another spelling is the same zone.
        await spool.schedule("s", YEARLY, { queue: "q2", tz: "utc" });
        assert.equal((await spool.schedules())[0]?.next.getTime(), Date.UTC(2020, 0, 1));
        // Another cron (or zone) starts counting from now.
        const now = await spool.ctx.backend.schedules.now();
        await spool.schedule("s", "0 0 1 1,7 *", { queue: "q2" });
        const moved = (await spool.schedules())[0];
        assert.ok((moved?.next.getTime() ?? 0) > now);
        await backdate(spool, "s", Date.UTC(2020, 0, 1));
        await spool.schedule("s", "0 0 1 1,7 *", { queue: "q2", tz: "Asia/Tokyo" });
        assert.ok(((await spool.schedules())[0]?.next.getTime() ?? 0) > now);
        assert.deepEqual(await keysOf(spool, "q2"), [], "stating a schedule fires nothing");
      },
    );

    test("odd arguments are refused, naming the value, and nothing is stored", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = { queue: "q" };
      for (const name of ["", "a\0b", " x", "x".repeat(129), 1.5, null]) {
        await expectCode(
          () => spool.schedule(name as string, "* * * * *", q),
          "INVALID_NAME",
          "schedule name",
        );
      }
      for (const cron of ["", "* * * *", "* * * * * * *", "61 * * * *", "*/0 * * * *", "* * * * *\0"]) {
        const err = await expectCode(() => spool.schedule("s", cron, q), "INVALID_ARGUMENT", "cron");
        if (cron === "61 * * * *") assert.ok(err.cause instanceof Error, "croner's parse error is the cause");
      }
      for (const cron of [5, null, "2030-01-01T00:00:00", "x".repeat(300)]) {
        await expectCode(() => spool.schedule("s", cron as string, q), "INVALID_ARGUMENT", "cron");
      }
      await expectCode(() => spool.schedule("s", "0 0 30 2 *", q), "INVALID_ARGUMENT", "never fires");
      for (const tz of ["Mars/Base", "", "UTC\0", 3, "Europe/Berlin ".repeat(10)]) {
        await expectCode(
          () => spool.schedule("s", "* * * * *", { queue: "q", tz: tz as string }),
          "INVALID_ARGUMENT",
          "tz",
        );
      }
      for (const catchUp of ["some", 1, null, "ALL"]) {
        await expectCode(
          () => spool.schedule("s", "* * * * *", { queue: "q", catchUp: catchUp as "all" }),
          "INVALID_ARGUMENT",
          "catchUp",
        );
      }
      await expectCode(
        () => spool.schedule("s", "* * * * *", undefined as never),
        "INVALID_ARGUMENT",
        "queue",
      );
      await expectCode(() => spool.schedule("s", "* * * * *", {} as never), "INVALID_NAME", "queue name");
      await expectCode(
        () => spool.schedule("s", "* * * * *", { queue: "bad name" }),
        "INVALID_NAME",
        "bad name",
      );
      await expectCode(() => spool.schedule("s", "* * * * *", { queue: "q", payload: 10n }), "ENCODE");
      await expectCode(() => spool.schedule("s", "* * * * *", { queue: "q", payload: () => 1 }), "ENCODE");
      const odd: Array<[Record<string, unknown>, string]> = [
        [{ priority: 1.5 }, "priority"],
        [{ priority: Number.NaN }, "priority"],
        [{ maxAttempts: 0 }, "maxAttempts"],
        [{ maxAttempts: 2 ** 40 }, "maxAttempts"],
        [{ ttl: Number.POSITIVE_INFINITY }, "ttl"],
        [{ ttl: -1 }, "ttl"],
        [{ key: "k" }, "key"],
        [{ delay: 10 }, "delay"],
        [{ runAt: Date.now() }, "runAt"],
        [{ backoff: () => 1 }, "backoff"],
        [{ backoff: { type: "linear" } }, "backoff"],
        [{ lease: 1000 }, "lease"],
      ];
      for (const [extra, what] of odd) {
        await expectCode(
          () => spool.schedule("s", "* * * * *", { queue: "q", ...extra }),
          "INVALID_ARGUMENT",
          what,
        );
      }
      for (const name of ["", "a\0b", 7]) {
        await expectCode(() => spool.unschedule(name as string), "INVALID_NAME", "schedule name");
      }
      assert.deepEqual(await spool.schedules(), []);
    });

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

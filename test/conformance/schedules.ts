// Cron schedules stored, listed, replaced and removed alike on every backend, and their arguments
// checked; the helpers the firing tests share. Firing: schedules-firing.ts; across real
// processes: schedules-processes.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Spool } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

export const YEARLY = "0 0 1 1 *";

/** Moves a schedule's next_at to `at` through the fire transition itself (a CAS, no jobs). */
export async function backdate(spool: Spool, name: string, at: number): Promise<void> {
  const store = spool.ctx.backend.schedules;
  const row = (await store.list()).schedules.find((s) => s.name === name);
  assert.ok(row, `schedule ${name} is stored`);
  assert.deepEqual(await store.fire(name, row.nextAt, at, null, row.queue, []), []);
}

/** Runs this Spool's scheduler until the schedule's next fire is ahead of the store's clock. */
export async function runUntilCaughtUp(spool: Spool, name: string): Promise<void> {
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

export const keysOf = async (spool: Spool, queue: string) =>
  (await spool.queue(queue).list({ state: "pending", limit: 10_000 })).map((j) => j.key);

/** Jan 1st 00:00 UTC of each year from `from` to the year of `now`, as fire keys of `name`. */
export function yearlyKeys(name: string, from: number, now: number): string[] {
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
        // The same zone or cron under another spelling is the same.
        await spool.schedule("s", ` ${YEARLY.replaceAll(" ", "  ")} `, { queue: "q2", tz: "utc" });
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
  });
}

// What the hostile review of scheduling and limits proved, on every backend: a scheduled fire
// into a grouped queue, a schedule's group, a catch-up bounded in bytes, the round-robin kept
// through a worker's claims, and a rate window every store can hold.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_FIRE_BYTES } from "../../src/scheduler.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";
import { backdate, keysOf, runUntilCaughtUp, YEARLY } from "./schedules.js";

export function schedulingHostile(b: BackendFixture): void {
  describe("scheduling and limits, attacked", () => {
    test("a scheduled fire into a grouped queue can be reserved", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("g");
      await q.add("grouped", { group: "a" });
      await spool.schedule("s", YEARLY, { queue: "g" });
      await backdate(spool, "s", Date.UTC(2020, 0, 1));
      await runUntilCaughtUp(spool, "s");
      const jobs = await q.reserveBatch(10);
      assert.equal(jobs.length, 2, "both the added and the fired job are claimed");
      assert.ok(jobs.some((j) => j.key?.startsWith("s@")));
    });

    test("a schedule's group is given to its fired jobs", T, async (t) => {
      const { spool } = await fresh(b, t);
      await spool.schedule("s", YEARLY, { queue: "q", group: "tenant-1" });
      assert.equal((await spool.schedules())[0]?.group, "tenant-1");
      await backdate(spool, "s", Date.UTC(2020, 0, 1));
      await runUntilCaughtUp(spool, "s");
      const [job] = await spool.queue("q").list({ state: "pending" });
      assert.equal(job?.group, "tenant-1");
      assert.equal((await spool.queue("q").reserve())?.id, job?.id);
    });

    test('a catch-up of "all" adds at most MAX_FIRE_BYTES of payload, the latest fires', T, async (t) => {
      const { spool } = await fresh(b, t);
      const payload = "x".repeat(2 * 1024 * 1024); // 2 MiB as JSON (plus its quotes)
      await spool.schedule("big", YEARLY, { queue: "q", catchUp: "all", payload });
      await backdate(spool, "big", Date.UTC(2000, 0, 1));
      await runUntilCaughtUp(spool, "big");
      const keys = await keysOf(spool, "q");
      const most = Math.floor(MAX_FIRE_BYTES / (payload.length + 2));
      assert.equal(keys.length, most, `${keys.length} fires added`);
      const years = keys.map((k) => Number(String(k).slice("big@".length, "big@".length + 4)));
      assert.equal(Math.max(...years), new Date().getUTCFullYear(), "the latest fire is among them");
    });

    test(
      "a worker serves groups in turn: each of eleven groups starts within its first claims",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("fair");
        // Each job's group, by id: a start is noted in the handler's first, synchronous step
        // (noted after an awaited read, the reads' answers came back out of start order).
        const groupOf = new Map<number, string>();
        const add = async (n: number, group: string) => {
          const ids = await q.addBatch(
            Array.from({ length: n }, (_, i) => i),
            { group },
          );
          for (const id of ids) groupOf.set(id, group);
        };
        await add(2000, "big");
        for (let g = 0; g < 10; g++) await add(10, `s${g}`);
        const started: string[] = [];
        const worker = q.process(
          (job) => {
            started.push(groupOf.get(job.id) ?? "?");
          },
          { concurrency: 8 },
        );
        t.after(() => worker.stop());
        await waitFor("the first 60 starts", () => started.length >= 60, 30_000);
        await worker.stop();
        const first = new Set(started.slice(0, 22));
        assert.equal(first.size, 11, `the first 22 starts served ${[...first].join(", ")}`);
        const smallRuns = started.slice(0, 60).filter((g, i, all) => g !== "big" && all[i - 1] === g).length;
        assert.equal(smallRuns, 0, `no small group ran twice in a row: ${started.slice(0, 60).join(" ")}`);
      },
    );

    test(
      "a limited queue's batch keeps priority order when the claim's rescue brings a job back",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("prio", { concurrency: 10 });
        await q.add("HIGH", { priority: 10 });
        const held = await q.reserve({ lease: 1 });
        assert.equal(held?.payload, "HIGH");
        await waitFor(
          "the lease to lapse",
          () => Date.now() > (held?.leaseUntil.getTime() ?? 0) + 5,
          5_000,
          1,
        );
        await q.add("low");
        // A store may bring the lapsed job back in this claim (SQLite: its rescue runs in the
        // same transaction) or the next (PostgreSQL rescues after a short claim): in order either way.
        const batch = (await q.reserveBatch(10)).map((j) => j.payload);
        assert.ok(batch.includes("low"));
        assert.deepEqual(
          batch,
          ["HIGH", "low"].filter((p) => batch.includes(p)),
        );
      },
    );

    test("a rate window longer than every store's time range is refused", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (const duration of [3e14, 1e15]) {
        await expectCode(
          () => spool.queue("r", { rateLimit: { max: 1, duration } }),
          "INVALID_ARGUMENT",
          "rateLimit.duration",
        );
      }
      spool.queue("ok", { rateLimit: { max: 1, duration: 1e12 } });
    });
  });
}

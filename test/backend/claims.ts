// Claims through the seam: order, delayed jobs, concurrent claimers, and what a claim returns.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PayloadFormat } from "../../src/backend.js";
import type { BackendFixture } from "../conformance/harness.js";
import { job, store, T, text } from "./harness.js";

export function claims(fixture: BackendFixture): void {
  describe("claims", () => {
    test("claim serves priority desc, then run time, then id, and reports delayed jobs", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const ids = (await b.enqueue("q", [
        job("a"),
        job("b", { priority: 5 }),
        job("c"),
        job("later", { delayMs: 60_000 }),
        job("past", { runAt: Date.now() - 60_000 }),
      ])) as number[];
      assert.equal(ids.length, 5);
      assert.deepEqual(await b.counts("q"), {
        waiting: 0,
        pending: 4,
        delayed: 1,
        reserved: 0,
        completed: 0,
        dead: 0,
        total: 5,
        paused: false,
      });
      assert.deepEqual(
        (await b.list("q", "delayed", 10, 0)).map((j) => text(j.payload)),
        ["later"],
      );
      assert.equal((await b.get("q", ids[3] as number))?.state, "delayed");
      assert.deepEqual(
        (await b.list("q", "pending", 10, 0)).map((j) => j.id),
        [ids[0], ids[1], ids[2], ids[4]],
      );
      const claimed = await b.claim("q", 10, 30_000);
      assert.deepEqual(
        claimed.map((j) => text(j.payload)),
        ["b", "past", "a", "c"],
      );
      for (const j of claimed) {
        assert.equal(j.state, "reserved");
        assert.equal(j.attempts, 1);
        assert.ok(j.leaseUntil !== null && j.leaseUntil > Date.now() + 25_000);
      }
      assert.deepEqual(await b.claim("q", 10, 30_000), []);
      const due = await b.nextDueIn("q");
      assert.ok(due !== null && due > 50_000 && due <= 60_000, `nextDueIn ${due}`);
    });

    test("two backends claiming at once never share a job", T, async (t) => {
      const s = await store(fixture, t);
      const [a, b] = [s.backend, await s.peer()];
      await a.enqueue(
        "q",
        Array.from({ length: 200 }, (_, i) => job(i)),
      );
      const seen: number[] = [];
      await Promise.all(
        [a, b, a, b].map(async (backend) => {
          for (;;) {
            const got = await backend.claim("q", 7, 30_000);
            if (got.length === 0) return;
            seen.push(...got.map((j) => j.id));
          }
        }),
      );
      assert.equal(seen.length, 200);
      assert.equal(new Set(seen).size, 200);
    });

    test("payload bytes, times and ages come back as stored", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const bytes = Buffer.alloc(100_000, 7);
      const runAt = Date.now() - 5000;
      const [id] = (await b.enqueue("q", [
        { ...job(0), payload: new Uint8Array(bytes), format: PayloadFormat.Bytes, runAt },
      ])) as number[];
      const j = await b.get("q", id as number);
      assert.deepEqual(Buffer.from(j?.payload ?? []), bytes);
      assert.equal(j?.format, PayloadFormat.Bytes);
      assert.equal(j?.runAt, runAt);
      assert.ok(Math.abs((j?.createdAt ?? 0) - Date.now()) < 5000);
      const age = await b.oldestPendingAge("q");
      assert.ok(age !== null && age >= 5000 && age < 15_000, `age ${age}`);
      assert.equal(await b.nextDueIn("q"), 0);
    });

    test("nextDueIn leaves out a job past its ttl, which no claim will serve", T, async (t) => {
      // Found by review: SQLite counted it (due now, for nothing); PostgreSQL did not.
      const b = (await store(fixture, t)).backend;
      const runAt = Date.now() - 60_000;
      await b.enqueue("q", [{ ...job("late"), runAt, ttlMs: 1000 }]);
      assert.equal(await b.nextDueIn("q"), null);
    });
  });
}

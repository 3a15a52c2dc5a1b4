// Transitions of a held job through the seam: complete, fail, extend, release, lapsed leases
// and ttl expiry. Each outcome is checked, lease_lost told apart from not_found.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PayloadFormat } from "../../src/backend.js";
import type { BackendFixture } from "../conformance/harness.js";
import { at, job, store, T, until } from "./harness.js";

export function held(fixture: BackendFixture): void {
  describe("held jobs", () => {
    test(
      "complete keeps the result or deletes the job, and tells lease_lost from not_found",
      T,
      async (t) => {
        const b = (await store(fixture, t)).backend;
        await b.enqueue("q", [job(1), job(2)]);
        const [one, two] = await b.claim("q", 2, 30_000);
        assert.ok(one && two);
        const result = { bytes: Buffer.from([0, 1, 2, 255]), format: PayloadFormat.Bytes };
        assert.equal(await b.complete("q", one.id, at(2), result, true), "lease_lost");
        assert.equal(await b.complete("q", one.id, at(1), result, true), "ok");
        assert.equal(await b.complete("q", one.id, at(1), result, true), "lease_lost");
        const done = await b.get("q", one.id);
        assert.equal(done?.state, "completed");
        assert.deepEqual(Buffer.from(done?.result ?? []), Buffer.from([0, 1, 2, 255]));
        assert.equal(done?.resultFormat, PayloadFormat.Bytes);
        assert.ok(done?.finishedAt !== null && done?.leaseUntil === null);
        assert.equal(await b.complete("q", two.id, at(null), null, false), "ok");
        assert.equal(await b.get("q", two.id), null);
        assert.equal(await b.complete("q", two.id, at(null), null, true), "not_found");
        assert.equal(await b.complete("other", one.id, at(null), null, true), "not_found");
      },
    );

    // Two jobs where the PostgreSQL-only version used one: it moved the retried job's run time
    // with SQL, which `:memory:` cannot take from outside. One job waits a minute (delayed), the
    // other is retried after 1 ms and claimed again.
    test("fail retries later with the error kept, or makes the job dead", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const [later, soon] = (await b.enqueue("q", [job("later"), job("soon")])) as number[];
      const [first] = await b.claim("q", 1, 30_000);
      assert.equal(first?.id, later);
      assert.equal(await b.fail("q", later as number, at(1), "boom", 60_000), "ok");
      const waiting = await b.get("q", later as number);
      assert.equal(waiting?.state, "delayed");
      assert.equal(waiting?.lastError, "boom");
      assert.equal(waiting?.leaseUntil, null);
      assert.equal(await b.fail("q", later as number, at(1), "again", null), "lease_lost");

      const [other] = await b.claim("q", 1, 30_000);
      assert.equal(other?.id, soon);
      assert.equal(await b.fail("q", soon as number, at(1), "once", 1), "ok");
      const second = await until(
        "the retried job to be claimable",
        async () => (await b.claim("q", 1, 30_000))[0],
      );
      assert.equal(second.id, soon);
      assert.equal(second.attempts, 2);
      assert.equal(await b.fail("q", second.id, at(2), "final", null), "ok");
      const dead = await b.get("q", second.id);
      assert.equal(dead?.state, "dead");
      assert.equal(dead?.lastError, "final");
      assert.ok(dead?.finishedAt !== null);
      assert.equal(await b.fail("q", 999_999, at(null), "x", null), "not_found");
    });

    test("an expired lease returns the job to pending, or dead once attempts are spent", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const [id] = (await b.enqueue("q", [job(1, { maxAttempts: 2 })])) as number[];
      await b.claim("q", 1, 1);
      const again = await until("the lapsed job to be claimable", async () => (await b.claim("q", 1, 1))[0]);
      assert.equal(again.id, id);
      assert.equal(again.attempts, 2);
      assert.equal(await b.extend("q", id as number, at(1), 30_000), "lease_lost");
      const dead = await until("the job to die", async () => {
        await b.claim("q", 1, 30_000);
        const j = await b.get("q", id as number);
        return j?.state === "dead" ? j : undefined;
      });
      assert.equal(dead.lastError, "lease expired");
      assert.equal(await b.complete("q", id as number, at(2), null, true), "lease_lost");
    });

    test(
      "a job not started within its ttl dies with expired; a claimed one no longer expires",
      T,
      async (t) => {
        const b = (await store(fixture, t)).backend;
        const [stale, fresh] = (await b.enqueue("q", [
          job("stale", { ttlMs: 1, priority: -1 }),
          // A ttl its claim fits in on a loaded machine, shorter than the backoff below.
          job("fresh", { ttlMs: 1000, priority: 1 }),
        ])) as number[];
        const added = Date.now(); // the jobs' runAt is at most this
        const [claimed] = await b.claim("q", 1, 30_000);
        assert.equal(claimed?.id, fresh);
        assert.equal(await b.fail("q", fresh as number, at(1), "retry", 1200), "ok");
        // The stale job's 1 ms ttl must be over before the next claim, or it is still claimable
        // (the whole sequence can run inside one millisecond): wait on the clock, not a guess.
        await until("the stale job's ttl to pass", async () => Date.now() > added + 2 || undefined);
        const back = await until(
          "the failed job to be due again",
          async () => (await b.claim("q", 1, 30_000))[0],
        );
        assert.equal(back.id, fresh);
        const j = await b.get("q", stale as number);
        assert.equal(j?.state, "dead");
        assert.equal(j?.lastError, "expired");
      },
    );

    test("extend and extendMany move leases; lost ids are reported", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      await b.enqueue("q", [job(1), job(2)]);
      const [x, y] = await b.claim("q", 2, 1000);
      assert.ok(x && y);
      assert.equal(await b.extend("q", x.id, at(1), 60_000), "ok");
      assert.ok(((await b.get("q", x.id))?.leaseUntil ?? 0) > Date.now() + 50_000);
      assert.equal(await b.extend("q", 424242, at(null), 1000), "not_found");
      const outcome = await b.extendMany(
        "q",
        [
          { id: x.id, token: 1 },
          { id: y.id, token: 7 },
        ],
        60_000,
      );
      assert.deepEqual(outcome, { lost: [y.id], skipped: [] });
    });

    test("release returns held jobs without counting the attempt, only at that attempt", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      await b.enqueue("q", [job(1), job(2)]);
      const [x, y] = await b.claim("q", 2, 30_000);
      assert.ok(x && y);
      await b.release(
        "q",
        [
          { id: x.id, token: 1 },
          { id: y.id, token: 5 },
        ],
        true,
      );
      const rx = await b.get("q", x.id);
      assert.equal(rx?.state, "pending");
      assert.equal(rx?.attempts, 0);
      assert.equal(rx?.leaseUntil, null);
      assert.equal((await b.get("q", y.id))?.state, "reserved");
    });
  });
}

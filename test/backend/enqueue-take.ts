// Inserting jobs (dedupe keys, a size bound) and a channel's take, through the seam.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BackendFixture } from "../conformance/harness.js";
import { at, job, store, T, text } from "./harness.js";

export function enqueueAndTake(fixture: BackendFixture): void {
  describe("enqueue and take", () => {
    test(
      "a dedupe key returns the live job's id; a batch repeating a key returns the first",
      T,
      async (t) => {
        const b = (await store(fixture, t)).backend;
        const [a] = (await b.enqueue("q", [job(1, { key: "k" })])) as number[];
        assert.deepEqual(await b.enqueue("q", [job(2, { key: "k" })]), [a]);
        const batch = (await b.enqueue("q", [
          job(3, { key: "n" }),
          job(4),
          job(5, { key: "n" }),
          job(6, { key: "k" }),
        ])) as number[];
        assert.equal(batch[2], batch[0]);
        assert.equal(batch[3], a);
        assert.notEqual(batch[1], batch[0]);
        assert.equal((await b.counts("q")).pending, 3);
        assert.notEqual((await b.enqueue("other", [job(7, { key: "k" })]))?.[0], a);
        const [held] = await b.claim("q", 1, 30_000);
        assert.equal(held?.id, a);
        assert.deepEqual(await b.enqueue("q", [job(8, { key: "k" })]), [a]);
        await b.complete("q", a as number, at(null), null, true);
        const [next] = (await b.enqueue("q", [job(9, { key: "k" })])) as number[];
        assert.notEqual(next, a);
      },
    );

    test(
      "a large batch without keys stores every job as given, with increasing ids in order",
      T,
      async (t) => {
        const b = (await store(fixture, t)).backend;
        // 123 jobs: two full multi-row statements on SQLite and 23 one by one; then a keyed one.
        const given = Array.from({ length: 123 }, (_, i) =>
          job(i, { priority: i % 3, delayMs: i % 5 === 0 ? 60_000 : 0, maxAttempts: 1 + (i % 4) }),
        );
        const ids = (await b.enqueue("big", given)) as number[];
        assert.equal(ids.length, 123);
        for (let i = 1; i < ids.length; i++) assert.ok((ids[i] as number) > (ids[i - 1] as number));
        for (const [i, id] of ids.entries()) {
          const stored = await b.get("big", id);
          assert.equal(text(stored?.payload ?? Buffer.from("null")), i);
          assert.equal(stored?.priority, i % 3);
          assert.equal(stored?.maxAttempts, 1 + (i % 4));
          assert.equal(stored?.state, i % 5 === 0 ? "delayed" : "pending");
        }
        const [after] = (await b.enqueue("big", [job("k", { key: "k" })])) as number[];
        assert.ok((after as number) > (ids[122] as number));
        assert.equal((await b.counts("big")).total, 124);
      },
    );

    test("maxSize admits a batch only if it fits, even under concurrent senders", T, async (t) => {
      const s = await store(fixture, t);
      const b = s.backend;
      assert.equal(await b.enqueue("ch", [job(1), job(2), job(3)], 2), null);
      assert.equal((await b.counts("ch")).total, 0);
      const c = await s.peer();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? b : c).enqueue("ch", [job(i)], 5)),
      );
      assert.equal(results.filter((r) => r !== null).length, 5);
      assert.equal(await b.backlog("ch"), 5);
    });

    test("take removes ready jobs in order and returns them decoded", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      await b.enqueue("ch", [job("a"), job("b", { priority: 1 }), job("c"), job("d", { delayMs: 60_000 })]);
      const taken = await b.take("ch", 10, (j) => ({ item: text(j.payload) }));
      assert.deepEqual(taken, { items: ["b", "a", "c"], failed: null });
      assert.equal(await b.backlog("ch"), 1);
    });

    test("a take meeting an undecodable job buries it and leaves the others in place", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const ids = (await b.enqueue("ch", [job("a"), job("bad"), job("c")])) as number[];
      const taken = await b.take("ch", 10, (j) =>
        text(j.payload) === "bad" ? { error: "cannot decode", cause: "x" } : { item: text(j.payload) },
      );
      assert.deepEqual(taken.items, []);
      assert.equal(taken.failed?.job.id, ids[1]);
      const dead = await b.get("ch", ids[1] as number);
      assert.equal(dead?.state, "dead");
      assert.equal(dead?.lastError, "cannot decode");
      const again = await b.take("ch", 3, (j) => ({ item: j.id }));
      assert.deepEqual(again.items, [ids[0], ids[2]]);
    });
  });
}

// Browsing across states through the seam: which states, which ids, previews, one snapshot.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JobState } from "../../src/types.js";
import type { BackendFixture } from "../conformance/harness.js";
import { at, job, store, T } from "./harness.js";

const ALL: JobState[] = ["pending", "delayed", "reserved", "completed", "dead"];
const everything = { after: 0, through: Number.MAX_SAFE_INTEGER, limit: 100 };

export function browse(fixture: BackendFixture): void {
  describe("browse", () => {
    test("reads the listed states in id order, delayed apart from pending", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      // ids 1 reserved, 2 completed, 3 dead, 4 pending, 5 delayed, 7 pending; 6 another queue's.
      await b.enqueue("q", [job("r"), job("c"), job("x")]);
      const [r, c, x] = await b.claim("q", 3, 30_000);
      assert.ok(r && c && x);
      await b.complete("q", c.id, at(1), null, true);
      await b.fail("q", x.id, at(1), "boom", null);
      await b.enqueue("q", [job("p1"), job("d", { delayMs: 60_000 })]);
      await b.enqueue("other", [job("o")]);
      await b.enqueue("q", [job("p2")]);
      const states = async (wanted: JobState[], range = everything) =>
        (await b.browse("q", wanted, range)).map((j) => `${j.id}:${j.state}`);
      assert.deepEqual(await states(ALL), [
        "1:reserved",
        "2:completed",
        "3:dead",
        "4:pending",
        "5:delayed",
        "7:pending",
      ]);
      assert.deepEqual(await states(["pending"]), ["4:pending", "7:pending"]);
      assert.deepEqual(await states(["delayed", "dead"]), ["3:dead", "5:delayed"]);
      assert.deepEqual(await states([]), []);
      // after < id <= through, at most limit.
      assert.deepEqual(await states(ALL, { after: 1, through: 4, limit: 100 }), [
        "2:completed",
        "3:dead",
        "4:pending",
      ]);
      assert.deepEqual(await states(ALL, { after: 1, through: 100, limit: 2 }), ["2:completed", "3:dead"]);
    });

    test("waiting jobs are browsed, listed and counted as their own state", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const [dep] = (await b.enqueue("q", [job("dep")])) as number[];
      const [w] = (await b.enqueue("q", [{ ...job("w"), dependsOn: [dep as number] }])) as number[];
      const states = async (wanted: JobState[]) =>
        (await b.browse("q", wanted, everything)).map((j) => `${j.id}:${j.state}`);
      assert.deepEqual(await states(["waiting", ...ALL]), [`${dep}:pending`, `${w}:waiting`]);
      assert.deepEqual(await states(["waiting"]), [`${w}:waiting`]);
      assert.deepEqual(await states(ALL), [`${dep}:pending`]);
      assert.deepEqual(
        (await b.list("q", "waiting", 10, 0)).map((j) => j.id),
        [w],
      );
      assert.equal((await b.counts("q")).waiting, 1);
      assert.deepEqual((await b.get("q", w as number))?.dependsOn, [dep]);
      assert.equal((await b.get("q", dep as number))?.dependsOn, undefined);
      assert.deepEqual(await b.dependencies("q", w as number), [{ id: dep, done: false, result: null }]);
    });

    test("a preview cuts payload and error in the store and tells their sizes", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const big = "y".repeat(5000);
      await b.enqueue("q", [job(big)]);
      const [held] = await b.claim("q", 1, 30_000);
      assert.ok(held);
      await b.fail("q", held.id, at(1), "e".repeat(3000), null);
      const [whole] = await b.browse("q", ALL, everything);
      const [cut] = await b.browse("q", ALL, everything, 10);
      assert.equal(whole?.payload.length, big.length + 2);
      assert.equal(cut?.payload.length, 10);
      assert.equal(cut?.lastError?.length, 10);
      assert.deepEqual(cut?.sizes, { payload: big.length + 2, result: null, lastError: 3000 });
    });
  });
}

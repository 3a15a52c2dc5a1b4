// The seam's administrative calls (retry, remove, purge, clear, queues), a store reopened,
// signals between backends on one store, and a closed backend.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Backend, Hold } from "../../src/backend.js";
import { SpoolError } from "../../src/errors.js";
import type { BackendFixture } from "../conformance/harness.js";
import { at, job, store, T, until } from "./harness.js";

const code = (c: string) => (e: unknown) => e instanceof SpoolError && e.code === c;

type Call = [name: string, call: (b: Backend) => Promise<unknown>];
const none: Hold = { attempt: null, token: null };
const retention = { completed: 1000, dead: 1000 };

const reads: Call[] = [
  ["get", (b) => b.get("q", 1)],
  ["list", (b) => b.list("q", "pending", 10, 0)],
  ["browse", (b) => b.browse("q", ["pending"], { after: 0, through: 10, limit: 10 })],
  ["counts", (b) => b.counts("q")],
  ["queues", (b) => b.queues()],
  ["nextDueIn", (b) => b.nextDueIn("q")],
  ["oldestPendingAge", (b) => b.oldestPendingAge("q")],
  ["backlog", (b) => b.backlog("q")],
  ["readSettings", (b) => b.readSettings("q")],
];

const writes: Call[] = [
  ["enqueue", (b) => b.enqueue("q", [job(1)])],
  ["claim", (b) => b.claim("q", 1, 1000)],
  ["take", (b) => b.take("q", 1, (j) => ({ item: j.id }))],
  ["complete", (b) => b.complete("q", 1, none, null, true)],
  ["fail", (b) => b.fail("q", 1, none, "x", null)],
  ["extend", (b) => b.extend("q", 1, none, 1000)],
  ["extendMany", (b) => b.extendMany("q", [{ id: 1, token: 1 }], 1000)],
  ["release", (b) => b.release("q", [{ id: 1, token: 1 }], true)],
  ["retry", (b) => b.retry("q", null)],
  ["remove", (b) => b.remove("q", 1)],
  ["purge", (b) => b.purge("q", "dead", null)],
  ["clear", (b) => b.clear("q", false)],
  ["storeRetention", (b) => b.storeRetention("q", retention)],
  ["prune", (b) => b.prune("q", retention)],
];

/** Each call must return a promise (not throw) that rejects with CLOSED. */
async function rejectsEach(b: Backend, calls: Call[]): Promise<void> {
  for (const [name, call] of calls) {
    let pending: Promise<unknown>;
    try {
      pending = call(b);
    } catch (error) {
      assert.fail(`${name} threw ${String(error)} instead of returning a rejected promise`);
    }
    await assert.rejects(pending, code("CLOSED"), `${name} should reject with CLOSED`);
  }
}

export function admin(fixture: BackendFixture): void {
  /** Set for tests that need a second connection on the store: `:memory:` has only one. */
  const oneConnection = fixture.persistent ? false : `${fixture.name} is one connection's store`;

  describe("administration, reopening, signals, close", () => {
    test("retry, remove, purge and clear", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      const ids = (await b.enqueue("q", [
        job(1, { maxAttempts: 1 }),
        job(2, { maxAttempts: 1 }),
        job(3),
      ])) as number[];
      for (const j of await b.claim("q", 2, 30_000)) await b.fail("q", j.id, at(null), "bad", null);
      assert.equal((await b.counts("q")).dead, 2);
      assert.equal(await b.retry("q", [ids[0] as number]), 1);
      const retried = await b.get("q", ids[0] as number);
      assert.equal(retried?.state, "pending");
      assert.equal(retried?.attempts, 0);
      assert.equal(retried?.finishedAt, null);
      assert.equal(await b.retry("q", null), 1);
      assert.equal(await b.retry("q", null), 0);
      for (const j of await b.claim("q", 3, 30_000)) await b.complete("q", j.id, at(null), null, true);
      await b.enqueue("other", [job(0)]);
      assert.deepEqual(await b.queues(), ["other", "q"]);
      assert.equal(await b.purge("q", "completed", 60_000), 0);
      assert.equal(await b.purge("q", "completed", null), 3);
      assert.deepEqual(await b.queues(), ["other"]);
      const [keep, drop] = (await b.enqueue("q", [job("dead", { maxAttempts: 1 }), job("x")])) as number[];
      await b.claim("q", 1, 30_000);
      await b.fail("q", keep as number, at(null), "bad", null);
      assert.equal(await b.remove("q", drop as number), true);
      assert.equal(await b.remove("q", drop as number), false);
      await b.enqueue("q", [job("y")]);
      assert.equal(await b.clear("q", true), 1);
      assert.equal((await b.counts("q")).dead, 1);
      assert.equal(await b.clear("q", false), 1);
      assert.deepEqual(await b.queues(), ["other"]);
    });

    test("reopening the store keeps the jobs", { ...T, skip: oneConnection }, async (t) => {
      const s = await store(fixture, t);
      const [id] = (await s.backend.enqueue("q", [job(1)])) ?? [];
      await s.backend.close();
      const again = await s.reopen();
      assert.equal((await again.get("q", id as number))?.id, id);
    });

    test("another backend's enqueue is signalled, our own is not", {
      ...T,
      skip: oneConnection,
    }, async (t) => {
      const s = await store(fixture, t);
      const [a, b] = [s.backend, await s.peer()];
      const heard: Array<string | null> = [];
      a.notifier.subscribe((q) => heard.push(q));
      await a.enqueue("mine", [job(1)]);
      await b.enqueue("jobs:1", [job(1)]);
      // NOTIFY carries the queue's name; SQLite's signal (the file changed) cannot, so it says null.
      const expected = fixture.kind === "postgres" ? "jobs:1" : null;
      await until("the signal", async () => (heard.includes(expected) ? true : undefined));
      assert.ok(!heard.includes("mine"), "a backend is not signalled of its own changes");
    });

    test("after close every read rejects with CLOSED; close is idempotent", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      await b.close();
      await b.close();
      await rejectsEach(b, reads);
    });

    // The seam says every method rejects: a caller that chains `.catch` (the worker's
    // `backend.release(...).catch(report)` on stop) must get a rejection, never a throw.
    // Found by this suite on SQLite (issue 13): the writes threw CLOSED synchronously.
    test("after close every write rejects with CLOSED, never throws", T, async (t) => {
      const b = (await store(fixture, t)).backend;
      await b.close();
      await rejectsEach(b, writes);
    });
  });
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, near, T, waitFor } from "./harness.js";

const TOL = 500;

interface Failing {
  reserve(): Promise<Job<unknown> | null>;
  fail(job: Job<unknown>, error?: unknown, o?: { retryIn?: number }): Promise<"pending" | "dead">;
  get(id: number): Promise<{ runAt: Date; state: string } | null>;
}

/** Reserves the (ready) job and fails it; returns how far ahead its next run was scheduled. */
async function failOnce(q: Failing, retryIn?: number): Promise<{ state: string; aheadMs: number }> {
  const job = await q.reserve();
  assert.ok(job, "a ready job to fail");
  const at = Date.now();
  const outcome = await q.fail(
    job,
    new Error(`attempt ${job.attempts}`),
    retryIn === undefined ? {} : { retryIn },
  );
  const info = await q.get(job.id);
  assert.equal(outcome, "pending");
  return { state: info!.state, aheadMs: info!.runAt.getTime() - at };
}

export function failures(b: BackendFixture): void {
  describe("failures, backoff and retry", () => {
    test("fail uses exponential backoff by default: 1000 · 2^(attempt−1) ms", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (let attempt = 1; attempt <= 3; attempt++) {
        const q = spool.queue(`expo${attempt}`);
        await q.add("x", { maxAttempts: 10 });
        await advance(q, attempt - 1);
        const r = await failOnce(q);
        assert.equal(r.state, "delayed");
        near(r.aheadMs, 1000 * 2 ** (attempt - 1), TOL, `backoff after attempt ${attempt}`);
      }
    });

    test("exponential backoff honours its delay and max", T, async (t) => {
      const { spool } = await fresh(b, t);
      const expected = [5000, 10_000, 12_000, 12_000];
      for (const [i, want] of expected.entries()) {
        const q = spool.queue(`expo-max${i}`);
        await q.add("x", { maxAttempts: 10, backoff: { type: "exponential", delay: 5000, max: 12_000 } });
        await advance(q, i);
        near((await failOnce(q)).aheadMs, want, TOL, `capped exponential backoff after attempt ${i + 1}`);
      }
    });

    test("fixed backoff waits the same delay every time", T, async (t) => {
      const { spool } = await fresh(b, t);
      for (let i = 0; i < 3; i++) {
        const q = spool.queue(`fixed${i}`);
        await q.add("x", { maxAttempts: 5, backoff: { type: "fixed", delay: 7000 } });
        await advance(q, i);
        near((await failOnce(q)).aheadMs, 7000, TOL, `fixed backoff after attempt ${i + 1}`);
      }
    });

    test("a function backoff gets the attempt and the error", T, async (t) => {
      const { spool } = await fresh(b, t);
      const seen: Array<[number, unknown]> = [];
      const q = spool.queue("fn", {
        backoff: (attempt, error) => {
          seen.push([attempt, error]);
          return attempt * 9000;
        },
        maxAttempts: 5,
      });
      await q.add("x");
      near((await failOnce(q)).aheadMs, 9000, TOL, "function backoff, attempt 1");
      const q2 = spool.queue("fn2", { backoff: (attempt) => attempt * 9000, maxAttempts: 5 });
      await q2.add("y");
      await advance(q2, 1);
      near((await failOnce(q2)).aheadMs, 18_000, TOL, "function backoff, attempt 2");
      assert.deepEqual(
        seen.map(([a]) => a),
        [1],
      );
      assert.ok(seen[0]![1] instanceof Error && (seen[0]![1] as Error).message === "attempt 1");
    });

    test("retryIn overrides the backoff", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("retryin");
      await q.add("x", { backoff: { type: "fixed", delay: 60_000 } });
      const r = await failOnce(q, 2500);
      near(r.aheadMs, 2500, TOL, "retryIn");
      await q.add("y", { backoff: { type: "fixed", delay: 60_000 } });
      const zero = await failOnce(q, 0);
      assert.equal(zero.state, "pending", "retryIn 0 is ready at once");
      assert.ok((await q.reserve()) !== null);
    });

    test("at maxAttempts fail makes the job dead with lastError kept", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("dead");
      const id = await q.add("x", { maxAttempts: 2 });
      const first = await q.reserve();
      assert.equal(await q.fail(first!, new Error("first"), { retryIn: 0 }), "pending");
      assert.match((await q.get(id))?.lastError ?? "", /first/);
      const second = await q.reserve();
      assert.equal(second!.attempts, 2);
      assert.equal(await q.fail(second!, new Error("second boom")), "dead");
      const info = await q.get(id);
      assert.equal(info?.state, "dead");
      assert.equal(info?.attempts, 2);
      assert.match(info?.lastError ?? "", /second boom/);
      assert.ok(info?.finishedAt instanceof Date);
      assert.equal(await q.reserve(), null, "a dead job is not reserved");
      const dead = await q.list({ state: "dead" });
      assert.deepEqual(
        dead.map((j) => j.id),
        [id],
      );
    });

    test("fail keeps a string error as lastError", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("strerr");
      const id = await q.add("x", { maxAttempts: 1 });
      await q.fail((await q.reserve())!, "plain words");
      assert.match((await q.get(id))?.lastError ?? "", /plain words/);
    });

    test("retry moves all dead jobs back to pending with attempts restarted", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("retry-all");
      await q.addBatch([1, 2, 3], { maxAttempts: 1 });
      for (const job of await q.reserveBatch(3)) await q.fail(job, "no");
      assert.equal((await q.size()).dead, 3);
      assert.equal(await q.retry(), 3);
      const size = await q.size();
      assert.equal(size.dead, 0);
      assert.equal(size.pending, 3);
      for (const info of await q.list({ state: "pending" })) assert.equal(info.attempts, 0);
      const again = await q.reserve();
      assert.equal(again?.attempts, 1, "attempts restart");
      assert.equal(await q.fail(again!, "still no"), "dead", "maxAttempts applies afresh");
      assert.equal(await q.retry(), 1);
    });

    test("retry by ids moves only those dead jobs", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("retry-ids");
      const ids = await q.addBatch([1, 2, 3], { maxAttempts: 1 });
      for (const job of await q.reserveBatch(3)) await q.fail(job, "no");
      const pendingId = await q.add(4);
      assert.equal(await q.retry([ids[0]!, ids[2]!, pendingId, 999_999]), 2, "only dead jobs count");
      assert.equal((await q.get(ids[0]!))?.state, "pending");
      assert.equal((await q.get(ids[1]!))?.state, "dead");
      assert.equal((await q.get(ids[2]!))?.state, "pending");
      assert.equal(await q.retry([]), 0);
    });

    test("per-add function backoffs of jobs finished elsewhere are let go", T, async (t) => {
      const { spool } = await fresh(b, t);
      const producer = spool.queue("fnmem");
      // Another handle stands for another process: the producer never sees its jobs finish.
      const consumer = spool.queue("fnmem");
      const kept = () =>
        (producer as unknown as { held: { jobBackoffs: Map<number, unknown> } }).held.jobBackoffs;
      const backoff = () => 5;
      await producer.addBatch(
        Array.from({ length: 2000 }, (_, i) => i),
        { backoff },
      );
      for (;;) {
        const jobs = await consumer.reserveBatch(500);
        if (jobs.length === 0) break;
        for (const job of jobs) await consumer.complete(job);
      }
      await producer.addBatch(
        Array.from({ length: 2100 }, (_, i) => i),
        { backoff },
      );
      await waitFor("the finished jobs' backoffs dropped", () => kept().size === 2100);
      // Those still live keep theirs: a failure here still uses the add's function.
      const job = await producer.reserve();
      assert.ok(job);
      await producer.fail(job, new Error("x"));
      const info = await producer.get(job.id);
      assert.ok(info && info.runAt.getTime() - Date.now() < 1000, "the add's 5 ms backoff applied");
    });

    test("fail on a job held by nobody is LEASE_LOST, on a missing one NOT_FOUND", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("failcodes");
      const id = await q.add(1);
      await expectCode(() => q.fail(id, "x"), "LEASE_LOST");
      await expectCode(() => q.fail(id + 100, "x"), "NOT_FOUND");
    });
  });
}

/** Takes the queue's ready job through `times` failed attempts, each ready again at once. */
async function advance(q: Failing, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const job = await q.reserve();
    assert.ok(job, "a ready job to advance");
    assert.equal(await q.fail(job, new Error(`attempt ${job.attempts}`), { retryIn: 0 }), "pending");
  }
}

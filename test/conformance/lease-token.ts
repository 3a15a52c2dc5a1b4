// Holders are told apart by a claim token that never repeats for a job (retry does not reset
// it), and a job's ttl is met once it started: regressions of issue 11, defects 3, 4 and 5.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/index.js";
import { type BackendFixture, clockPast, expectCode, fresh, T, waitFor } from "./harness.js";

export function leaseToken(b: BackendFixture): void {
  describe("lease tokens and ttl", () => {
    test(
      "after retry, a stale holder at the same attempt number cannot touch the new attempt",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("token", { maxAttempts: 1 });
        const id = await q.add("x");
        const stale = (await q.reserve({ lease: 50 })) as Job<unknown>;
        assert.equal(stale.attempts, 1);
        await clockPast(stale.leaseUntil);
        // A claim finds the lapsed lease: attempts are spent, so the job is dead.
        await waitFor("the lapsed job to be dead", async () => {
          await q.reserve();
          return (await q.get(id))?.state === "dead";
        });
        assert.equal(await q.retry([id]), 1);
        const fresh2 = (await q.reserve({ lease: 30_000 })) as Job<unknown>;
        assert.equal(fresh2.id, id);
        assert.equal(fresh2.attempts, 1, "the attempt number repeats after retry");
        await expectCode(() => q.complete(stale, "stale"), "LEASE_LOST");
        await expectCode(() => q.fail(stale, new Error("stale")), "LEASE_LOST");
        await expectCode(() => q.extend(stale, 60_000), "LEASE_LOST");
        assert.equal((await q.get(id))?.state, "reserved", "the stale calls changed nothing");
        await q.complete(fresh2, "new");
        const info = await q.get(id);
        assert.equal(info?.state, "completed");
        assert.equal(info?.result, "new");
      },
    );

    test(
      "a copy of a stale Job (JSON, structuredClone) carries its token and is refused too",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("copytoken", { maxAttempts: 1 });
        const id = await q.add("x");
        const stale = (await q.reserve({ lease: 50 })) as Job<unknown>;
        assert.equal(typeof stale.token, "number");
        const asJson = JSON.parse(JSON.stringify(stale)) as Job<unknown>;
        const cloned = structuredClone(stale);
        await clockPast(stale.leaseUntil);
        await waitFor("the lapsed job to be dead", async () => {
          await q.reserve();
          return (await q.get(id))?.state === "dead";
        });
        await q.retry([id]);
        const now = (await q.reserve()) as Job<unknown>;
        assert.equal(now.attempts, stale.attempts, "the attempt number repeats after retry");
        assert.notEqual(now.token, stale.token);
        await expectCode(() => q.complete(asJson, "stale"), "LEASE_LOST");
        await expectCode(() => q.complete(cloned, "stale"), "LEASE_LOST");
        await q.complete(structuredClone(now), "new");
        assert.equal((await q.get(id))?.result, "new");
      },
    );

    test("a Job without a token is checked by its attempt; a bad token is INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("copy");
      const id = await q.add("x");
      const job = (await q.reserve()) as Job<unknown>;
      const { token: _token, ...bare } = job;
      await expectCode(() => q.complete({ ...bare, attempts: job.attempts + 1 }), "LEASE_LOST");
      await expectCode(() => q.complete({ ...job, token: 1.5 }), "INVALID_ARGUMENT", "job.token");
      await q.complete(bare);
      assert.equal((await q.get(id))?.state, "completed");
    });

    test("a job past its ttl gives up its dedupe key: a new add with that key is added", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ttlkey");
      const first = await q.add("old", { key: "k", ttl: 30 });
      const info = await q.get(first);
      await clockPast(info!.runAt.getTime() + 30);
      const second = await q.add("new", { key: "k" });
      assert.notEqual(second, first, "the expired job swallowed the add");
      assert.equal((await q.get(first))?.state, "dead");
      assert.equal((await q.get(first))?.lastError, "expired");
      const job = await q.reserve();
      assert.equal(job?.id, second);
      assert.equal(job?.payload, "new");
    });

    test("a job handed back unstarted keeps its ttl: past it, it is dead, never handed out", T, async (t) => {
      const { spool } = await fresh(b, t);
      // The first job cannot be decoded, so reserveBatch hands the second back unstarted.
      const q = spool.queue<string>("ttlback", {
        codec: {
          encode: (v: string) => Buffer.from(v),
          decode: (bytes: Uint8Array) => {
            const text = Buffer.from(bytes).toString();
            if (text === "bad") throw new Error("undecodable");
            return text;
          },
        },
      });
      const bad = await q.add("bad", { priority: 1 });
      // A ttl the next calls fit in on a loaded machine (one measured over 200 ms for two calls).
      const id = await q.add("late", { ttl: 2000 });
      await expectCode(() => q.reserveBatch(2), "DECODE");
      assert.equal((await q.get(bad))?.state, "dead");
      const info = await q.get(id);
      assert.equal(info?.state, "pending");
      await clockPast(info!.runAt.getTime() + 2000);
      assert.equal(await q.reserve(), null, "a job past its ttl was handed out");
      await waitFor("the job to be expired", async () => {
        await q.reserve();
        return (await q.get(id))?.state === "dead";
      });
      assert.equal((await q.get(id))?.lastError, "expired");
    });

    test("a job whose ttl runs out while it waits in a worker's buffer never runs", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<string>("ttlbuffer");
      // Quick jobs first, so the worker learns its handlers are quick and claims ahead of its
      // one slot; then a slow job, and behind it, claimed with it, one with a short ttl.
      for (let i = 0; i < 20; i++) await q.add(`quick${i}`);
      await q.add("slow");
      const id = await q.add("short", { ttl: 300 });
      const deadline = (await q.get(id))!.runAt.getTime() + 300;
      const ran: string[] = [];
      const worker = q.process(
        async (job) => {
          ran.push(job.payload);
          if (job.payload === "slow") await clockPast(deadline, 100);
        },
        { concurrency: 1 },
      );
      t.after(() => worker.stop());
      await waitFor("the short job to be expired", async () => (await q.get(id))?.state === "dead");
      assert.equal((await q.get(id))?.lastError, "expired");
      assert.ok(ran.includes("slow"));
      assert.ok(!ran.includes("short"), "a job past its ttl was started");
    });

    test("a job that started within its ttl and was handed back by stop() is not expired", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ttlstop");
      const id = await q.add("x", { ttl: 2000 }); // room for a worker's first claim on a loaded machine
      let started = false;
      const worker = q.process(
        (_job, { signal }) =>
          new Promise<void>((resolve) => {
            started = true;
            signal.addEventListener("abort", () => resolve());
          }),
        { pollInterval: 50 },
      );
      await waitFor("the handler to start", () => started);
      await worker.stop({ timeout: 0 });
      const info = await q.get(id);
      assert.equal(info?.state, "pending");
      assert.equal(info?.attempts, 0, "the interrupted attempt is not counted");
      await clockPast(info!.runAt.getTime() + 2000);
      const again = await q.reserve();
      assert.equal(again?.id, id, "the job was expired although it had started in time");
      assert.equal(again?.attempts, 1);
    });
  });
}

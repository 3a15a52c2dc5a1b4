// Pause and progress pushed at their edges: a pause landing on a worker holding a hundred claimed
// jobs ahead, pauses and resumes racing each other under a running worker, and progress from
// a handler whose job is already finished.
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import type { HandlerContext, Job, Queue } from "../../src/index.js";
import { type BackendFixture, expectCode, fresh, T, waitFor } from "./harness.js";

type Blockable = { n: number; block?: boolean };

/**
 * A worker whose handlers note each start (`started`) and then wait, for jobs marked `block`,
 * until `release`; released whatever happens (closing the Spool waits for running handlers).
 */
function blockingWorker(
  t: TestContext,
  q: Queue<Blockable>,
  concurrency: number,
  started: (job: Job<Blockable>) => void,
) {
  const waiting: Array<() => void> = [];
  let open = false;
  const worker = q.process(
    async (job) => {
      started(job);
      if (job.payload.block && !open) await new Promise<void>((r) => waiting.push(r));
    },
    { concurrency, pollInterval: 60_000 },
  );
  const release = () => {
    open = true;
    for (const go of waiting.splice(0)) go();
  };
  t.after(() => {
    release();
    return worker.stop({ timeout: 0 });
  });
  return { waiting, release };
}

export function pauseHostile(b: BackendFixture): void {
  describe("pause and progress, hostile", () => {
    test("a pause hands back the prefetched jobs; none runs until resume, none twice", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Blockable>("many");
      const runs = new Map<number, number>();
      const { waiting, release } = blockingWorker(t, q, 16, (job) => {
        runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      });
      try {
        // Quick jobs first: a worker claims ahead only once it has seen its handlers are quick.
        await q.addBatch(Array.from({ length: 40 }, (_, n) => ({ n })));
        await waitFor("the warm-up jobs to complete", async () => (await q.size()).completed === 40);
        // One batch: the claim that takes the 16 blockers takes more ahead with them (up to a
        // hundred when handlers are quick; how many depends on the pace the worker measured, so
        // a loaded machine gets fewer: the test asks only for some).
        await q.addBatch([
          ...Array.from({ length: 16 }, (_, n) => ({ n, block: true })),
          ...Array.from({ length: 300 }, (_, n) => ({ n })),
        ]);
        await waitFor("16 handlers blocked", () => waiting.length === 16);
        await waitFor("jobs claimed ahead", async () => (await q.size()).reserved > 16);
        await q.pause();
        await waitFor("the claimed-ahead jobs handed back", async () => (await q.size()).reserved === 16);
        release();
        await waitFor("the blocked jobs to complete", async () => (await q.size()).completed === 56);
        assert.equal((await q.size()).reserved, 0, "nothing claimed while paused");
        assert.equal((await q.size()).pending, 300);
        await q.resume();
        await waitFor("every job to complete", async () => (await q.size()).completed === 356);
        assert.equal(runs.size, 356);
        assert.deepEqual([...new Set(runs.values())], [1], "no job ran twice");
      } finally {
        release(); // even when an assertion failed: closing the Spool waits for its handlers
      }
    });

    test("once pause() resolves here, no job this process's worker held unstarted starts", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<Blockable>("held-here");
      let paused = false;
      let startedAfterPause = 0;
      const { waiting, release } = blockingWorker(t, q, 8, () => {
        if (paused) startedAfterPause++;
      });
      await q.addBatch(Array.from({ length: 40 }, (_, n) => ({ n })));
      await waitFor("the warm-up jobs to complete", async () => (await q.size()).completed === 40);
      await q.addBatch([
        ...Array.from({ length: 8 }, (_, n) => ({ n, block: true })),
        ...Array.from({ length: 200 }, (_, n) => ({ n })),
      ]);
      await waitFor("8 handlers blocked", () => waiting.length === 8);
      await waitFor("jobs claimed ahead", async () => (await q.size()).reserved > 8);
      await q.pause();
      paused = true;
      release(); // slots free at once: nothing held back may take them
      await waitFor("the blocked jobs done, the rest handed back", async () => {
        const size = await q.size();
        return size.completed === 48 && size.reserved === 0;
      });
      assert.equal(startedAfterPause, 0);
      assert.equal((await q.size()).pending, 200);
    });

    test("a worker on a paused queue with ready jobs does not say drained", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("paused-drain");
      await q.pause();
      await q.addBatch([1, 2, 3]);
      // Each idle round of the worker asks when the next job is due: count the rounds.
      const backend = spool.ctx.backend;
      const nextDueIn = backend.nextDueIn.bind(backend);
      let idleRounds = 0;
      backend.nextDueIn = (queue: string) => {
        idleRounds++;
        return nextDueIn(queue);
      };
      t.after(() => {
        backend.nextDueIn = nextDueIn;
      });
      let drained = 0;
      const worker = q.process(() => {}, { pollInterval: 20 });
      worker.on("drained", () => drained++);
      t.after(() => worker.stop());
      await waitFor("three empty rounds on the paused queue", () => idleRounds >= 3);
      assert.equal(drained, 0, "drained with 3 ready jobs");
      await q.resume();
      await waitFor("drained once the jobs ran", () => drained === 1);
    });

    test("a worker paused with nothing left says drained once it is resumed", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("resume-drain");
      let drained = 0;
      const running: { finish?: () => void } = {};
      const worker = q.process(() => new Promise<void>((resolve) => (running.finish = resolve)), {
        pollInterval: 20,
      });
      worker.on("drained", () => drained++);
      t.after(() => worker.stop());
      await q.add(1);
      // The handler itself, not the reserved row: a claim is stored before its rows reach the
      // worker, and a finish() called before the handler ran would end nothing.
      await waitFor("the job running", () => running.finish !== undefined);
      await q.pause();
      running.finish?.();
      await waitFor("the job done", async () => (await q.size()).completed === 1);
      const before = drained; // an empty queue at the start was drained already
      await q.resume();
      await waitFor("drained after the resume", () => drained === before + 1);
    });

    test("pauses and resumes racing under a running worker lose and repeat no job", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("race");
      const runs = new Map<number, number>();
      const worker = q.process(async (job) => void runs.set(job.id, (runs.get(job.id) ?? 0) + 1), {
        concurrency: 4,
        pollInterval: 60_000,
      });
      t.after(() => worker.stop({ timeout: 0 }));
      const total = 400;
      const adding = q.addBatch(Array.from({ length: total }, (_, i) => i));
      for (let round = 0; round < 15; round++) {
        await Promise.all([q.pause(), q.resume(), q.pause(), q.isPaused(), q.size(), q.resume()]);
        // Whatever order they landed in, isPaused and size agree with each other.
        const [paused, size] = await Promise.all([q.isPaused(), q.size()]);
        if (paused !== size.paused) assert.equal(await q.isPaused(), (await q.size()).paused);
      }
      await adding;
      await q.pause();
      assert.equal(await q.reserve(), null);
      await q.resume();
      await waitFor("every job to complete", async () => (await q.size()).completed === total, 30_000);
      assert.equal(runs.size, total);
      assert.deepEqual([...new Set(runs.values())], [1], "no job ran twice");
      assert.equal((await q.size()).paused, false);
    });

    test("progress from a handler whose job already finished is refused, and not emitted", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("late");
      const id = await q.add("x");
      let saved: HandlerContext | null = null;
      const events: unknown[] = [];
      const worker = q.process(async (_job, ctx) => {
        saved = ctx;
        await ctx.progress(70);
      });
      worker.on("progress", (_job, value) => events.push(value));
      t.after(() => worker.stop());
      await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
      await expectCode(() => (saved as unknown as HandlerContext).progress(90), "LEASE_LOST", String(id));
      await expectCode(() => q.progress(id, 90), "LEASE_LOST");
      assert.equal((await q.get(id))?.progress, 70);
      assert.deepEqual(events, [70]);
    });
  });
}

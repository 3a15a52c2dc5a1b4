// Pause and progress across real processes: a worker in another process obeys a pause made here
// (hands back what it prefetched, claims nothing) and wakes at once on resume; progress it
// reports is seen here.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, type Child, child, childTarget, fresh, waitFor } from "./harness.js";

const P = { timeout: 120_000 } as const;

const ran = (c: Child) => c.lines.filter((l) => l.startsWith("ran ")).map((l) => Number(l.split(" ")[1]));

export function pauseProcesses(b: BackendFixture): void {
  describe("pause and progress across processes", () => {
    test(
      "a worker in another process hands back its prefetched jobs on pause, claims nothing, and resumes at once",
      P,
      async (t) => {
        if (!b.multiProcess) return t.skip("single-process backend");
        const { spool, target } = await fresh(b, t);
        const q = spool.queue("xp");
        const k = child(t, "pause-worker.ts", childTarget(target), "xp");
        await k.waitLine(/^ready$/);
        // Quick jobs first: a worker claims ahead only once it has seen its handlers are quick.
        await q.addBatch(Array.from({ length: 20 }, (_, i) => `warm-${i}`));
        await waitFor("the warm-up jobs to complete", async () => (await q.size()).completed === 20, 20_000);
        // The second job blocks: the worker holds it and, claimed ahead, some of the others. (A
        // worker that found its queue empty claims one job alone when woken: the quick lead.)
        const [, blocker] = await q.addBatch(["lead", "block", ...Array.from({ length: 30 }, (_, i) => i)]);
        await waitFor("the blocking job to start", () => ran(k).includes(blocker as number), 20_000);
        await waitFor("the worker to claim ahead", async () => (await q.size()).reserved > 1, 20_000);
        await q.pause();
        await waitFor(
          "the other process to hand back its prefetched jobs",
          async () => (await q.size()).reserved === 1,
          20_000,
        );
        // Jobs added while paused, and the blocker's completion, both wake the worker: it claims
        // and finds nothing. A job on another queue, added last, shows signals reached it.
        await q.addBatch(["late-1", "late-2"]);
        k.send("go");
        await waitFor(
          "the running job to finish",
          async () => (await q.get(blocker as number))?.state === "completed",
          20_000,
        );
        const size = await q.size();
        assert.equal(size.reserved, 0, "nothing claimed while paused");
        assert.equal(size.pending, 32);
        assert.equal(ran(k).at(-1), blocker, "no job of the paused queue started after the blocker");
        assert.equal(size.completed, 22);
        // The worker polls once a minute: only the resume's signal can start it within the wait.
        await q.resume();
        await waitFor("every job to run after resume", async () => (await q.size()).completed === 54, 20_000);
      },
    );

    test("progress a handler reports in another process is seen here", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const q = spool.queue("xprog");
      const k = child(t, "pause-worker.ts", childTarget(target), "xprog");
      await k.waitLine(/^ready$/);
      const id = await q.add({ progress: 55 });
      await k.waitLine(new RegExp(`^progressed ${id}$`));
      assert.equal((await q.get(id))?.progress, 55);
      assert.equal((await q.get(id))?.state, "reserved");
      // A manual holder here (by id) may report too; the child then completes the job.
      await q.progress(id, { phase: "checked by the parent" });
      k.send("go");
      await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
      assert.deepEqual((await q.get(id))?.progress, { phase: "checked by the parent" });
    });
  });
}

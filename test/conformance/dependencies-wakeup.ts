// A job released by its last dependency's completion starts at once, in this process and in
// another, with no poll: the waiting queue's workers are told like workers told of an add.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, fresh, T, waitFor } from "./harness.js";

/** Longer than any test may wait: a worker that starts the job did not wait for a poll. */
const NEVER = 3_600_000;

export function dependenciesWakeup(b: BackendFixture): void {
  describe("dependencies: wake-ups", () => {
    test(
      "a job released by a completion in another queue starts without waiting for a poll",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const parts = spool.queue("parts");
        const whole = spool.queue("whole");
        const part = await parts.add("part");
        const id = await whole.add("whole", { dependsOn: [part] });
        const done: number[] = [];
        // Idle, it would next look after an hour: only a wake-up can start the job in time.
        const worker = whole.process(
          async (job) => {
            done.push(job.id);
          },
          { pollInterval: NEVER },
        );
        t.after(() => worker.stop());
        const first = await whole.add("first");
        await waitFor("the first job", () => done.length === 1);
        await waitFor("the worker to go idle", async () => (await whole.size()).reserved === 0);
        const job = await parts.reserve();
        assert.ok(job);
        await parts.complete(job, "done");
        await waitFor("the released job, woken by the completion", () => done.length === 2);
        assert.deepEqual(done, [first, id]);
      },
    );
  });
}

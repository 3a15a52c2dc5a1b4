// The exactly-once proof across real processes: three application processes, each stating the
// same 1-second schedule on boot and running a worker (so each runs a scheduler), race for every
// fire; each fire time must end up with exactly one job, none missing between the first and last.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JobInfo, JobState } from "../../src/index.js";
import { type BackendFixture, child, childTarget, fresh, waitFor } from "./harness.js";

const P = { timeout: 120_000 } as const;
const STATES: JobState[] = ["pending", "delayed", "reserved", "completed", "dead"];

export function schedulesProcesses(b: BackendFixture): void {
  describe("cron schedules across processes", () => {
    test("a running scheduler keeps no process alive", P, async (t) => {
      // PostgreSQL's pool holds idle connections for a while whatever the scheduler does.
      if (!b.multiProcess || b.kind !== "sqlite") return t.skip("SQLite file only");
      const { target } = await fresh(b, t);
      const k = child(t, "schedule-idle.ts", childTarget(target));
      await k.waitLine(/^started$/, 60_000);
      await waitFor("the process to exit by itself", () => k.exited, 20_000);
      assert.equal((await k.exit).code, 0, k.stderr.join("\n"));
    });

    test(
      "three processes running workers enqueue each fire of a 1-second schedule exactly once",
      P,
      async (t) => {
        if (!b.multiProcess) return t.skip("single-process backend");
        const { spool, target } = await fresh(b, t);
        const kids = [1, 2, 3].map(() =>
          child(t, "schedule-worker.ts", childTarget(target), "tick", "ticks", "* * * * * *"),
        );
        for (const k of kids) await k.waitLine(/^ready$/, 60_000);
        const q = spool.queue("ticks");
        const allRunning = await spool.ctx.backend.schedules.now();
        // State by state: a job the workers move on between two reads is seen twice, kept once.
        const all = async () => {
          const jobs = new Map<number, JobInfo<unknown>>();
          for (const state of STATES)
            for (const j of await q.list({ state, limit: 10_000 })) jobs.set(j.id, j);
          return [...jobs.values()];
        };
        await waitFor(
          "five fires while all three processes run",
          async () => (await all()).filter((j) => j.runAt.getTime() > allRunning).length >= 5,
          60_000,
        );
        for (const k of kids) k.kill("SIGTERM");
        for (const k of kids) assert.equal((await k.exit).code, 0, k.stderr.join("\n"));
        const jobs = await all();
        const fires = jobs.map((j) => j.runAt.getTime()).sort((x, y) => x - y);
        const perFire = new Map<number, number>();
        for (const at of fires) perFire.set(at, (perFire.get(at) ?? 0) + 1);
        const twice = [...perFire].filter(([, n]) => n > 1).map(([at]) => new Date(at).toISOString());
        assert.deepEqual(twice, [], "no fire enqueued twice");
        const first = fires[0] as number;
        const last = fires[fires.length - 1] as number;
        assert.ok(last - first >= 4000, `fires span ${first}..${last}`);
        assert.equal(
          fires.length,
          (last - first) / 1000 + 1,
          "no fire missing between the first and the last",
        );
        for (const j of jobs) assert.equal(j.key, `tick@${j.runAt.toISOString()}`);
      },
    );
  });
}

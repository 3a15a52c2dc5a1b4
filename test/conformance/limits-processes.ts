// A rate limit across real processes (issue 16): four workers, each in its own process and
// stating no limit, share the queue's stored `{ max: 50, duration: 1000 }`: no 1-second window
// starts more than 50 jobs, counted from every claim and every handler's start (assertRate).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, type Child, child, childTarget, fresh, waitFor } from "./harness.js";
import { assertRate } from "./limits.js";

const P = { timeout: 120_000 } as const;

const starts = (c: Child) =>
  c.lines
    .filter((l) => l.startsWith("start "))
    .map((l) => l.split(" ").map(Number) as [number, number, number, number]);

export function limitsProcesses(b: BackendFixture): void {
  describe(`limits across processes [${b.name}]`, () => {
    test(
      "four processes start at most 50 jobs in any second under rateLimit { max: 50, duration: 1000 }",
      P,
      async (t) => {
        if (!b.multiProcess) return t.skip("single-process backend");
        const { spool, target } = await fresh(b, t);
        const q = spool.queue("rl", { rateLimit: { max: 50, duration: 1000 } });
        await q.add("stated"); // the limit is stored by then: the children find it
        const kids = [0, 1, 2, 3].map(() => child(t, "limits-worker.ts", childTarget(target), "rl"));
        for (const k of kids) await k.waitLine(/^ready$/);
        await q.addBatch(Array.from({ length: 219 }, (_, i) => i));
        const all = () => kids.flatMap(starts);
        await waitFor("every job to start", () => all().length === 220, 60_000);
        const ids = new Set(all().map(([, id]) => id));
        assert.equal(ids.size, 220, "each job started once");
        assert.ok(kids.filter((k) => starts(k).length > 0).length > 1, "more than one process started jobs");
        assertRate(
          all().map(([, , startedAt, claimedAt]) => ({ claimedAt, startedAt })),
          50,
          1000,
        );
      },
    );
  });
}

// What a hostile review of dependencies proved (each test failed before its fix): jobs stranded
// in `waiting` by a retry, a job that depended on itself, flows that never ended.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BackendFixture, expectCode, fresh, T } from "./harness.js";

export function dependenciesHostile(b: BackendFixture): void {
  describe("dependencies: hostile review", () => {
    test("a dead dependent whose dependency was removed stays dead on retry", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("q");
      const dep = await q.add("dep");
      const child = await q.add("child", { dependsOn: [dep] });
      await q.remove(dep);
      assert.equal((await q.get(child))?.lastError, "dependency removed");
      // Nothing could ever release it: a retry must not leave it waiting forever.
      assert.equal(await q.retry([child]), 0);
      assert.equal((await q.get(child))?.state, "dead");
      assert.equal(await q.retry(), 0);
      assert.equal((await q.size()).waiting, 0);
    });

    test("a dead dependent whose dead dependency was purged stays dead on retry", T, async (t) => {
      const { spool } = await fresh(b, t);
      const deps = spool.queue("deps");
      const children = spool.queue("children");
      const dep = await deps.add("dep", { maxAttempts: 1 });
      const child = await children.add("child", { dependsOn: [dep] });
      const job = await deps.reserve();
      assert.equal(job?.id, dep);
      await deps.fail(job, new Error("boom"));
      assert.equal((await children.get(child))?.lastError, "dependency failed");
      // The dead dependency goes (a purge, or its dead retention): the dependent can never run.
      assert.equal(await deps.purge({ state: "dead" }), 1);
      assert.equal(await children.retry([child]), 0);
      assert.equal((await children.get(child))?.state, "dead");
      assert.equal((await children.size()).waiting, 0);
    });

    test(
      "a retried dependent, waiting again, dies when its dead dependency is then deleted",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const deps = spool.queue("deps");
        const children = spool.queue("children");
        const dep = await deps.add("dep", { maxAttempts: 1 });
        const child = await children.add("child", { dependsOn: [dep] });
        const job = await deps.reserve();
        await deps.fail(job as never, new Error("boom"));
        // As documented: the dependent waits again, for the dependency's own retry...
        assert.equal(await children.retry([child]), 1);
        assert.equal((await children.get(child))?.state, "waiting");
        // ...which can no longer come: the dependency is purged instead.
        assert.equal(await deps.purge({ state: "dead" }), 1);
        const info = await children.get(child);
        assert.equal(info?.state, "dead");
        assert.equal(info?.lastError, "dependency removed");
        assert.equal((await children.size()).waiting, 0);
      },
    );

    test("a job cannot depend on itself (its own id, not yet a job when added)", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("q");
      const first = await q.add("first");
      const before = await q.size();
      await expectCode(() => q.add("self", { dependsOn: [first + 1] }), "NOT_FOUND", String(first + 1));
      assert.deepEqual(await q.size(), before);
      await expectCode(
        () => q.addBatch(["a", "b"], { dependsOn: [first + 1] }),
        "NOT_FOUND",
        String(first + 1),
      );
      assert.deepEqual(await q.size(), before);
    });

    test("a flow that contains itself is INVALID_ARGUMENT, and ends", T, async (t) => {
      const { spool } = await fresh(b, t);
      const node: { queue: string; payload: string; children: unknown[] } = {
        queue: "q",
        payload: "loop",
        children: [],
      };
      node.children.push({ queue: "q", payload: "ok" }, node);
      await expectCode(() => spool.flow(node as never), "INVALID_ARGUMENT", "ancestors");
      assert.equal((await spool.queue("q").size()).total, 0);
    });

    test("a flow node with more than 10,000 dependencies is INVALID_ARGUMENT", T, async (t) => {
      const { spool } = await fresh(b, t);
      const children = Array.from({ length: 10_001 }, (_, i) => ({ queue: "leaf", payload: i }));
      await expectCode(
        () => spool.flow({ queue: "root", payload: 0, children }),
        "INVALID_ARGUMENT",
        "10000",
      );
      assert.equal((await spool.queue("leaf").size()).total, 0);
    });
  });
}

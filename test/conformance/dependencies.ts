// Job dependencies (AddOptions.dependsOn) and flows (spool.flow): a job waits until every job it
// depends on completed, in the same transaction as the last completion; it dies when one dies.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type BackendFixture,
  child,
  childTarget,
  clockPast,
  expectCode,
  fresh,
  T,
  waitFor,
} from "./harness.js";

const P = { timeout: 120_000 } as const;

export function dependencies(b: BackendFixture): void {
  describe("dependencies", () => {
    test("waits across queues until its last dependency completes; results() by id", T, async (t) => {
      const { spool } = await fresh(b, t);
      const a = spool.queue("dep-a");
      const c = spool.queue("dep-c");
      const one = await a.add("one");
      const two = await a.add("two");
      const top = await c.add("top", { dependsOn: [two, one] });
      assert.equal((await c.get(top))?.state, "waiting");
      assert.deepEqual((await c.get(top))?.dependsOn, [one, two]);
      assert.equal((await c.size()).waiting, 1);
      assert.equal((await c.size()).total, 1);
      assert.deepEqual(
        (await c.list({ state: "waiting" })).map((j) => j.id),
        [top],
      );
      assert.equal(await c.reserve(), null, "a waiting job is never handed out");

      const j1 = await a.reserve();
      assert.equal(j1?.id, one);
      await a.complete(j1!, { n: 1 });
      assert.equal((await c.get(top))?.state, "waiting", "one of two completed: still waiting");
      assert.deepEqual(await c.results(top), { [one]: { n: 1 } });

      const j2 = await a.reserve();
      await a.complete(j2!, "r2");
      assert.equal((await c.get(top))?.state, "pending", "pending as the last one completes");
      assert.equal((await c.size()).waiting, 0);
      const got = await c.reserve();
      assert.equal(got?.id, top);
      assert.deepEqual(await c.results(top), { [one]: { n: 1 }, [two]: "r2" });
    });

    test("a worker's handler reads its dependencies' results with context.results()", T, async (t) => {
      const { spool } = await fresh(b, t);
      const kids = spool.queue<number>("kids");
      const parent = spool.queue("parent");
      const ids = await kids.addBatch([1, 2, 3]);
      const top = await parent.add("p", { dependsOn: ids });
      const kw = kids.process(async (job) => job.payload * 10);
      t.after(() => kw.stop());
      let seen: Record<number, unknown> | undefined;
      const pw = parent.process(async (_job, ctx) => {
        seen = await ctx.results();
        return "done";
      });
      t.after(() => pw.stop());
      await waitFor("the parent to complete", async () => (await parent.get(top))?.state === "completed");
      assert.deepEqual(seen, { [ids[0]!]: 10, [ids[1]!]: 20, [ids[2]!]: 30 });
    });

    test("a dependency that fails for good kills its dependents, transitively", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("chain", { maxAttempts: 1 });
      const first = await q.add("first");
      const second = await q.add("second", { dependsOn: [first] });
      const third = await q.add("third", { dependsOn: [second] });
      const other = await q.add("other");
      const both = await q.add("both", { dependsOn: [other, third] });
      const job = await q.reserve();
      assert.equal(job?.id, first);
      await q.fail(job!, new Error("boom"));
      for (const id of [second, third, both]) {
        const info = await q.get(id);
        assert.equal(info?.state, "dead", `job ${id} is dead`);
        assert.equal(info?.lastError, "dependency failed");
      }
      assert.equal((await q.get(other))?.state, "pending", "an unrelated dependency is untouched");
      assert.equal((await q.size()).waiting, 0);
    });

    test("a chain 500 deep dies whole when its first job fails, and completes in order", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue<number>("deep", { maxAttempts: 1 });
      // The handle, not the name: its maxAttempts applies to every job of the flow.
      type Node = { queue: typeof q; payload: number; children?: Node[] };
      const chain = (depth: number): Node => {
        let node: Node = { queue: q, payload: 0 };
        for (let i = 1; i < depth; i++) node = { queue: q, payload: i, children: [node] };
        return node;
      };
      const doomed = await spool.flow(chain(500));
      const first = await q.reserve();
      assert.equal(first?.payload, 0);
      await q.fail(first!, new Error("first"));
      assert.equal((await q.size()).dead, 500, "every job of the chain is dead");
      assert.equal((await q.get(doomed.id))?.lastError, "dependency failed");
      await q.clear();

      const top = await spool.flow(chain(50));
      for (let i = 0; i < 50; i++) {
        const job = await q.reserve();
        assert.equal(job?.payload, i, "one link at a time, in order");
        await q.complete(job!, i);
      }
      assert.equal((await q.get(top.id))?.state, "completed");
    });

    test("a lapsed last lease of a dependency kills its dependents", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("lapse", { maxAttempts: 1 });
      const dep = await q.add("dep");
      const top = await q.add("top", { dependsOn: [dep] });
      const held = await q.reserve({ lease: 50 });
      assert.equal(held?.id, dep);
      await clockPast(held!.leaseUntil, 50);
      await waitFor("the dependent to die", async () => {
        await q.reserve();
        return (await q.get(top))?.state === "dead";
      });
      assert.equal((await q.get(dep))?.lastError, "lease expired");
      assert.equal((await q.get(top))?.lastError, "dependency failed");
    });

    test("ttl expiry of a dependency kills its dependents", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("ttl-dep");
      const other = spool.queue("ttl-top");
      const dep = await q.add("dep", { ttl: 100 });
      const top = await other.add("top", { dependsOn: [dep] });
      await clockPast((await q.get(dep))!.runAt.getTime() + 100, 50);
      await waitFor("the dependency to expire", async () => {
        await q.reserve();
        return (await q.get(dep))?.state === "dead";
      });
      assert.equal((await other.get(top))?.state, "dead");
      assert.equal((await other.get(top))?.lastError, "dependency failed");
    });

    test("removing an unfinished dependency kills its dependents", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("rm");
      const dep = await q.add("dep");
      const top = await q.add("top", { dependsOn: [dep] });
      const next = await q.add("next", { dependsOn: [top] });
      assert.equal(await q.remove(dep), true);
      for (const id of [top, next]) {
        assert.equal((await q.get(id))?.state, "dead");
        assert.equal((await q.get(id))?.lastError, "dependency removed");
      }
      // Removing a waiting job deletes its links with it; removing a dead one changes nothing.
      assert.equal(await q.remove(next), true);
      assert.deepEqual(await q.results(next), {});
    });

    test("a missing id is NOT_FOUND and nothing is written", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("missing");
      const dep = await q.add("dep");
      await expectCode(() => q.add("x", { dependsOn: [dep, dep + 1000] }), "NOT_FOUND", `${dep + 1000}`);
      await expectCode(
        () => q.addBatch(["a", "b"], { dependsOn: [dep + 1000] }),
        "NOT_FOUND",
        `${dep + 1000}`,
      );
      const size = await q.size();
      assert.equal(size.total, 1, "only the dependency exists");
      assert.equal(size.waiting, 0);
      // The dependency is not marked as having dependents: it completes and deletes as any job.
      const job = await q.reserve();
      await q.complete(job!);
      assert.equal((await q.get(dep))?.state, "completed");
    });

    test(
      "an already completed dependency counts as done; an already dead one kills at once",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const q = spool.queue("settled", { maxAttempts: 1 });
        const done = await q.add("done");
        const gone = await q.add("gone");
        const j1 = await q.reserve();
        await q.complete(j1!, "ok");
        const j2 = await q.reserve();
        await q.fail(j2!, new Error("no"));
        const ready = await q.add("ready", { dependsOn: [done] });
        assert.equal((await q.get(ready))?.state, "pending");
        assert.deepEqual(await q.results(ready), { [done]: "ok" });
        const doomed = await q.add("doomed", { dependsOn: [done, gone] });
        assert.equal((await q.get(doomed))?.state, "dead");
        assert.equal((await q.get(doomed))?.lastError, "dependency failed");
      },
    );

    test("a key held by a live job returns that job's id and links nothing", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("keyed");
      const dep = await q.add("dep");
      const first = await q.add("first", { key: "k", dependsOn: [dep] });
      assert.equal((await q.get(first))?.state, "waiting");
      const again = await q.add("again", { key: "k" });
      assert.equal(again, first, "a waiting job holds its key");
      const other = await q.add("other");
      const third = await q.add("third", { key: "k", dependsOn: [other] });
      assert.equal(third, first);
      assert.deepEqual((await q.get(first))?.dependsOn, [dep]);
      assert.equal((await q.size()).total, 3);
    });

    test("a retried dead dependent waits again while its dependencies are unfinished", T, async (t) => {
      const { spool } = await fresh(b, t);
      const q = spool.queue("retry", { maxAttempts: 1 });
      const dep = await q.add("dep");
      const top = await q.add("top", { dependsOn: [dep] });
      const j = await q.reserve();
      await q.fail(j!, new Error("once"));
      assert.equal((await q.get(top))?.state, "dead");
      assert.equal(await q.retry([top]), 1);
      assert.equal((await q.get(top))?.state, "waiting", "its dependency is still dead");
      assert.equal(await q.retry([dep]), 1);
      const again = await q.reserve();
      assert.equal(again?.id, dep);
      await q.complete(again!, 7);
      assert.equal((await q.get(top))?.state, "pending");
      assert.deepEqual(await q.results(top), { [dep]: 7 });
    });

    test("retention completed 0 on the dependency still gives results()", T, async (t) => {
      const { spool } = await fresh(b, t);
      const kids = spool.queue("gone-kids", { retention: { completed: 0 } });
      const parent = spool.queue("gone-parent");
      const dep = await kids.add("k");
      const plain = await kids.add("plain");
      const top = await parent.add("p", { dependsOn: [dep] });
      const w = kids.process(async (job) => ({ from: job.id }));
      t.after(() => w.stop());
      await waitFor("both kids deleted", async () => (await kids.size()).total === 0);
      assert.equal(await kids.get(dep), null);
      assert.equal(await kids.get(plain), null);
      assert.equal((await parent.get(top))?.state, "pending");
      assert.deepEqual(await parent.results(top), { [dep]: { from: dep } });
    });

    test("spool.flow adds a tree in one transaction and returns its ids", T, async (t) => {
      const { spool } = await fresh(b, t);
      const leaf = spool.queue("leaf");
      const tree = await spool.flow({
        queue: "root",
        payload: "r",
        children: [
          { queue: leaf, payload: "a" },
          { queue: "mid", payload: "m", children: [{ queue: "leaf", payload: "b" }] },
        ],
      });
      assert.equal(tree.queue, "root");
      assert.equal(tree.children.length, 2);
      const [a, mid] = tree.children;
      assert.equal(mid?.children.length, 1);
      const bLeaf = mid?.children[0];
      assert.equal(a?.queue, "leaf");
      assert.equal(bLeaf?.queue, "leaf");
      const root = spool.queue("root");
      const midQ = spool.queue("mid");
      assert.deepEqual(
        (await root.get(tree.id))?.dependsOn,
        [a!.id, mid!.id].sort((x, y) => x - y),
      );
      assert.deepEqual((await midQ.get(mid!.id))?.dependsOn, [bLeaf!.id]);
      assert.equal((await root.get(tree.id))?.state, "waiting");
      assert.equal((await leaf.size()).pending, 2);

      // One bad node deep in the tree: nothing at all is written.
      await expectCode(
        () =>
          spool.flow({
            queue: "root",
            payload: "r2",
            children: [
              { queue: "leaf", payload: "ok" },
              {
                queue: "mid",
                payload: "m2",
                children: [{ queue: "leaf", payload: "x", options: { dependsOn: [999_999] } }],
              },
            ],
          }),
        "NOT_FOUND",
        "999999",
      );
      assert.equal((await root.size()).total, 1);
      assert.equal((await midQ.size()).total, 1);
      assert.equal((await leaf.size()).total, 2);
    });

    test(
      "fan-out/fan-in: 1,000 children drained at concurrency 16, the root runs last, once",
      T,
      async (t) => {
        const { spool } = await fresh(b, t);
        const children = Array.from({ length: 1000 }, (_, i) => ({ queue: "fan", payload: i }));
        const tree = await spool.flow({ queue: "fan", payload: -1, children });
        const q = spool.queue<number>("fan");
        let done = 0;
        let rootRuns = 0;
        let rootSaw = 0;
        let rootAfter = -1;
        const w = q.process(
          async (job, ctx) => {
            if (job.id === tree.id) {
              rootRuns++;
              rootAfter = done;
              rootSaw = Object.keys(await ctx.results()).length;
              return "root";
            }
            done++;
            return job.payload;
          },
          { concurrency: 16 },
        );
        t.after(() => w.stop());
        await waitFor(
          "the root to complete",
          async () => (await q.get(tree.id))?.state === "completed",
          25_000,
          50,
        );
        await w.stop();
        assert.equal(rootRuns, 1);
        assert.equal(rootAfter, 1000, "the root ran after every child");
        assert.equal(rootSaw, 1000);
        const results = await q.results(tree.id);
        assert.equal(results[tree.children[999]!.id], 999);
      },
    );
  });
}

/**
 * Adds with dependsOn racing the completion of their dependency on another connection (another
 * Spool on the same store): the add must see the completion or the completion must see the
 * link, never neither (the dependent would wait forever).
 */
export function dependenciesRace(b: BackendFixture): void {
  describe("dependencies, racing", () => {
    test("an add racing its dependency's completion on another connection never strands the dependent", {
      ...T,
      skip: !b.persistent,
    }, async (t) => {
      const { spool, reopen } = await fresh(b, t);
      const other = await reopen();
      const deps = spool.queue("race-dep");
      const tops = other.queue("race-top");
      const rounds = 150;
      const added: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const dep = await deps.add(i);
        const held = await deps.reserve();
        assert.equal(held?.id, dep);
        const [, top] = await Promise.all([deps.complete(held!, i), tops.add(i, { dependsOn: [dep] })]);
        added.push(top);
      }
      const size = await tops.size();
      assert.equal(size.waiting, 0, "no dependent left waiting on a completed dependency");
      assert.equal(size.pending, rounds);
      for (const top of added.slice(0, 5)) assert.equal(Object.keys(await tops.results(top)).length, 1);
    });
  });
}

/** A flow drained by worker processes SIGKILLed at random: the root still runs, with every result. */
export function dependenciesProcesses(b: BackendFixture): void {
  describe("dependencies, processes", () => {
    test(
      "a flow drained by workers SIGKILLed mid-run: the root runs once every child completed",
      P,
      async (t) => {
        if (!b.multiProcess) return t.skip("single-process backend");
        const { spool, target } = await fresh(b, t);
        const q = spool.queue("crashflow");
        const children = Array.from({ length: 60 }, (_, i) => ({ queue: "crashflow", payload: i }));
        const tree = await spool.flow({ queue: "crashflow", payload: "root", children });
        const runs = join(mkdtempSync(join(tmpdir(), "spool-deps-")), "runs");
        writeFileSync(runs, "");
        t.after(() => rmSync(runs, { force: true }));
        const lines = () => readFileSync(runs, "utf8").split("\n").filter(Boolean);
        const start = () => child(t, "work.ts", childTarget(target), "crashflow", runs, "4", "1000", "150");
        for (let round = 0; round < 2; round++) {
          const k = start();
          await k.waitLine(/^ready$/);
          const seen = lines().length;
          await waitFor("the worker to run some jobs", () => lines().length >= seen + 8, 30_000);
          k.kill("SIGKILL");
          await k.exit;
        }
        const last = start();
        await last.waitLine(/^ready$/);
        await waitFor(
          "the root to complete",
          async () => (await q.get(tree.id))?.state === "completed",
          90_000,
          50,
        );
        const results = await q.results(tree.id);
        assert.equal(Object.keys(results).length, 60, "the root has every child's result");
        for (const kid of tree.children) assert.equal((await q.get(kid.id))?.state, "completed");
        const started = lines().map(Number);
        const rootAt = started.indexOf(tree.id);
        assert.ok(rootAt >= 0, "the root ran");
        for (const kid of tree.children) {
          assert.ok(started.lastIndexOf(kid.id) < rootAt, `child ${kid.id} ran before the root`);
        }
      },
    );
  });
}

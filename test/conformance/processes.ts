// Several real processes on one store, with real signals: what promises in one process can't prove.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type BackendFixture, type Child, child, childTarget, clockPast, fresh, waitFor } from "./harness.js";

const P = { timeout: 120_000 } as const;

function ids(c: Child, prefix: string): number[] {
  return c.lines.filter((l) => l.startsWith(`${prefix} `)).map((l) => Number(l.split(" ")[1]));
}

export function processes(b: BackendFixture): void {
  describe("several processes", () => {
    test("three processes draining one queue never get the same job, and each gets work", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const q = spool.queue("shared");
      const all = await q.addBatch(Array.from({ length: 300 }, (_, i) => i));
      const kids = [0, 1, 2].map(() => child(t, "drain.ts", childTarget(target), "shared"));
      for (const k of kids) await k.waitLine(/^ready$/);
      for (const k of kids) k.send("go");
      for (const k of kids) await k.waitLine(/^done$/, 60_000);
      const got = kids.map((k) => ids(k, "got"));
      t.diagnostic(`jobs per process: ${got.map((g) => g.length).join(", ")}`);
      const flat = got.flat();
      assert.equal(new Set(flat).size, flat.length, "no job was handed to two processes");
      assert.deepEqual(
        [...flat].sort((x, y) => x - y),
        all,
      );
      for (const [i, g] of got.entries()) assert.ok(g.length > 0, `process ${i} got no work`);
      assert.equal((await q.size()).completed, 300);
    });

    test("every add acknowledged before its producer was SIGKILLed is in the store", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const kids = [0, 1].map(() => child(t, "produce.ts", childTarget(target), "produced", "4"));
      await waitFor(
        "both producers to acknowledge adds",
        () => kids.every((k) => ids(k, "added").length >= 40),
        60_000,
      );
      for (const k of kids) k.kill("SIGKILL");
      for (const k of kids) await k.exit;
      const acked = kids.flatMap((k) => ids(k, "added"));
      const q = spool.queue("produced");
      const missing: number[] = [];
      for (const id of acked) if ((await q.get(id)) === null) missing.push(id);
      assert.deepEqual(missing, [], "acknowledged adds lost");
      assert.ok((await q.size()).total >= acked.length);
      t.diagnostic(`${acked.length} acknowledged adds, ${(await q.size()).total} stored`);
    });

    test("workers SIGKILLed at random while others run: every job ends completed", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const q = spool.queue("crashy");
      const total = 200;
      await q.addBatch(
        Array.from({ length: total }, (_, i) => i),
        { maxAttempts: 100 },
      );
      const runs = join(tmpdir(), `spool-runs-${process.pid}-${Date.now()}.txt`);
      writeFileSync(runs, "");
      t.after(() => rmSync(runs, { force: true }));
      const start = () => child(t, "work.ts", childTarget(target), "crashy", runs, "4", "1000", "200");
      const live = [start(), start(), start()];
      let kills = 0;
      for (let round = 0; round < 4; round++) {
        const before = (await q.size()).completed;
        if (before >= total - 20) break;
        await waitFor(
          "progress before the next kill",
          async () => (await q.size()).completed >= before + 15,
          60_000,
        );
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
        victim.kill("SIGKILL");
        await victim.exit;
        kills++;
        live.push(start());
      }
      await waitFor("every job to complete", async () => (await q.size()).completed === total, 90_000, 100);
      const size = await q.size();
      assert.deepEqual(size, {
        waiting: 0,
        pending: 0,
        delayed: 0,
        reserved: 0,
        completed: total,
        dead: 0,
        total,
        paused: false,
      });
      const counts = new Map<string, number>();
      for (const id of readFileSync(runs, "utf8").split("\n").filter(Boolean))
        counts.set(id, (counts.get(id) ?? 0) + 1);
      assert.equal(counts.size, total, "every job's handler ran");
      const twice = [...counts.values()].filter((n) => n > 1).length;
      t.diagnostic(`${kills} workers killed; ${twice} of ${total} jobs ran more than once (at-least-once)`);
      console.log(`[crash test, ${b.name}] ${kills} kills, ${twice}/${total} jobs ran twice or more`);
    });

    test("a worker stopped past its lease and resumed has its late completion refused", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const q = spool.queue("sleepy");
      const id = await q.add("x");
      const k = child(t, "late-complete.ts", childTarget(target), "sleepy", "300");
      const line = await k.waitLine(/^reserved /);
      const leaseUntil = Number(line.split(" ")[2]);
      k.kill("SIGSTOP");
      await clockPast(leaseUntil, 50);
      let mine = null as Awaited<ReturnType<typeof q.reserve>>;
      await waitFor("the lapsed job to be reserved again", async () => {
        mine = await q.reserve({ lease: 60_000 });
        return mine !== null;
      });
      assert.equal(mine!.id, id);
      k.send("go");
      k.kill("SIGCONT");
      const result = await k.waitLine(/^result /);
      assert.equal(result, "result LEASE_LOST");
      const info = await q.get(id);
      assert.equal(info?.state, "reserved", "the late completion changed nothing");
      assert.equal(info?.attempts, 2);
      await q.complete(mine!);
      assert.equal((await q.get(id))?.result, undefined);
    });

    test(
      "a queue.process worker stopped past its lease and resumed never completes the job",
      P,
      async (t) => {
        if (!b.multiProcess) return t.skip("single-process backend");
        const { spool, target } = await fresh(b, t);
        const q = spool.queue("sleepy-worker");
        const id = await q.add("x");
        const k = child(t, "stop-worker.ts", childTarget(target), "sleepy-worker", "500");
        await k.waitLine(/^running /);
        k.kill("SIGSTOP");
        let mine = null as Awaited<ReturnType<typeof q.reserve>>;
        await waitFor("the lapsed job to be reserved by someone else", async () => {
          mine = await q.reserve({ lease: 60_000 });
          return mine !== null;
        });
        assert.equal(mine!.id, id);
        k.kill("SIGCONT");
        k.send("go");
        await k.waitLine(/^stopped$/);
        t.diagnostic(`child reported: ${k.lines.join(" | ")}`);
        assert.ok(!k.lines.includes(`completed ${id}`), "the stale worker did not complete the job");
        const info = await q.get(id);
        assert.equal(info?.state, "reserved", "still held by the new holder");
        assert.equal(info?.attempts, 2);
        await q.complete(mine!, "parent");
        assert.equal((await q.get(id))?.result, "parent");
      },
    );

    test("SIGTERM stops a worker process gracefully and loses nothing", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const q = spool.queue("termed");
      const total = 200;
      await q.addBatch(Array.from({ length: total }, (_, i) => i));
      const runs = join(tmpdir(), `spool-term-${process.pid}-${Date.now()}.txt`);
      writeFileSync(runs, "");
      t.after(() => rmSync(runs, { force: true }));
      const k = child(t, "work.ts", childTarget(target), "termed", runs, "4", "30000", "100");
      await waitFor("some jobs to complete", async () => (await q.size()).completed >= 10, 60_000);
      k.kill("SIGTERM");
      const exit = await k.exit;
      assert.equal(exit.code, 0, `clean exit (stderr: ${k.stderr.join(" | ")})`);
      assert.ok(k.lines.includes("stopped"));
      const size = await q.size();
      assert.equal(size.reserved, 0, "no job left reserved");
      assert.equal(size.dead, 0);
      assert.equal(size.completed + size.pending, total, "every job completed or pending");
      assert.ok(size.pending > 0, "stopped mid-queue (the test proves something)");
      const again = await q.reserve();
      assert.ok(again, "the rest is ready for the next worker at once");
    });

    test(
      "a job added by another process wakes an idle worker without waiting for pollInterval",
      P,
      async (t) => {
        if (!b.multiProcess) return t.skip("single-process backend");
        const { spool, target } = await fresh(b, t);
        const q = spool.queue<string>("xwake");
        const done: string[] = [];
        const w = q.process(
          async (job) => {
            done.push(job.payload);
          },
          { pollInterval: 60_000 },
        );
        t.after(() => w.stop());
        await q.add("local");
        await waitFor("the local job", () => done.length === 1);
        await waitFor("the worker to go idle", async () => (await q.size()).reserved === 0);
        const k = child(t, "add.ts", childTarget(target), "xwake", JSON.stringify("remote"));
        await k.waitLine(/^added /);
        // A 60 s poll would not reach it within this wait; only a cross-process wake-up does.
        await waitFor("the remote job, woken across processes", () => done.length === 2, 20_000);
        assert.deepEqual(done, ["local", "remote"]);
      },
    );

    test("a channel sender in another process reaches a receiver here, in order", P, async (t) => {
      if (!b.multiProcess) return t.skip("single-process backend");
      const { spool, target } = await fresh(b, t);
      const [, rx] = await spool.channel<number>("xchan");
      const k = child(t, "send.ts", childTarget(target), "xchan", "50");
      const got: number[] = [];
      const loop = (async () => {
        for await (const item of rx) {
          got.push(item);
          if (got.length === 50) break;
        }
      })();
      await k.waitLine(/^sent$/);
      await waitFor("all 50 items", () => got.length === 50, 30_000);
      await loop;
      assert.deepEqual(
        got,
        Array.from({ length: 50 }, (_, i) => i),
      );
    });
  });
}

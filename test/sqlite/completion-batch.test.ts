// Completions of one queue issued together are written by one statement (completions.ts), yet
// each keeps its own outcome, result and error, exactly as when each had its own statement.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { describe, test } from "node:test";
import { Spool, SpoolError } from "../../src/index.js";
import type { Job, SpoolOptions } from "../../src/types.js";
import { T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

async function open(t: TestContext, options: SpoolOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "spool-completion-batch-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "jobs.db");
  const spool = await Spool.open(path, options);
  t.after(() => spool.close());
  return { path, spool };
}

async function reserveAll<T>(
  q: { reserveBatch(n: number): Promise<Job<T>[]> },
  n: number,
): Promise<Job<T>[]> {
  const jobs = await q.reserveBatch(n);
  assert.equal(jobs.length, n);
  return jobs;
}

function settle(promises: Promise<unknown>[]) {
  return Promise.allSettled(promises).then((all) =>
    all.map((s) =>
      s.status === "fulfilled" ? "ok" : s.reason instanceof SpoolError ? s.reason.code : String(s.reason),
    ),
  );
}

describe("sqlite: completions written together", () => {
  test(
    "each keeps its outcome: done, lease lost, gone, completed twice; each its own result",
    T,
    async (t) => {
      const { spool } = await open(t);
      const q = spool.queue<number>("q");
      await q.addBatch([0, 1, 2, 3, 4, 5]);
      const jobs = await reserveAll(q, 6);
      const [a, b, c, d, e, f] = jobs;
      // c's holder is stale: the job was failed back and claimed again by someone else.
      assert.equal(await q.fail(c!, "again", { retryIn: 0 }), "pending");
      const again = await q.reserve();
      assert.equal(again?.id, c!.id);
      // d is gone.
      assert.equal(await q.remove(d!.id), true);
      const outcomes = await settle([
        q.complete(a!, "result a"),
        q.complete(b!, { b: true }),
        q.complete(c!, "stale"),
        q.complete(d!, "gone"),
        q.complete(e!, "first"),
        q.complete(e!, "second"),
        q.complete(f!),
      ]);
      assert.deepEqual(outcomes, ["ok", "ok", "LEASE_LOST", "NOT_FOUND", "ok", "LEASE_LOST", "ok"]);
      assert.equal((await q.get(a!.id))?.result, "result a");
      assert.deepEqual((await q.get(b!.id))?.result, { b: true });
      assert.equal((await q.get(c!.id))?.state, "reserved");
      assert.equal((await q.get(e!.id))?.result, "first");
      assert.equal((await q.get(f!.id))?.state, "completed");
      await q.complete(again!);
    },
  );

  test("one completion whose statement fails takes none of the others with it", T, async (t) => {
    const { path, spool } = await open(t);
    const q = spool.queue<number>("q");
    await q.addBatch(Array.from({ length: 40 }, (_, i) => i));
    const jobs = await reserveAll(q, 40);
    const bad = jobs[17] as Job<number>;
    const raw = openRawSqlite(path);
    raw.exec(`CREATE TRIGGER boom BEFORE UPDATE OF state ON spool_jobs
                WHEN NEW.id = ${bad.id} AND NEW.state = 'completed'
              BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    raw.close();
    const outcomes = await settle(jobs.map((job) => q.complete(job, job.payload * 10)));
    assert.equal(outcomes.filter((o) => o === "ok").length, 39, String(outcomes));
    assert.notEqual(outcomes[17], "ok");
    for (const job of jobs) {
      const info = await q.get(job.id);
      if (job.id === bad.id) assert.equal(info?.state, "reserved");
      else assert.deepEqual([info?.state, info?.result], ["completed", job.payload * 10]);
    }
  });

  test("completions that release dependents wake and release each of them", T, async (t) => {
    const { spool } = await open(t);
    const q = spool.queue<string>("q");
    const other = spool.queue<string>("other");
    const deps = await q.addBatch(["d1", "d2", "d3"]);
    const waiting = await Promise.all(deps.map((dep, i) => other.add(`w${i}`, { dependsOn: [dep] })));
    const held = await reserveAll(q, 3);
    const outcomes = await settle(held.map((job) => q.complete(job, `${job.payload}!`)));
    assert.deepEqual(outcomes, ["ok", "ok", "ok"]);
    for (const [i, id] of waiting.entries()) {
      assert.equal((await other.get(id))?.state, "pending");
      assert.deepEqual(await other.results(id), { [deps[i] as number]: `d${i + 1}!` });
    }
  });

  test("a BUSY completion fails alone: the next ones are written once the lock is free", T, async (t) => {
    const { path, spool } = await open(t, { busyTimeout: 200 });
    const q = spool.queue<number>("q");
    await q.addBatch([1, 2, 3]);
    const [a, b, c] = await reserveAll(q, 3);
    const other = openRawSqlite(path);
    other.exec("BEGIN IMMEDIATE");
    assert.deepEqual(await settle([q.complete(a!)]), ["BUSY"]);
    other.exec("COMMIT");
    other.close();
    assert.deepEqual(await settle([q.complete(b!), q.complete(c!)]), ["ok", "ok"]);
    assert.equal((await q.get(a!.id))?.state, "reserved");
    assert.equal((await q.get(c!.id))?.state, "completed");
  });

  test("a completion issued while another waits for the lock waits its own busyTimeout", T, async (t) => {
    const { path, spool } = await open(t, { busyTimeout: 2_000 });
    const q = spool.queue<number>("q");
    await q.addBatch([1, 2]);
    const [a, b] = await reserveAll(q, 2);
    const other = openRawSqlite(path);
    other.exec("BEGIN IMMEDIATE");
    const first = settle([q.complete(a!)]);
    // Issued 1.5 s into the first one's 2 s wait, with a 2 s wait of its own: the lock, held
    // until the first gave up, is free well within it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const second = settle([q.complete(b!)]);
    await first;
    other.exec("COMMIT");
    other.close();
    assert.deepEqual(await first, ["BUSY"]);
    assert.deepEqual(await second, ["ok"]);
  });

  test(
    "a completion is written after the writes issued before it: remove, then complete, is NOT_FOUND",
    T,
    async (t) => {
      const spool = await Spool.open(":memory:");
      t.after(() => spool.close());
      const q = spool.queue<number>("q");
      await q.addBatch([0, 1, 2]);
      await q.complete((await reserveAll(q, 1))[0]!); // the retention is known from here on
      const [y, x] = await reserveAll(q, 2);
      await Promise.all([q.add(3), q.add(4)]); // a commit of several writes: the rest of the turn gathers
      const done = settle([q.complete(y!), q.remove(x!.id)]);
      for (let i = 0; i < 5; i++) await null;
      const late = settle([q.complete(x!, "result")]);
      assert.deepEqual(await done, ["ok", "ok"]);
      assert.deepEqual(await late, ["NOT_FOUND"]);
    },
  );
});

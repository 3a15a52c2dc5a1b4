// A write that shares its commit with no other runs as one statement that SQLite commits by
// itself (Writer.write's autocommit): a lone add (enqueueAlone), a reserve (claimAlone), a
// completion (completeAlone). No transaction holds the read of a queue's grouped flag and the
// insert together, so the statement reads the flag itself, as another process may have just set
// it; and such statements must still let SQLite checkpoint its WAL.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Spool } from "../../src/index.js";
import { T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

function tempPath(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "spool-autocommit-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "lone.db");
}

test("a lone add to a queue another process just made grouped joins it and is reserved", T, async (t) => {
  const path = tempPath(t);
  const here = await Spool.open(path);
  t.after(() => here.close());
  const queue = here.queue<string>("tenants", { groupConcurrency: 1 });
  // This process has added to the queue before it was grouped: nothing here knows it is.
  await queue.add("before");
  const other = await Spool.open(path);
  await other.queue<string>("tenants").add("grouped", { group: "acme" });
  await other.close();

  await queue.add("plain"); // alone: no other write of this process shares its commit
  const reserved: string[] = [];
  for (let job = await queue.reserve(); job !== null; job = await queue.reserve()) {
    reserved.push(job.payload);
    await queue.complete(job);
  }
  assert.deepEqual(reserved.sort(), ["before", "grouped", "plain"]);

  const raw = openRawSqlite(path);
  t.after(() => raw.close());
  const groups = raw.prepare("SELECT grp FROM spool_jobs ORDER BY id").all() as Array<{ grp: string | null }>;
  assert.deepEqual(
    groups.map((r) => r.grp),
    ["", "acme", ""],
    "an ungrouped job of a grouped queue has the '' group",
  );
});

test("a lone add to a queue that is not grouped leaves its group empty (NULL)", T, async (t) => {
  const path = tempPath(t);
  const spool = await Spool.open(path);
  t.after(() => spool.close());
  const id = await spool.queue<number>("plain").add(1, { delay: 0, priority: 3, ttl: 60_000 });
  const raw = openRawSqlite(path);
  t.after(() => raw.close());
  const row = raw
    .prepare("SELECT grp, priority, expires_at IS NOT NULL AS expires FROM spool_jobs WHERE id = ?")
    .get(id);
  assert.deepEqual({ ...(row as object) }, { grp: null, priority: 3, expires: 1 });
});

test("a lone add whose statement fails rejects alone, and the writes after it go on", T, async (t) => {
  const path = tempPath(t);
  const spool = await Spool.open(path);
  t.after(() => spool.close());
  const q = spool.queue<number>("q");
  await q.add(0);
  // A trigger that refuses one payload stands for any failure of the lone statement.
  const raw = openRawSqlite(path);
  t.after(() => raw.close());
  raw.exec(`CREATE TRIGGER refuse BEFORE INSERT ON spool_jobs WHEN new.body = CAST('13' AS BLOB)
            BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  await assert.rejects(q.add(13), /refused/);
  assert.equal(typeof (await q.add(14)), "number");
  assert.deepEqual(
    (await q.list({ state: "pending" })).map((j) => j.payload),
    [0, 14],
  );
});

/**
 * The WAL's size in pages. About five pages a job are written below: unchecked, the WAL would
 * hold thousands of pages. With SQLite's automatic checkpoint (every 1000 pages) it is reused
 * from its start and its file never grows much past 1000 pages. A statement reset at its
 * RETURNING row, never stepped to its end, commits without running that checkpoint.
 */
function walPages(path: string): number {
  return Math.round(statSync(`${path}-wal`).size / (4096 + 24));
}

async function filled(t: { after: (fn: () => void) => void }, n: number) {
  const path = tempPath(t);
  const spool = await Spool.open(path);
  t.after(() => spool.close());
  const q = spool.queue<number>("q");
  for (let i = 0; i < n; i += 500) await q.addBatch(Array.from({ length: 500 }, (_, k) => i + k));
  return { path, q };
}

test("lone reserves let SQLite checkpoint: the WAL stays near its 1000 pages", T, async (t) => {
  const { path, q } = await filled(t, 3000);
  let reserved = 0;
  while ((await q.reserve()) !== null) reserved++;
  assert.equal(reserved, 3000);
  assert.ok(walPages(path) < 2000, `the WAL holds ${walPages(path)} pages`);
});

test("lone completions let SQLite checkpoint: the WAL stays near its 1000 pages", T, async (t) => {
  const { path, q } = await filled(t, 3000);
  const jobs = await q.reserveBatch(3000);
  assert.equal(jobs.length, 3000);
  for (const job of jobs) await q.complete(job);
  assert.equal((await q.size()).completed, 3000);
  assert.ok(walPages(path) < 2000, `the WAL holds ${walPages(path)} pages`);
});

test(
  "lone round-robin turns keep the order and obey a pause or a limit another process just set",
  T,
  async (t) => {
    const path = tempPath(t);
    const here = await Spool.open(path);
    t.after(() => here.close());
    const q = here.queue<string>("tenants");
    for (const g of ["a", "b", "c"]) await q.addBatch([`${g}0`, `${g}1`, `${g}2`], { group: g });
    const served: string[] = [];
    const serve = async (): Promise<void> => {
      const job = await q.reserve();
      assert.ok(job !== null, `a job after ${served.join(",")}`);
      served.push(job.payload);
      await q.complete(job);
    };
    // The first turn runs in a transaction (this process has no cursor yet), the next ones alone,
    // the wrap-around from c to a in a transaction again.
    for (let i = 0; i < 5; i++) await serve();
    assert.deepEqual(served, ["a0", "b0", "c0", "a1", "b1"]);

    const other = await Spool.open(path);
    t.after(() => other.close());
    await other.queue<string>("tenants").pause();
    assert.equal(await q.reserve(), null, "paused by another process");
    await other.queue<string>("tenants").resume();

    // Another process's handle holds one job under a concurrency of 1: the queue is at its limit.
    const held = await other.queue<string>("tenants", { concurrency: 1 }).reserve();
    assert.ok(held !== null);
    assert.equal(await q.reserve(), null, "at the concurrency another process set");
    await other.queue<string>("tenants").complete(held);
    await serve();
    assert.equal(served.length, 6, "the slot came back");
  },
);

/**
 * Fault injection, one statement: the read of the queues a completion released fails once. A
 * completion must then either have happened whole (the job completed, its dependent released)
 * or not at all (an error, nothing changed): never an error for a completion that committed.
 */
for (const code of ["SQLITE_BUSY_RECOVERY", "SQLITE_IOERR_SHORT_READ"]) {
  test(`a completion whose released-queues read fails (${code}) is whole or nothing`, T, async (t) => {
    const path = tempPath(t);
    const spool = await Spool.open(path);
    t.after(() => spool.close());
    const parents = spool.queue<string>("parent");
    const children = spool.queue<string>("child");
    const parentId = await parents.add("p");
    const childId = await children.add("c", { dependsOn: [parentId] });
    const job = await parents.reserve();
    assert.ok(job !== null);
    const store = (spool as unknown as { ctx: { backend: { store: { sql: (text: string) => unknown } } } })
      .ctx.backend.store;
    const sql = store.sql.bind(store);
    let armed = true;
    store.sql = (text: string) => {
      if (armed && text.includes("SELECT DISTINCT j.queue FROM spool_deps")) {
        armed = false;
        return {
          all: () => {
            throw Object.assign(new Error("injected"), { code });
          },
        };
      }
      return sql(text);
    };
    const answer = await parents.complete(job).then(
      () => "ok",
      (error: { code?: string }) => error.code ?? "error",
    );
    assert.equal(armed, false, "the released-queues read ran");
    const parent = await parents.get(parentId);
    const child = await children.get(childId);
    if (answer === "ok") {
      assert.equal(parent?.state, "completed");
      assert.equal(child?.state, "pending");
    } else {
      assert.equal(parent?.state, "reserved", `answered ${answer}, yet the parent is ${parent?.state}`);
      assert.equal(child?.state, "waiting");
    }
  });
}

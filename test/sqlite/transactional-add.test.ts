/*
 * Transactional enqueue on SQLite: Spool opened on the application's own better-sqlite3
 * Database, and `addSync` inside its `db.transaction(...)`: rolled back with it, committed with
 * it, and a worker in another process (or this one) woken only once the commit is made.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import Database from "better-sqlite3";
import { z } from "zod";
import { Spool } from "../../src/index.js";
import { child, expectCode, waitFor } from "../conformance/harness.js";

const T = { timeout: 60_000 };

/** The application's database file, with a table of its own, and a Spool opened on it. */
async function appAndSpool(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), "spool-txadd-"));
  const path = join(dir, "app.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, what TEXT NOT NULL)");
  const spool = await Spool.open(db);
  t.after(async () => {
    await spool.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, spool, path };
}

const orderCount = (db: Database.Database) =>
  (db.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n;

describe("sqlite: addSync on the application's own Database", () => {
  test("committed with the application's transaction", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue<{ order: number | bigint }>("emails");
    const placeOrder = db.transaction((what: string) => {
      const { lastInsertRowid } = db.prepare("INSERT INTO orders (what) VALUES (?)").run(what);
      return q.addSync({ order: Number(lastInsertRowid) });
    });
    const id = placeOrder("book");
    assert.equal(typeof id, "number");
    assert.equal(orderCount(db), 1);
    const job = await q.get(id);
    assert.equal(job?.state, "pending");
    assert.deepEqual(job?.payload, { order: 1 });
  });

  test("rolled back with it: neither the job nor the application's row exists", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("emails");
    const placeOrder = db.transaction(() => {
      db.prepare("INSERT INTO orders (what) VALUES ('pen')").run();
      q.addSync({ order: 1 });
      q.addSync({ order: 1, copy: true }, { key: "k" });
      throw new Error("payment declined");
    });
    assert.throws(() => placeOrder(), /payment declined/);
    assert.equal(orderCount(db), 0);
    const size = await q.size();
    assert.equal(size.pending, 0);
    // The ids were never committed, so an add after the rollback may reuse them: nothing saw them.
    assert.equal((await q.list({ state: "pending" })).length, 0);
  });

  test("a refused add inside the transaction leaves the application's transaction usable", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("strict", { schema: z.object({ n: z.number() }) });
    const tx = db.transaction(() => {
      db.prepare("INSERT INTO orders (what) VALUES ('lamp')").run();
      assert.throws(
        () => q.addSync({ n: "one" } as never),
        (e: unknown) => (e as { code?: string }).code === "INVALID_ARGUMENT",
      );
      return q.addSync({ n: 1 });
    });
    const id = tx();
    assert.equal(orderCount(db), 1);
    assert.equal((await q.get(id))?.state, "pending");
    assert.equal((await q.size()).pending, 1);
  });

  test("a key held by a live job resolves to it, and within the transaction too", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("k");
    const live = await q.add("first", { key: "order-1" });
    const ids = db.transaction(() => [
      q.addSync("dup", { key: "order-1" }),
      q.addSync("new", { key: "order-2" }),
      q.addSync("new again", { key: "order-2" }),
    ])();
    assert.equal(ids[0], live);
    assert.equal(ids[1], ids[2]);
    assert.equal((await q.size()).pending, 2);
  });

  test("a worker in another process wakes only once the transaction commits", {
    timeout: 120_000,
  }, async (t) => {
    const { db, spool, path } = await appAndSpool(t);
    const q = spool.queue("xp");
    // The child polls once a minute: only the commit's change signal can start it in time.
    const k = child(t, "pause-worker.ts", JSON.stringify({ target: path, options: {} }), "xp");
    await k.waitLine(/^ready$/);
    db.exec("BEGIN IMMEDIATE");
    const id = q.addSync("in a transaction");
    db.prepare("INSERT INTO orders (what) VALUES ('desk')").run();
    // While the transaction is open, the job is invisible to every other connection.
    assert.equal(await q.get(id), null, "Spool's own connection does not see it yet");
    assert.equal(
      k.lines.some((l) => l.startsWith("ran ")),
      false,
    );
    db.exec("COMMIT");
    await k.waitLine(new RegExp(`^ran ${id}$`));
    await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
  });

  test("a worker in this process wakes once the transaction commits", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("local");
    const started: number[] = [];
    const worker = q.process(
      async (job) => {
        started.push(job.id);
      },
      { pollInterval: 60_000 },
    );
    t.after(() => worker.stop());
    await new Promise<void>((r) => worker.once("drained", () => r()));
    const id = db.transaction(() => q.addSync("x"))();
    await waitFor("the worker to run the committed job", () => started.includes(id));
  });

  test("Spool never closes the application's Database; after close, addSync is CLOSED", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("c");
    q.addSync(1);
    await spool.close();
    assert.equal(db.open, true);
    assert.equal(orderCount(db), 0);
    assert.throws(
      () => q.addSync(2),
      (e: unknown) => (e as { code?: string }).code === "CLOSED",
    );
  });

  test("a Database that cannot be shared is INVALID_ARGUMENT, naming why", T, async () => {
    const memory = new Database(":memory:");
    await expectCode(() => Spool.open(memory), "INVALID_ARGUMENT", "in memory");
    memory.close();
    const temporary = new Database("");
    await expectCode(() => Spool.open(temporary), "INVALID_ARGUMENT", "in memory");
    temporary.close();
    const dir = mkdtempSync(join(tmpdir(), "spool-txadd-"));
    try {
      const path = join(dir, "x.db");
      new Database(path).close();
      const closed = new Database(path);
      closed.close();
      await expectCode(() => Spool.open(closed), "INVALID_ARGUMENT", "closed");
      const readonly = new Database(path, { readonly: true });
      await expectCode(() => Spool.open(readonly), "INVALID_ARGUMENT", "read-only");
      readonly.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("addSync on a Spool opened on a path commits at once; an async schema is refused", T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "spool-txadd-"));
    const spool = await Spool.open(join(dir, "plain.db"));
    t.after(async () => {
      await spool.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const q = spool.queue("p");
    const id = q.addSync("now");
    assert.equal((await q.get(id))?.state, "pending");
    const slow = spool.queue("slow", { schema: z.string().refine(async () => true) });
    assert.throws(
      () => slow.addSync("x"),
      (e: unknown) => (e as { code?: string }).code === "INVALID_ARGUMENT" && /synchronous/.test(String(e)),
    );
    assert.equal((await slow.size()).pending, 0);
  });
});

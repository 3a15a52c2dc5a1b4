/*
 * Transactional enqueue on SQLite: Spool opened on the application's own better-sqlite3
 * Database, and `addSync` inside its `db.transaction(...)`: rolled back with it, committed with
 * it, and a worker in another process (or this one) woken only once the commit is made.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { SpanKind } from "@opentelemetry/api";
import Database from "better-sqlite3";
import { z } from "zod";
import { driverStatus } from "../../src/backends/sqlite/driver.js";
import { Spool } from "../../src/index.js";
import { child, expectCode, waitFor } from "../conformance/harness.js";
import { installTracer, summaries } from "../helpers/otel.js";

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

/** The application's Database here is a better-sqlite3 one: without it (--omit=optional) these cannot run. */
const noBetterSqlite3 =
  driverStatus().find((d) => d.driver === "better-sqlite3")?.reason != null &&
  "better-sqlite3 does not load in this Node";

describe("sqlite: addSync on the application's own Database", { skip: noBetterSqlite3 }, () => {
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

  test("an object shaped like a Database that is not one is INVALID_ARGUMENT, not a crash", T, async () => {
    const base = {
      name: "x.db",
      open: true,
      inTransaction: false,
      memory: false,
      readonly: false,
      transaction() {},
    };
    const throwing = {
      ...base,
      prepare() {
        throw new TypeError("not a database");
      },
    };
    await expectCode(() => Spool.open(throwing), "INVALID_ARGUMENT", "better-sqlite3");
    const odd = { ...base, prepare: () => ({ all: () => "rows" }) };
    await expectCode(() => Spool.open(odd), "INVALID_ARGUMENT", "in memory");
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

describe("sqlite: addSync on the application's Database, attacked", { skip: noBetterSqlite3 }, () => {
  test("the Database's real file is shared, even after the process changed directory", T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "spool-txadd-"));
    const before = process.cwd();
    process.chdir(dir);
    const db = new Database("app.db"); // relative to `dir`
    mkdirSync(join(dir, "elsewhere"));
    process.chdir(join(dir, "elsewhere"));
    t.after(() => {
      process.chdir(before);
      rmSync(dir, { recursive: true, force: true });
    });
    const spool = await Spool.open(db);
    t.after(async () => {
      await spool.close();
      db.close();
    });
    const q = spool.queue("q");
    const id = db.transaction(() => q.addSync("x"))();
    assert.equal((await q.get(id))?.state, "pending", "Spool's own connection sees the job the app added");
    assert.equal(existsSync(join(dir, "elsewhere", "app.db")), false, "no second database was made");
  });

  test("an application's defaultSafeIntegers does not turn ids into BigInts", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    db.defaultSafeIntegers(true);
    const q = spool.queue("big");
    const live = await q.add("first", { key: "k" });
    const again = db.transaction(() => q.addSync("dup", { key: "k" }))();
    assert.equal(again, live);
    const fresh = q.addSync("new");
    assert.equal(typeof fresh, "number");
    assert.equal((await q.get(fresh))?.state, "pending");
  });

  test(
    "a function backoff is refused: a rolled-back add would leave it to another job's id",
    T,
    async (t) => {
      const { db, spool } = await appAndSpool(t);
      const q = spool.queue("fn");
      assert.throws(
        () => db.transaction(() => q.addSync("x", { backoff: () => 999_000 }))(),
        (e: unknown) => (e as { code?: string }).code === "INVALID_ARGUMENT" && /backoff/.test(String(e)),
      );
      assert.equal((await q.size()).pending, 0);
    },
  );

  test(
    "a channel's sendSync still commits on its own, whatever the application's transaction does",
    T,
    async (t) => {
      const { db, spool } = await appAndSpool(t);
      const [tx, rx] = await spool.channel<string>("c");
      assert.throws(
        () =>
          db.transaction(() => {
            tx.sendSync("kept");
            throw new Error("the application rolls back");
          })(),
        /rolls back/,
      );
      assert.deepEqual(await rx.recvBatch(10), ["kept"]);
    },
  );

  test(
    "a transaction that read a snapshot another connection changed is told to start again",
    T,
    async (t) => {
      const { db, spool, path } = await appAndSpool(t);
      const q = spool.queue("snap");
      const other = new Database(path);
      t.after(() => other.close());
      const err = (() => {
        try {
          db.transaction(() => {
            db.prepare("SELECT count(*) FROM orders").get(); // the read that fixes the snapshot
            other.prepare("INSERT INTO orders (what) VALUES ('meanwhile')").run();
            q.addSync("x");
          })();
        } catch (e) {
          return e as { code?: string; message?: string };
        }
        return null;
      })();
      assert.equal(err?.code, "BUSY");
      assert.match(String(err?.message), /run it again from the start/);
      assert.equal((await q.size()).pending, 0);
    },
  );

  test("addSync into a grouped queue gives the job its group, so a claim can take it", T, async (t) => {
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("grouped");
    await q.add("first", { group: "a" });
    const plain = db.transaction(() => q.addSync("ungrouped"))();
    const tenant = q.addSync("tenant", { group: "b" });
    const claimed = (await q.reserveBatch(10)).map((j) => j.id);
    assert.ok(claimed.includes(plain) && claimed.includes(tenant), `claimed ${claimed.join(", ")}`);
    assert.equal((await q.get(tenant))?.group, "b");
  });

  test("addSync makes a producer span like add, and the job carries its context", T, async (t) => {
    const tracer = installTracer();
    t.after(() => tracer.close());
    const { db, spool } = await appAndSpool(t);
    const q = spool.queue("traced");
    const id = db.transaction(() => q.addSync("x"))();
    const worker = q.process(() => {});
    await new Promise<void>((r) => worker.once("completed", () => r()));
    await worker.stop();
    const spans = summaries(tracer.exporter);
    const producer = spans.find((s) => s.kind === SpanKind.PRODUCER);
    const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER);
    assert.ok(producer && consumer, `spans: ${spans.map((s) => s.name).join(", ")}`);
    assert.equal(producer.attributes["messaging.message.id"], String(id));
    assert.equal(consumer.traceId, producer.traceId);
  });
});

/*
 * Transactional enqueue on PostgreSQL: `add(…, { client })` runs on the application's own
 * connection inside its transaction. Rolled back with it, committed with it, and no worker hears
 * of the job before the commit. Shown with a plain `pg` client and through Kysely.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CompiledQuery, type Generated, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { SqlClient } from "../../src/index.js";
import { expectCode, waitFor } from "../conformance/harness.js";
import { PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/transactional-add.test.ts");
const T = { timeout: 60_000 };

async function appClient(t: { after(fn: () => Promise<void>): void }, schema: string): Promise<pg.Client> {
  // A test that fails inside a transaction leaves it open; the server ends it soon, so the
  // schema's DROP afterwards does not wait on its locks forever. Not too soon: on a loaded
  // machine, refusing a batch of 256 MiB (measured, not sent) took the open transaction past 3 s.
  const client = new pg.Client({
    connectionString: PG_URL,
    options: "-c idle_in_transaction_session_timeout=20000",
  });
  await client.connect();
  t.after(() => client.end());
  await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".orders (id serial PRIMARY KEY, what text)`);
  return client;
}

describe("postgres: add on the application's client, inside its transaction", { skip: !run }, () => {
  // pg's native (libpq) client has no binary parameters: a Buffer goes as a C string, cut at its
  // first NUL and read by the server as escaped text. A client that passes parameters only as
  // text stands for it (and for any other client with query(text, values)).
  test("a client that sends parameters only as text stores payloads byte for byte", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<unknown>("bytes");
    const client = await appClient(t, f.schema);
    const textOnly: SqlClient = {
      query: (text: string, values?: unknown[]) => {
        if (values?.some((v) => Buffer.isBuffer(v)))
          throw new Error("this client sends parameters as text only");
        return client.query(text, values);
      },
    };
    const payloads: unknown[] = [
      Buffer.from([0x00, 0x5c, 0xff, 0x27, 0x0a]),
      Buffer.alloc(0),
      { path: "C:\\dir", lines: "one\ntwo", nul: "\u0000" },
      Buffer.from([0x80, 0x81]),
    ];
    await client.query("BEGIN");
    const one = await q.add(payloads[0], { client: textOnly });
    const many = await q.addBatch(payloads, { client: textOnly });
    await client.query("COMMIT");
    assert.deepEqual((await q.get(one))?.payload, payloads[0]);
    for (const [i, id] of many.entries())
      assert.deepEqual((await q.get(id))?.payload, payloads[i], `job ${i}`);
  });

  test(
    "a batch too large for one statement is refused by its size, not as a lost connection",
    T,
    async (t) => {
      const f = spoolFixture(t);
      const spool = await f.open();
      const q = spool.queue<Buffer>("huge");
      const client = await appClient(t, f.schema);
      // Four payloads of 64 MiB, each within maxPayloadBytes: 256 MiB, past what one add can send
      // as hex text (a V8 string's length).
      const big = Buffer.alloc(64 * 2 ** 20, 7);
      await client.query("BEGIN");
      const error = await expectCode(() => q.addBatch([big, big, big, big], { client }), "PAYLOAD_TOO_LARGE");
      assert.match(error.message, /total 268435456 bytes/);
      assert.match(error.message, /smaller batches/);
      await client.query("ROLLBACK");
      assert.equal((await q.size()).total, 0);
    },
  );

  test("rolled back with the transaction: neither the job nor the application's row exists", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("emails");
    const client = await appClient(t, f.schema);
    await client.query("BEGIN");
    await client.query(`INSERT INTO "${f.schema}".orders (what) VALUES ('book')`);
    const id = await q.add({ to: "ada" }, { client });
    assert.ok(id > 0);
    // Inside the transaction, the job is there for that connection only.
    assert.equal((await spool.queue("emails").size()).pending, 0, "no one else sees it before the commit");
    await client.query("ROLLBACK");
    assert.equal((await q.size()).pending, 0);
    assert.equal(await q.get(id), null);
    assert.equal((await sql(`SELECT count(*)::int AS n FROM "${f.schema}".orders`))[0]?.n, 0);
  });

  test("committed with the transaction; a waiting worker wakes only after the commit", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<{ order: number }>("emails");
    const started: number[] = [];
    // A minute's poll interval: only the commit's NOTIFY can wake this worker in time.
    const worker = q.process(
      async (job) => {
        started.push(Date.now());
        return job.payload.order;
      },
      { pollInterval: 60_000 },
    );
    t.after(() => worker.stop());
    await new Promise<void>((r) => worker.once("drained", () => r()));
    const client = await appClient(t, f.schema);
    await client.query("BEGIN");
    const order = (await client.query(`INSERT INTO "${f.schema}".orders (what) VALUES ('pen') RETURNING id`))
      .rows[0].id as number;
    const ids = await q.addBatch([{ order }], { client });
    const id = ids[0] ?? 0;
    // A round trip on the client while the transaction is open: had anything woken the worker,
    // it would have looked and found nothing (the job is not committed), never run it.
    await client.query("SELECT 1");
    assert.equal(started.length, 0, "nothing ran before the commit");
    const committedAt = Date.now();
    await client.query("COMMIT");
    await waitFor("the worker to run the committed job", () => started.length === 1);
    assert.ok((started[0] as number) >= committedAt, "the handler started after the commit");
    await waitFor("the job to complete", async () => (await q.get(id))?.state === "completed");
  });

  test("a key held by a live job resolves to it, inside the transaction too", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("k");
    const live = await q.add("first", { key: "order-1" });
    const client = await appClient(t, f.schema);
    await client.query("BEGIN");
    const [again, fresh, repeat] = await q.addBatch(["second", "third", "fourth"], { client });
    assert.ok(again !== undefined && fresh !== undefined && repeat !== undefined);
    const same = await q.add("dup", { client, key: "order-1" });
    assert.equal(same, live);
    const other = await q.add("new", { client, key: "order-2" });
    const otherAgain = await q.add("new again", { client, key: "order-2" });
    assert.equal(otherAgain, other, "a key added earlier in the same transaction holds");
    await client.query("COMMIT");
    assert.equal((await q.size()).pending, 5);
  });

  test("an error on the client reaches the caller as a SpoolError and writes nothing", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("broken");
    const client = await appClient(t, f.schema);
    await client.query("BEGIN");
    await client.query("SELECT 1/0").catch(() => {}); // the transaction is now aborted
    const err = await expectCode(() => q.add("x", { client }), "STORAGE");
    assert.ok(err.cause !== undefined);
    await client.query("ROLLBACK");
    assert.equal((await q.size()).pending, 0);
  });

  test("a delay and a ttl count from the add, not from when the caller's transaction began", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("late");
    const client = await appClient(t, f.schema);
    await client.query("BEGIN");
    await client.query("SELECT pg_sleep(1.5)");
    const calledAt = Date.now();
    const delayed = await q.add("d", { client, delay: 5000 });
    const expiring = await q.add("e", { client, ttl: 1000 });
    await client.query("COMMIT");
    const job = await q.get(delayed);
    assert.ok(job !== null);
    assert.ok(
      job.runAt.getTime() >= calledAt + 4900,
      `runAt is ${job.runAt.getTime() - calledAt} ms after the add`,
    );
    const reserved = await q.reserve();
    assert.equal(reserved?.id, expiring, "the ttl job is still alive at its commit");
  });

  test("a client whose driver gives booleans as text ('t'/'f') still resolves keys right", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("textbool");
    const live = await q.add("first", { key: "k" });
    const client = await appClient(t, f.schema);
    const texty: SqlClient = {
      query: async (text, values) => {
        const result = await client.query(text, values);
        return {
          rows: result.rows.map((row) =>
            Object.fromEntries(
              Object.entries(row).map(([k, v]) => [k, typeof v === "boolean" ? (v ? "t" : "f") : v]),
            ),
          ),
        };
      },
    };
    await client.query("BEGIN");
    assert.equal(await q.add("dup", { client: texty, key: "k" }), live);
    await client.query("COMMIT");
    assert.equal((await q.size()).pending, 1);
  });

  test("an error on the caller's client is not labelled with Spool's own URL", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("label");
    const failing: SqlClient = {
      query: async () => {
        throw Object.assign(new Error("permission denied for table jobs"), { code: "42501" });
      },
    };
    const err = await expectCode(() => q.add("x", { client: failing }), "STORAGE", "caller's connection");
    assert.equal(err.message.includes("127.0.0.1"), false, err.message);
  });

  test("a pg Pool is refused: it would run the add outside the caller's transaction", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    t.after(() => pool.end());
    await expectCode(
      () => spool.queue("pool").add("x", { client: pool }),
      "INVALID_ARGUMENT",
      "pool.connect()",
    );
  });

  test("a client that is not one is INVALID_ARGUMENT before anything is sent", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue("bad");
    for (const client of [null, 42, "pg", {}, { query: "SELECT" }]) {
      await expectCode(() => q.add("x", { client: client as never }), "INVALID_ARGUMENT", "client");
      await expectCode(() => q.addBatch([], { client: client as never }), "INVALID_ARGUMENT", "client");
    }
    const liar: SqlClient = { query: async () => ({ rows: "nope" as never }) };
    await expectCode(() => q.add("x", { client: liar }), "INVALID_ARGUMENT", "rows");
    assert.equal((await q.size()).pending, 0);
  });

  test("through Kysely: the add joins the ORM's transaction", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<{ order: number }>("kysely");
    await sql(`CREATE TABLE "${f.schema}".orders (id serial PRIMARY KEY, what text)`);
    const db = new Kysely<{ orders: { id: Generated<number>; what: string } }>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, max: 2 }) }),
    }).withSchema(f.schema);
    t.after(() => db.destroy());
    // The adapter a Kysely user writes once: the transaction's connection as a SqlClient.
    const clientOf = (trx: { executeQuery: Kysely<unknown>["executeQuery"] }): SqlClient => ({
      query: (text, values) => trx.executeQuery(CompiledQuery.raw(text, values ?? [])),
    });
    await db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto("orders")
        .values({ what: "lamp" })
        .returning("id")
        .executeTakeFirstOrThrow();
      await q.add({ order: id }, { client: clientOf(trx) });
    });
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        const { id } = await trx
          .insertInto("orders")
          .values({ what: "desk" })
          .returning("id")
          .executeTakeFirstOrThrow();
        await q.add({ order: id }, { client: clientOf(trx) });
        throw new Error("the application changes its mind");
      }),
      /changes its mind/,
    );
    const jobs = await q.list({ state: "pending" });
    assert.deepEqual(
      jobs.map((j) => j.payload),
      [{ order: 1 }],
      "only the committed transaction's job exists",
    );
  });
});

describe("the client option on SQLite", () => {
  test("is INVALID_ARGUMENT pointing to addSync", async () => {
    const { Spool } = await import("../../src/index.js");
    const spool = await Spool.open(":memory:");
    try {
      await expectCode(
        () => spool.queue("q").add("x", { client: { query: async () => ({ rows: [] }) } }),
        "INVALID_ARGUMENT",
        "addSync",
      );
    } finally {
      await spool.close();
    }
  });
});

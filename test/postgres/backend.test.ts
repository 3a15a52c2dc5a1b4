/*
 * The PostgreSQL backend's transitions, called directly through the seam (no core). Each test
 * gets its own random schema. Skipped, with one notice, when SPOOL_PG_URL is unset.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PayloadFormat } from "../../src/backend.js";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";
import { LATEST_VERSION } from "../../src/backends/postgres/migrations.js";
import { SpoolError } from "../../src/errors.js";
import { at, baseOptions, fixture, job, PG_URL, pgConfigured, sql, text, until } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/backend.test.ts");
const T = { timeout: 30_000 };

const code = (c: string) => (e: unknown) => e instanceof SpoolError && e.code === c;

describe("postgres backend: schema", { skip: !run }, () => {
  test("open creates the schema at the latest version; reopening keeps the jobs", T, async (t) => {
    const f = fixture(t);
    const a = await f.open();
    const [id] = (await a.enqueue("q", [job(1)])) ?? [];
    await a.close();
    const rows = await sql<{ v: number }>(`SELECT max(version) AS v FROM "${f.schema}".schema_version`);
    assert.equal(rows[0]?.v, LATEST_VERSION);
    const b = await f.open();
    assert.equal((await b.get("q", id as number))?.id, id);
  });

  test("many processes opening a new schema at once all succeed", T, async (t) => {
    const f = fixture(t);
    const opened = await Promise.all(Array.from({ length: 8 }, () => f.open({ crossProcessWakeups: false })));
    assert.equal(opened.length, 8);
    const rows = await sql(`SELECT version FROM "${f.schema}".schema_version`);
    assert.equal(rows.length, LATEST_VERSION);
  });

  test("a schema written by a newer version is refused with STORAGE", T, async (t) => {
    const f = fixture(t);
    await (await f.open()).close();
    await sql(`INSERT INTO "${f.schema}".schema_version (version, name) VALUES ($1, 'future')`, [
      LATEST_VERSION + 1,
    ]);
    await assert.rejects(f.open(), (e: unknown) => code("STORAGE")(e) && /newer/.test((e as Error).message));
  });

  test("a schema name that is not an identifier is refused before any SQL", T, async () => {
    for (const schema of ['x"; DROP TABLE y; --', "", "1abc", "a-b", "a".repeat(64)]) {
      await assert.rejects(
        openPostgresBackend(PG_URL as string, baseOptions(schema)),
        code("INVALID_ARGUMENT"),
      );
    }
  });
});

describe("postgres backend: transitions", { skip: !run }, () => {
  test("claim serves priority desc, then run time, then id, and reports delayed jobs", T, async (t) => {
    const b = await fixture(t).open();
    const ids = (await b.enqueue("q", [
      job("a"),
      job("b", { priority: 5 }),
      job("c"),
      job("later", { delayMs: 60_000 }),
      job("past", { runAt: Date.now() - 60_000 }),
    ])) as number[];
    assert.equal(ids.length, 5);
    assert.deepEqual(await b.counts("q"), {
      pending: 4,
      delayed: 1,
      reserved: 0,
      completed: 0,
      dead: 0,
      total: 5,
    });
    assert.deepEqual(
      (await b.list("q", "delayed", 10, 0)).map((j) => text(j.payload)),
      ["later"],
    );
    assert.equal((await b.get("q", ids[3] as number))?.state, "delayed");
    assert.deepEqual(
      (await b.list("q", "pending", 10, 0)).map((j) => j.id),
      [ids[0], ids[1], ids[2], ids[4]],
    );
    const claimed = await b.claim("q", 10, 30_000);
    assert.deepEqual(
      claimed.map((j) => text(j.payload)),
      ["b", "past", "a", "c"],
    );
    for (const j of claimed) {
      assert.equal(j.state, "reserved");
      assert.equal(j.attempts, 1);
      assert.ok(j.leaseUntil !== null && j.leaseUntil > Date.now() + 25_000);
    }
    assert.deepEqual(await b.claim("q", 10, 30_000), []);
    const due = await b.nextDueIn("q");
    assert.ok(due !== null && due > 50_000 && due <= 60_000, `nextDueIn ${due}`);
  });

  test("complete keeps the result or deletes the job, and tells lease_lost from not_found", T, async (t) => {
    const b = await fixture(t).open();
    await b.enqueue("q", [job(1), job(2)]);
    const [one, two] = await b.claim("q", 2, 30_000);
    assert.ok(one && two);
    const result = { bytes: Buffer.from([0, 1, 2, 255]), format: PayloadFormat.Bytes };
    assert.equal(await b.complete("q", one.id, at(2), result, true), "lease_lost");
    assert.equal(await b.complete("q", one.id, at(1), result, true), "ok");
    assert.equal(await b.complete("q", one.id, at(1), result, true), "lease_lost");
    const done = await b.get("q", one.id);
    assert.equal(done?.state, "completed");
    assert.deepEqual(Buffer.from(done?.result ?? []), Buffer.from([0, 1, 2, 255]));
    assert.equal(done?.resultFormat, PayloadFormat.Bytes);
    assert.ok(done?.finishedAt !== null && done?.leaseUntil === null);
    assert.equal(await b.complete("q", two.id, at(null), null, false), "ok");
    assert.equal(await b.get("q", two.id), null);
    assert.equal(await b.complete("q", two.id, at(null), null, true), "not_found");
    assert.equal(await b.complete("other", one.id, at(null), null, true), "not_found");
  });

  test("fail retries later with the error kept, or makes the job dead", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    await b.enqueue("q", [job(1)]);
    const [first] = await b.claim("q", 1, 30_000);
    assert.equal(await b.fail("q", first?.id as number, at(1), "boom", 60_000), "ok");
    const waiting = await b.get("q", first?.id as number);
    assert.equal(waiting?.state, "delayed");
    assert.equal(waiting?.lastError, "boom");
    assert.equal(waiting?.leaseUntil, null);
    assert.equal(await b.fail("q", first?.id as number, at(1), "again", null), "lease_lost");
    await sql(`UPDATE "${f.schema}".jobs SET run_at = now()`);
    const [second] = await b.claim("q", 1, 30_000);
    assert.equal(second?.attempts, 2);
    assert.equal(await b.fail("q", second?.id as number, at(2), "final", null), "ok");
    const dead = await b.get("q", second?.id as number);
    assert.equal(dead?.state, "dead");
    assert.equal(dead?.lastError, "final");
    assert.ok(dead?.finishedAt !== null);
    assert.equal(await b.fail("q", 999_999, at(null), "x", null), "not_found");
  });

  test("an expired lease returns the job to pending, or dead once attempts are spent", T, async (t) => {
    const b = await fixture(t).open();
    const [id] = (await b.enqueue("q", [job(1, { maxAttempts: 2 })])) as number[];
    await b.claim("q", 1, 1);
    const again = await until("the lapsed job to be claimable", async () => (await b.claim("q", 1, 1))[0]);
    assert.equal(again.id, id);
    assert.equal(again.attempts, 2);
    assert.equal(await b.extend("q", id as number, at(1), 30_000), "lease_lost");
    const dead = await until("the job to die", async () => {
      await b.claim("q", 1, 30_000);
      const j = await b.get("q", id as number);
      return j?.state === "dead" ? j : undefined;
    });
    assert.equal(dead.lastError, "lease expired");
    assert.equal(await b.complete("q", id as number, at(2), null, true), "lease_lost");
  });

  test(
    "a job not started within its ttl dies with expired; a claimed one no longer expires",
    T,
    async (t) => {
      const b = await fixture(t).open();
      const [stale, fresh] = (await b.enqueue("q", [
        job("stale", { ttlMs: 1, priority: -1 }),
        job("fresh", { ttlMs: 200, priority: 1 }),
      ])) as number[];
      const [claimed] = await b.claim("q", 1, 30_000);
      assert.equal(claimed?.id, fresh);
      assert.equal(await b.fail("q", fresh as number, at(1), "retry", 300), "ok");
      const back = await until(
        "the failed job to be due again",
        async () => (await b.claim("q", 1, 30_000))[0],
      );
      assert.equal(back.id, fresh);
      const j = await b.get("q", stale as number);
      assert.equal(j?.state, "dead");
      assert.equal(j?.lastError, "expired");
    },
  );

  test("extend and extendMany move leases; lost ids are reported", T, async (t) => {
    const b = await fixture(t).open();
    await b.enqueue("q", [job(1), job(2)]);
    const [x, y] = await b.claim("q", 2, 1000);
    assert.ok(x && y);
    assert.equal(await b.extend("q", x.id, at(1), 60_000), "ok");
    assert.ok(((await b.get("q", x.id))?.leaseUntil ?? 0) > Date.now() + 50_000);
    assert.equal(await b.extend("q", 424242, at(null), 1000), "not_found");
    const lost = await b.extendMany(
      "q",
      [
        { id: x.id, token: 1 },
        { id: y.id, token: 7 },
      ],
      60_000,
    );
    assert.deepEqual(lost, [y.id]);
  });

  test("release returns held jobs without counting the attempt, only at that attempt", T, async (t) => {
    const b = await fixture(t).open();
    await b.enqueue("q", [job(1), job(2)]);
    const [x, y] = await b.claim("q", 2, 30_000);
    assert.ok(x && y);
    await b.release(
      "q",
      [
        { id: x.id, token: 1 },
        { id: y.id, token: 5 },
      ],
      true,
    );
    const rx = await b.get("q", x.id);
    assert.equal(rx?.state, "pending");
    assert.equal(rx?.attempts, 0);
    assert.equal(rx?.leaseUntil, null);
    assert.equal((await b.get("q", y.id))?.state, "reserved");
  });

  test("a dedupe key returns the live job's id; a batch repeating a key returns the first", T, async (t) => {
    const b = await fixture(t).open();
    const [a] = (await b.enqueue("q", [job(1, { key: "k" })])) as number[];
    assert.deepEqual(await b.enqueue("q", [job(2, { key: "k" })]), [a]);
    const batch = (await b.enqueue("q", [
      job(3, { key: "n" }),
      job(4),
      job(5, { key: "n" }),
      job(6, { key: "k" }),
    ])) as number[];
    assert.equal(batch[2], batch[0]);
    assert.equal(batch[3], a);
    assert.notEqual(batch[1], batch[0]);
    assert.equal((await b.counts("q")).pending, 3);
    assert.notEqual((await b.enqueue("other", [job(7, { key: "k" })]))?.[0], a);
    const [held] = await b.claim("q", 1, 30_000);
    assert.equal(held?.id, a);
    assert.deepEqual(await b.enqueue("q", [job(8, { key: "k" })]), [a]);
    await b.complete("q", a as number, at(null), null, true);
    const [next] = (await b.enqueue("q", [job(9, { key: "k" })])) as number[];
    assert.notEqual(next, a);
  });

  test("maxSize admits a batch only if it fits, even under concurrent senders", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    assert.equal(await b.enqueue("ch", [job(1), job(2), job(3)], 2), null);
    assert.equal((await b.counts("ch")).total, 0);
    const c = await f.open();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? b : c).enqueue("ch", [job(i)], 5)),
    );
    assert.equal(results.filter((r) => r !== null).length, 5);
    assert.equal(await b.backlog("ch"), 5);
  });

  test("take removes ready jobs in order and returns them decoded", T, async (t) => {
    const b = await fixture(t).open();
    await b.enqueue("ch", [job("a"), job("b", { priority: 1 }), job("c"), job("d", { delayMs: 60_000 })]);
    const taken = await b.take("ch", 10, (j) => ({ item: text(j.payload) }));
    assert.deepEqual(taken, { items: ["b", "a", "c"], failed: null });
    assert.equal(await b.backlog("ch"), 1);
  });

  test("a take meeting an undecodable job buries it and leaves the others in place", T, async (t) => {
    const b = await fixture(t).open();
    const ids = (await b.enqueue("ch", [job("a"), job("bad"), job("c")])) as number[];
    const taken = await b.take("ch", 10, (j) =>
      text(j.payload) === "bad" ? { error: "cannot decode", cause: "x" } : { item: text(j.payload) },
    );
    assert.deepEqual(taken.items, []);
    assert.equal(taken.failed?.job.id, ids[1]);
    const dead = await b.get("ch", ids[1] as number);
    assert.equal(dead?.state, "dead");
    assert.equal(dead?.lastError, "cannot decode");
    const again = await b.take("ch", 3, (j) => ({ item: j.id }));
    assert.deepEqual(again.items, [ids[0], ids[2]]);
  });

  test("retry, remove, purge and clear", T, async (t) => {
    const b = await fixture(t).open();
    const ids = (await b.enqueue("q", [
      job(1, { maxAttempts: 1 }),
      job(2, { maxAttempts: 1 }),
      job(3),
    ])) as number[];
    for (const j of await b.claim("q", 2, 30_000)) await b.fail("q", j.id, at(null), "bad", null);
    assert.equal((await b.counts("q")).dead, 2);
    assert.equal(await b.retry("q", [ids[0] as number]), 1);
    const retried = await b.get("q", ids[0] as number);
    assert.equal(retried?.state, "pending");
    assert.equal(retried?.attempts, 0);
    assert.equal(retried?.finishedAt, null);
    assert.equal(await b.retry("q", null), 1);
    assert.equal(await b.retry("q", null), 0);
    for (const j of await b.claim("q", 3, 30_000)) await b.complete("q", j.id, at(null), null, true);
    await b.enqueue("other", [job(0)]);
    assert.deepEqual(await b.queues(), ["other", "q"]);
    assert.equal(await b.purge("q", "completed", 60_000), 0);
    assert.equal(await b.purge("q", "completed", null), 3);
    assert.deepEqual(await b.queues(), ["other"]);
    const [keep, drop] = (await b.enqueue("q", [job("dead", { maxAttempts: 1 }), job("x")])) as number[];
    await b.claim("q", 1, 30_000);
    await b.fail("q", keep as number, at(null), "bad", null);
    assert.equal(await b.remove("q", drop as number), true);
    assert.equal(await b.remove("q", drop as number), false);
    await b.enqueue("q", [job("y")]);
    assert.equal(await b.clear("q", true), 1);
    assert.equal((await b.counts("q")).dead, 1);
    assert.equal(await b.clear("q", false), 1);
    assert.deepEqual(await b.queues(), ["other"]);
  });

  test("two backends claiming at once never share a job", T, async (t) => {
    const f = fixture(t);
    const [a, b] = [await f.open(), await f.open()];
    await a.enqueue(
      "q",
      Array.from({ length: 200 }, (_, i) => job(i)),
    );
    const seen: number[] = [];
    await Promise.all(
      [a, b, a, b].map(async (backend) => {
        for (;;) {
          const got = await backend.claim("q", 7, 30_000);
          if (got.length === 0) return;
          seen.push(...got.map((j) => j.id));
        }
      }),
    );
    assert.equal(seen.length, 200);
    assert.equal(new Set(seen).size, 200);
  });

  test("payload bytes, times and ages come back as stored", T, async (t) => {
    const b = await fixture(t).open();
    const bytes = Buffer.alloc(100_000, 7);
    const at = Date.now() - 5000;
    const [id] = (await b.enqueue("q", [
      { ...job(0), payload: new Uint8Array(bytes), format: PayloadFormat.Bytes, runAt: at },
    ])) as number[];
    const j = await b.get("q", id as number);
    assert.deepEqual(Buffer.from(j?.payload ?? []), bytes);
    assert.equal(j?.runAt, at);
    assert.ok(Math.abs((j?.createdAt ?? 0) - Date.now()) < 5000);
    const age = await b.oldestPendingAge("q");
    assert.ok(age !== null && age >= 5000 && age < 15_000, `age ${age}`);
    assert.equal(await b.nextDueIn("q"), 0);
  });
});

describe("postgres backend: signals and errors", { skip: !run }, () => {
  test("another backend's enqueue is signalled with the queue name, not our own", T, async (t) => {
    const f = fixture(t);
    const [a, b] = [await f.open(), await f.open()];
    const heard: Array<string | null> = [];
    a.notifier.subscribe((q) => heard.push(q));
    await a.enqueue("mine", [job(1)]);
    await b.enqueue("jobs:1", [job(1)]);
    await until("the signal", async () => (heard.includes("jobs:1") ? true : undefined));
    assert.ok(!heard.includes("mine"), "a backend is not signalled of its own changes");
  });

  test("after close every call rejects with CLOSED; close is idempotent", T, async (t) => {
    const b = await fixture(t).open();
    await b.close();
    await b.close();
    await assert.rejects(b.enqueue("q", [job(1)]), code("CLOSED"));
    await assert.rejects(b.claim("q", 1, 1000), code("CLOSED"));
    await assert.rejects(b.counts("q"), code("CLOSED"));
  });

  test("an unreachable server is STORAGE and the message never shows the password", T, async () => {
    const url = "postgres://postgres:hunter2secret@127.0.0.1:1/test";
    await assert.rejects(openPostgresBackend(url, baseOptions("spool")), (e: unknown) => {
      assert.ok(code("STORAGE")(e));
      assert.doesNotMatch((e as Error).message, /hunter2secret/);
      assert.match((e as Error).message, /127\.0\.0\.1:1/);
      return true;
    });
  });

  test("a lock held past busyTimeout is BUSY", T, async (t) => {
    const f = fixture(t);
    const b = await f.open({ busyTimeout: 200 });
    const pg = (await import("pg")).default;
    const locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
    t.after(() => locker.end());
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE "${f.schema}".jobs IN ACCESS EXCLUSIVE MODE`);
    const started = Date.now();
    await assert.rejects(b.enqueue("q", [job(1)]), code("BUSY"));
    assert.ok(Date.now() - started < 3000);
    await locker.query("ROLLBACK");
    assert.equal((await b.enqueue("q", [job(1)]))?.length, 1);
  });
});

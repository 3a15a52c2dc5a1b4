/*
 * Spool's PostgreSQL connections: settings that survive the URL's own options, a busy timeout
 * of any size, a settable pool size, TCP keepalive, one row-locking order for every batch
 * statement, and a NOTIFY when the upkeep hands a lapsed job back.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import pg from "pg";
import type { Backend } from "../../src/backend.js";
import type { Connections } from "../../src/backends/postgres/pool.js";
import { Spool, SpoolError } from "../../src/index.js";
import { waitFor } from "../conformance/harness.js";
import { fixture, job, PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/connections.test.ts");
const T = { timeout: 60_000 };

/** The backend's pool (a private field): its settings are what this file checks. */
const poolOf = (backend: Backend) => (backend as unknown as { db: Connections }).db.pool;

/** The server's view of one client's connections, by application_name. */
async function connectionsOf(
  applicationName: string,
): Promise<{ pid: number; port: number; waiting: boolean }[]> {
  const rows = await sql(
    `SELECT pid, client_port, wait_event_type = 'Lock' AS waiting FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = $1`,
    [applicationName],
  );
  return rows.map((r) => ({ pid: Number(r.pid), port: Number(r.client_port), waiting: r.waiting === true }));
}

/**
 * Whether the client socket from local `port` to the server has a keepalive timer armed, as
 * Linux reports it in /proc/net/tcp{,6} (the "tr" field: 2 is the keepalive timer; an idle
 * socket without SO_KEEPALIVE shows 0). null where that file does not exist.
 */
function keepaliveArmed(port: number): boolean | null {
  const files = ["/proc/net/tcp", "/proc/net/tcp6"].filter((f) => existsSync(f));
  if (files.length === 0) return null;
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of files) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 6 || !cols[1]?.endsWith(`:${hex}`)) continue;
      return cols[5]?.split(":")[0] === "02";
    }
  }
  throw new Error(`no socket on local port ${port}`);
}

describe("postgres: connections", { skip: !run }, () => {
  test("a URL's own options are kept and Spool's settings added to them", T, async (t) => {
    const f = spoolFixture(t);
    const url = new URL(PG_URL as string);
    url.searchParams.set("options", "-c statement_timeout=54321 -c work_mem=7MB");
    const spool = await f.open({ busyTimeout: 1234, durability: "off" }, url.toString());
    const client = await poolOf(spool.ctx.backend).connect();
    try {
      const show = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0]?.[name] as string;
      assert.equal(await show("statement_timeout"), "54321ms", "the URL's option is kept");
      assert.equal(await show("work_mem"), "7MB", "the URL's option is kept");
      assert.equal(await show("lock_timeout"), "1234ms", "busyTimeout still bounds lock waits");
      assert.equal(await show("synchronous_commit"), "off", 'durability "off" still applies');
    } finally {
      client.release();
    }
    // Spool's other work goes on as usual on these connections.
    const q = spool.queue("q");
    await q.add(1);
    assert.equal((await q.size()).pending, 1);
  });

  test("a busyTimeout of 2^31 ms or more waits, rather than failing at once", T, async (t) => {
    for (const busyTimeout of [2 ** 31, 2 ** 40]) {
      const spool = await spoolFixture(t).open({ busyTimeout, poolSize: 1 });
      const q = spool.queue<number>("q");
      // Ten calls on one connection: nine wait for it, bounded by the (huge) busy timeout.
      await Promise.all(Array.from({ length: 10 }, (_, i) => q.add(i)));
      assert.equal((await q.size()).pending, 10);
      const client = await poolOf(spool.ctx.backend).connect();
      try {
        const row = (await client.query("SHOW lock_timeout")).rows[0] as { lock_timeout: string };
        assert.equal(row.lock_timeout, "2147483647ms", "clamped to PostgreSQL's largest");
      } finally {
        client.release();
      }
    }
  });

  test("poolSize bounds the connections of a Spool and is validated", T, async (t) => {
    const f = spoolFixture(t);
    for (const poolSize of [0, -1, 1.5, "2", Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(
        Spool.open(PG_URL as string, { schema: f.schema, poolSize } as never),
        (e: unknown) =>
          e instanceof SpoolError && e.code === "INVALID_ARGUMENT" && e.message.includes(String(poolSize)),
        `poolSize ${String(poolSize)}`,
      );
    }
    for (const poolSize of [1, 3]) {
      const spool = await f.open({ poolSize });
      const q = spool.queue<number>(`q${poolSize}`);
      await Promise.all(Array.from({ length: 40 }, (_, i) => q.add(i, { key: `k${i}` })));
      const open = await connectionsOf(`spool ${f.schema}`);
      assert.ok(open.length <= poolSize, `${open.length} connections with poolSize ${poolSize}`);
      // A worker busier than its pool queues for connections, never deadlocks.
      const worker = q.process(async () => {}, { concurrency: 8, pollInterval: 50 });
      await waitFor("every job completed", async () => (await q.size()).completed === 40, 30_000);
      await worker.stop();
      await spool.close();
    }
  });

  test("the LISTEN connection and the pool's connections use TCP keepalive", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    await spool.queue("q").add(1); // a pool connection, left idle in the pool
    const listener = await connectionsOf(`spool-listener ${f.schema}`);
    const pooled = await connectionsOf(`spool ${f.schema}`);
    assert.equal(listener.length, 1);
    assert.ok(pooled.length >= 1);
    for (const c of [...listener, ...pooled]) {
      const armed = keepaliveArmed(c.port);
      if (armed === null) return t.skip("no /proc/net/tcp here");
      assert.equal(armed, true, `keepalive on the socket from port ${c.port}`);
    }
  });

  test("a lapsed lease handed back to pending by the upkeep sends a NOTIFY", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    const [id] = (await b.enqueue("q", [job("lapsing")])) as number[];
    assert.equal((await b.claim("q", 1, 60_000)).length, 1);
    const heard: string[] = [];
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    t.after(() => client.end());
    client.on("notification", (m) => heard.push(m.payload ?? ""));
    await client.query(`LISTEN "${f.schema}:wake"`);
    await sql(`UPDATE "${f.schema}".jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
    // A claim's upkeep hands it back (and this claim takes it again): others must hear of it.
    const again = await b.claim("q", 1, 60_000);
    assert.equal(again[0]?.id, id);
    await waitFor("a notification for q", () => heard.includes("q"));
  });

  test("heartbeats, releases and completions lock rows in one order: by id", T, async (t) => {
    const f = fixture(t);
    const b = await f.open({ busyTimeout: 30_000 });
    // Enough rows that the planner looks each one up by key, in the order it is given them.
    await b.enqueue(
      "q",
      Array.from({ length: 2000 }, (_, i) => job(i)),
    );
    await sql(`ANALYZE "${f.schema}".jobs`);
    const held = (await b.claim("q", 2, 60_000)).sort((x, y) => x.id - y.id);
    const [low, high] = held as [(typeof held)[0], (typeof held)[0]];
    // Leases renewed at different times: the planner may visit the rows in lease order, which
    // is not id order (here the higher id's lease ends first).
    await sql(`UPDATE "${f.schema}".jobs SET lease_until = now() + interval '2 hours' WHERE id = $1`, [
      low.id,
    ]);
    const tokens = [high, low].map((j) => ({ id: j.id, token: j.claims })); // highest id first
    // extendMany never waits for a row lock: the row another transaction holds is skipped, not
    // lost, and renewed in the background once let go (its own test, below).
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["release", () => b.release("q", tokens, true)],
      // Completions are grouped into one statement (both issued in the same turn).
      [
        "complete",
        () =>
          Promise.all(
            [high, low].map((j) =>
              b.complete("q", j.id, { attempt: j.attempts, token: j.claims }, null, true),
            ),
          ).catch(() => {}),
      ],
    ];
    for (const [name, call] of calls) {
      const blocker = new pg.Client({ connectionString: PG_URL });
      await blocker.connect();
      try {
        await blocker.query("BEGIN");
        await blocker.query(`SELECT id FROM "${f.schema}".jobs WHERE id = $1 FOR UPDATE`, [high.id]);
        const pending = call();
        await waitFor(`${name} to wait for the higher id's row`, async () =>
          (await connectionsOf(`spool ${f.schema}`)).some((c) => c.waiting),
        );
        // Waiting for the higher id, it must already hold the lower one.
        const probe = await sql(
          `SELECT count(*)::int AS free FROM (SELECT id FROM "${f.schema}".jobs
             WHERE id = $1 FOR UPDATE SKIP LOCKED) AS free`,
          [low.id],
        );
        await blocker.query("ROLLBACK");
        await pending;
        assert.equal(probe[0]?.free, 0, `${name} locked the lower id first`);
      } finally {
        await blocker.end();
      }
    }
  });

  test("a heartbeat skips a row another transaction holds and renews it once it is let go", T, async (t) => {
    const f = fixture(t);
    const b = await f.open({ busyTimeout: 30_000 });
    await b.enqueue("q", [job(1), job(2)]);
    const held = (await b.claim("q", 2, 60_000)).sort((x, y) => x.id - y.id);
    const [low, high] = held as [(typeof held)[0], (typeof held)[0]];
    const tokens = [high, low].map((j) => ({ id: j.id, token: j.claims }));
    const leaseLeft = async (id: number) =>
      (
        await sql(
          `SELECT extract(epoch FROM lease_until - clock_timestamp())::float8 AS s FROM "${f.schema}".jobs WHERE id = $1`,
          [id],
        )
      )[0]?.s as number;
    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    t.after(() => blocker.end());
    await blocker.query("BEGIN");
    await blocker.query(`SELECT id FROM "${f.schema}".jobs WHERE id = $1 FOR UPDATE`, [high.id]);
    try {
      // Answers while the lock is held: nothing lost, the free row extended to an hour.
      assert.deepEqual(await b.extendMany("q", tokens, 3_600_000), { lost: [], skipped: [high.id] });
      assert.ok((await leaseLeft(low.id)) > 1800, "the free row's lease was extended");
      assert.ok((await leaseLeft(high.id)) < 120, "the held row's lease waits for its lock");
      await waitFor("the held row's renewal to wait for its lock", async () =>
        (await connectionsOf(`spool ${f.schema}`)).some((c) => c.waiting),
      );
    } finally {
      await blocker.query("ROLLBACK");
    }
    await waitFor("the held row's lease renewed once let go", async () => (await leaseLeft(high.id)) > 1800);
  });
});

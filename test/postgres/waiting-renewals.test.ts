/*
 * A heartbeat's renewal of a running job whose row an application's transaction holds (here by
 * adding a child of the job: `dependsOn` locks the row until COMMIT). Each case was proved by a
 * hostile review and failed first:
 * - a row let go was kept locked, unrenewed, by a renewal waiting for another held row, and its
 *   lease ran out before that renewal committed: the job ran twice;
 * - a lease that ran out while the row was held, past busyTimeout, was never renewed again: the
 *   job ran twice once the application committed;
 * - waiting renewals took every connection of the pool, and an untouched job lost its lease;
 * - the handler's job.leaseUntil moved on each heartbeat while the row was held and not renewed;
 * - a holder that rolled back (or only locked the row) left a lease counted from before the wait:
 *   an UPDATE computes its new row before it waits for the lock;
 * - heartbeats answering while another was out never sent a waiting renewal at all;
 * - with a pool of one, the waiting renewal took the only connection from the heartbeat;
 * - close() right after a heartbeat waited as long as the row was held, and each close left
 *   server sessions waiting on the lock;
 * - a row held for ever took its lane for ever, and a row behind it lost its lease;
 * - close() with every connection of the pool busy could not send its cancel, and left the
 *   renewal waiting on the server;
 * - a session statement_timeout or a repeatable-read default ended the waiting renewal;
 * - close() could not cancel a session acting as another role (`-c role=…`);
 * - a lane timed from when it was queued gave up a lease still live;
 * - close() waited 5 s three times for a server that took no cancel;
 * - a lease past 2^31 - 1 ms made the lanes' timer fire every millisecond.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { describe, type TestContext, test } from "node:test";
import pg from "pg";
import type { BackendOptions, HeldRef } from "../../src/backend.js";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";
import type { Job, Queue, Spool, SpoolOptions } from "../../src/index.js";
import { clockPast, waitFor } from "../conformance/harness.js";
import { baseOptions, fixture, job, PG_URL, pgConfigured, sql } from "./pg-helpers.js";
import { type SpoolFixture, spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/waiting-renewals.test.ts");
const T = { timeout: 60_000 };

type Payload = { n: string };

/**
 * What a test opened that must end before its Spool closes (a Spool's close waits for running
 * handlers, and dropping the schema for the applications' locks): ended by `scene`.
 */
type Cleanups = Array<() => Promise<unknown>>;

async function scene(body: (cleanups: Cleanups) => Promise<void>): Promise<void> {
  const cleanups: Cleanups = [];
  try {
    await body(cleanups);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

/** A Spool on a fresh schema with queues `r` (the jobs) and `q` (the applications' children). */
async function spoolScene(
  t: TestContext,
  ...args:
    | [body: (s: SpoolScene) => Promise<void>]
    | [options: SpoolOptions, body: (s: SpoolScene) => Promise<void>]
): Promise<void> {
  const [options, body] = args.length === 1 ? [{}, args[0]] : args;
  const f = spoolFixture(t);
  await scene(async (cleanups) => {
    const spool = await f.open(options);
    await body({ f, spool, r: spool.queue<Payload>("r"), q: spool.queue<string>("q"), cleanups });
  });
}

interface SpoolScene {
  f: SpoolFixture;
  spool: Spool;
  r: Queue<Payload>;
  q: Queue<string>;
  cleanups: Cleanups;
}

/** A worker on `r` whose handlers run until the scene ends; `jobs` maps a payload name to its job. */
function hold(cleanups: Cleanups, r: Queue<Payload>, lease: number, concurrency: number) {
  const runs: Record<string, number> = {};
  const jobs: Record<string, Job<Payload>> = {};
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = r.process(
    async (job) => {
      runs[job.payload.n] = (runs[job.payload.n] ?? 0) + 1;
      jobs[job.payload.n] = job;
      await finished;
    },
    { concurrency, lease },
  );
  const errors: unknown[] = [];
  worker.on("error", (e) => errors.push(e));
  cleanups.push(() => {
    finish();
    return worker.stop();
  });
  return { runs, jobs, errors };
}

/** Another client's open transaction, after `begin` ran in it; rolled back when the scene ends. */
async function transaction(
  cleanups: Cleanups,
  begin: (client: pg.Client) => Promise<unknown>,
): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  cleanups.push(async () => {
    await client.query("ROLLBACK").catch(() => {});
    await client.end();
  });
  await client.query("BEGIN");
  await begin(client);
  return client;
}

/** An application's transaction holding job `id`'s row (it adds a child of it). */
function appLock(cleanups: Cleanups, q: Queue<string>, id: number): Promise<pg.Client> {
  return transaction(cleanups, (client) => q.add("child", { client, dependsOn: [id] }));
}

/** A transaction holding job `id`'s row by a plain row lock. */
function rowLock(cleanups: Cleanups, schema: string, id: number): Promise<pg.Client> {
  return transaction(cleanups, (client) =>
    client.query(`SELECT id FROM "${schema}".jobs WHERE id = $1 FOR UPDATE`, [id]),
  );
}

async function storedLease(schema: string, id: number): Promise<number> {
  const rows = await sql(
    `SELECT (extract(epoch FROM lease_until) * 1000)::float8 AS at FROM "${schema}".jobs WHERE id = $1`,
    [id],
  );
  return Number(rows[0]?.at ?? 0);
}

async function waitingOnLocks(schema: string): Promise<number> {
  const rows = await sql(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
    [`spool ${schema}`],
  );
  return Number(rows[0]?.n ?? 0);
}

/** What a fresh process finds to take back and run: the rescue runs first on its first claim. */
async function rescuedByAnother(f: SpoolFixture): Promise<number | null> {
  const other: Spool = await f.open();
  const job = await other.queue("r").reserve();
  return job?.id ?? null;
}

/** Resolves after `count` more heartbeats of `spool`'s workers have answered. */
function heartbeats(spool: Spool): (count: number) => Promise<void> {
  const backend = spool.ctx.backend;
  const extendMany = backend.extendMany.bind(backend);
  let answered = 0;
  backend.extendMany = async (...args) => {
    const outcome = await extendMany(...args);
    answered++;
    return outcome;
  };
  return async (count) => {
    const target = answered + count;
    await waitFor(`${count} heartbeat(s)`, () => answered >= target);
  };
}

/** Whether this process may signal process `pid` (a PostgreSQL server on this machine, run as root). */
function canSignal(pid: number): boolean {
  try {
    return Number.isInteger(pid) && pid > 0 && process.kill(pid, 0);
  } catch {
    return false;
  }
}

/**
 * The moment a holder lets a row go: its waiting renewal (sent while the lease was live) must be
 * scheduled again to lock the row, and a statement that comes first finds the row free and its
 * lease run out. That session is stopped here (SIGSTOP) to hold open the window a loaded machine
 * opens by chance (CI saw a heartbeat call such a lease lost). `body` races it; the session is
 * continued after `body`, or by `resume`, which waits for the renewal to end.
 */
async function letGoBeforeTheRenewal(
  t: TestContext,
  body: (s: {
    f: ReturnType<typeof fixture>;
    b: Awaited<ReturnType<ReturnType<typeof fixture>["open"]>>;
    held: { id: number; attempts: number; claims: number };
    ref: HeldRef[];
    resume: () => Promise<void>;
  }) => Promise<void>,
): Promise<void> {
  const f = fixture(t);
  const b = await f.open({ poolSize: 2 });
  await b.enqueue("q", [job(1)]);
  const lease = 1_000;
  const [held] = await b.claim("q", 1, lease);
  assert.ok(held);
  const ref = [{ id: held.id, token: held.claims }];
  await scene(async (cleanups) => {
    const app = await rowLock(cleanups, f.schema, held.id);
    assert.deepEqual(await b.extendMany("q", ref, lease), { lost: [], skipped: [held.id] });
    await waitFor("the renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) === 1);
    const rows = await sql(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [`spool ${f.schema}`],
    );
    const pid = Number(rows[0]?.pid);
    if (!canSignal(pid)) {
      t.skip("the PostgreSQL server's processes cannot be signalled from here");
      return;
    }
    process.kill(pid, "SIGSTOP");
    let stopped = true;
    const resume = async () => {
      if (!stopped) return;
      stopped = false;
      process.kill(pid, "SIGCONT");
      await waitFor("the renewal ended", async () => {
        const left = await sql(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state <> 'idle'",
          [pid],
        );
        return Number(left[0]?.n) === 0;
      });
    };
    cleanups.push(resume);
    await waitFor(
      "the lease run out while held",
      async () => (await storedLease(f.schema, held.id)) < Date.now(),
    );
    await app.query("COMMIT");
    await body({ f, b, held, ref, resume });
  });
  await b.close();
}

/** A backend on a fresh schema holding one claimed job (lease a minute). */
async function heldOnBackend(t: TestContext, options: Partial<BackendOptions>) {
  const f = fixture(t);
  const b = await f.open(options);
  await b.enqueue("q", [job(1)]);
  const [held] = await b.claim("q", 1, 60_000);
  assert.ok(held);
  return { f, b, held };
}

describe("postgres: renewals that wait for an application's row lock", { skip: !run }, () => {
  test("a row let go is renewed while another held row's renewal still waits", T, async (t) => {
    await spoolScene(t, async ({ f, r, q, cleanups }) => {
      const first = await r.add({ n: "first" });
      const second = await r.add({ n: "second" });
      const lease = 1500;
      const { runs, errors } = hold(cleanups, r, lease, 2);
      await waitFor("both running", () => runs.first === 1 && runs.second === 1);
      const short = await appLock(cleanups, q, first);
      await appLock(cleanups, q, second); // held until the test ends
      await waitFor("renewals waiting for the held rows", async () => (await waitingOnLocks(f.schema)) > 0);
      await short.query("COMMIT");
      const letGo = Date.now();
      // The first row must not stay locked behind the second's wait: its lease moves on.
      await waitFor(
        "the row let go renewed by later heartbeats",
        async () => (await storedLease(f.schema, first)) > letGo + lease,
      );
      assert.equal(await rescuedByAnother(f), null);
      assert.deepEqual(runs, { first: 1, second: 1 });
      assert.deepEqual(errors, []);
    });
  });

  test("a lease that ran out while an app held the row past busyTimeout is kept", T, async (t) => {
    await spoolScene(t, { busyTimeout: 300 }, async ({ f, r, q, cleanups }) => {
      const id = await r.add({ n: "held" });
      const lease = 900;
      const { runs, errors } = hold(cleanups, r, lease, 1);
      await waitFor("running", () => runs.held === 1);
      const app = await appLock(cleanups, q, id);
      // Held past its lease and past several lock timeouts of the waiting renewal.
      await waitFor("the lease ran out while the row was held", async () => {
        const until = await storedLease(f.schema, id);
        return until > 0 && until < Date.now() - 600;
      });
      await waitFor("a renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) > 0);
      await app.query("COMMIT");
      assert.equal(await rescuedByAnother(f), null, "no other process took the job back");
      assert.deepEqual(runs, { held: 1 });
      // Lock timeouts of the waiting renewal are the worker's own business: nothing reported.
      assert.deepEqual(errors, []);
    });
  });

  test("renewals waiting for held rows leave connections for the other jobs", T, async (t) => {
    const f = spoolFixture(t);
    await scene(async (cleanups) => {
      const poolSize = 4;
      const spool = await f.open({ poolSize });
      const r = spool.queue<Payload>("r");
      const q = spool.queue<string>("q");
      const locked = await r.addBatch(Array.from({ length: poolSize }, (_, i) => ({ n: `locked-${i}` })));
      const untouched = await r.add({ n: "untouched" });
      const lease = 900;
      const beat = heartbeats(spool);
      const { runs } = hold(cleanups, r, lease, poolSize + 1);
      await waitFor("all running", () => Object.keys(runs).length === poolSize + 1);
      // One more held row per heartbeat: each becomes a renewal of its own.
      for (const id of locked) {
        await appLock(cleanups, q, id);
        await beat(1);
      }
      const allHeld = Date.now();
      await waitFor(
        "the untouched job's lease renewed while every other row is held",
        async () => (await storedLease(f.schema, untouched)) > allHeld + lease,
      );
      assert.ok((await waitingOnLocks(f.schema)) < poolSize, "some connections never wait for a lock");
      assert.equal(runs.untouched, 1);
    });
  });

  test("a handler's job.leaseUntil does not move while its row is held and not renewed", T, async (t) => {
    await spoolScene(t, async ({ f, spool, r, q, cleanups }) => {
      const id = await r.add({ n: "held" });
      const beat = heartbeats(spool);
      const { runs, jobs } = hold(cleanups, r, 600, 1);
      await waitFor("running", () => runs.held === 1);
      await appLock(cleanups, q, id);
      await beat(3);
      const stored = await storedLease(f.schema, id);
      const seen = jobs.held?.leaseUntil?.getTime() ?? 0;
      assert.ok(seen <= stored, `the handler sees ${seen}, the store holds ${stored}`);
    });
  });
  for (const [how, end] of [
    ["an app's transaction that rolls back", "ROLLBACK"],
    ["a plain row lock", "COMMIT"],
  ] as const) {
    test(`a row held past its lease by ${how} keeps its lease`, T, async (t) => {
      const f = spoolFixture(t);
      await scene(async (cleanups) => {
        const spool = await f.open();
        const r = spool.queue<Payload>("r");
        const q = spool.queue<string>("q");
        const id = await r.add({ n: "held" });
        const lease = 900;
        const { runs, errors } = hold(cleanups, r, lease, 1);
        await waitFor("running", () => runs.held === 1);
        const app =
          end === "ROLLBACK" ? await appLock(cleanups, q, id) : await rowLock(cleanups, f.schema, id);
        await waitFor("a renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) > 0);
        await waitFor("the lease ran out while the row was held", async () => {
          const until = await storedLease(f.schema, id);
          return until > 0 && until < Date.now() - 300;
        });
        const letGo = Date.now();
        await app.query(end);
        // Counted from when the renewal got the row, not from when it began to wait.
        await waitFor("the lease renewed", async () => (await storedLease(f.schema, id)) > letGo);
        assert.equal(await rescuedByAnother(f), null, "no other process took the job back");
        assert.deepEqual(runs, { held: 1 });
        assert.deepEqual(errors, []);
      });
    });
  }

  test("heartbeats that answer while others are out still send the waiting renewal", T, async (t) => {
    const { f, b, held } = await heldOnBackend(t, { busyTimeout: 30_000 });
    await scene(async (cleanups) => {
      await rowLock(cleanups, f.schema, held.id);
      // Three heartbeats always out at once: each answers while the others are still out.
      let waited = false;
      const beat = async () => {
        while (!waited) await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000);
      };
      const beats = [beat(), beat(), beat()];
      await waitFor("a renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) > 0);
      waited = true;
      await Promise.all(beats);
    });
  });

  test("with a pool of one, no renewal waits: the heartbeat keeps its connection", T, async (t) => {
    const f = fixture(t);
    const b = await f.open({ poolSize: 1, busyTimeout: 30_000 });
    await b.enqueue("q", [job(1), job(2)]);
    const [held, free] = (await b.claim("q", 2, 60_000)).sort((x, y) => x.id - y.id);
    assert.ok(held && free);
    await scene(async (cleanups) => {
      await rowLock(cleanups, f.schema, held.id);
      const tokens = [held, free].map((j) => ({ id: j.id, token: j.claims }));
      assert.deepEqual(await b.extendMany("q", tokens, 60_000), { lost: [], skipped: [held.id] });
      // The next heartbeat gets the one connection: no renewal sits on it waiting for the lock.
      assert.deepEqual(await b.extendMany("q", tokens, 60_000), { lost: [], skipped: [held.id] });
      assert.equal(await waitingOnLocks(f.schema), 0);
    });
  });
  test(
    "close() right after a heartbeat that skipped a row neither waits for it nor leaves a session",
    T,
    async (t) => {
      const { f, b, held } = await heldOnBackend(t, { busyTimeout: 30_000 });
      await scene(async (cleanups) => {
        await rowLock(cleanups, f.schema, held.id);
        assert.deepEqual(await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000), {
          lost: [],
          skipped: [held.id],
        });
        let closed = false;
        const closing = b.close().then(() => {
          closed = true;
        });
        await waitFor("close() resolved while the row is still held", () => closed);
        await closing;
        await waitFor(
          "no session left waiting on the lock",
          async () => (await waitingOnLocks(f.schema)) === 0,
        );
      });
    },
  );

  test("a row held for ever gives its lane up for a row behind it", T, async (t) => {
    await spoolScene(t, { poolSize: 2 }, async ({ f, spool, r, q, cleanups }) => {
      // one lane
      const stuck = await r.add({ n: "stuck" });
      const behind = await r.add({ n: "behind" });
      // The row behind's renewal, sent a third of a lease after its last one, is given up a lease
      // after it was sent: the test sees its stored lease run out and lets the row go within
      // that last third. 1.5 s left 500 ms, which a machine with both cores busy overran.
      const lease = 3_000;
      const beat = heartbeats(spool);
      const { runs, errors } = hold(cleanups, r, lease, 2);
      await waitFor("both running", () => runs.stuck === 1 && runs.behind === 1);
      await appLock(cleanups, q, stuck); // for ever
      await waitFor("the stuck row's renewal waiting", async () => (await waitingOnLocks(f.schema)) > 0);
      await beat(2);
      const app = await appLock(cleanups, q, behind); // its lease fresh: just renewed
      await waitFor("the row behind waiting in the lane", async () => {
        const rows = await sql(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1
              AND wait_event_type = 'Lock' AND query LIKE '%clock_timestamp%'`,
          [`spool ${f.schema}`],
        );
        return Number(rows[0]?.n) === 1 && (await storedLease(f.schema, behind)) < Date.now();
      });
      const letGo = Date.now();
      await app.query("COMMIT");
      await waitFor("the row behind renewed", async () => (await storedLease(f.schema, behind)) > letGo);
      assert.equal(runs.behind, 1);
      assert.ok(
        errors.every((e) => !String(e).includes(`job ${behind} `)),
        `no error about the row behind: ${errors.map(String).join("; ")}`,
      );
    });
  });
  test("close() cancels waiting renewals even when every pool connection is busy", T, async (t) => {
    const { f, b, held } = await heldOnBackend(t, { poolSize: 2, busyTimeout: 1_000 });
    await scene(async (cleanups) => {
      await rowLock(cleanups, f.schema, held.id);
      await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000);
      await waitFor("the renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) > 0);
      // The pool's other connection busy for longer than busyTimeout (which bounds a checkout).
      const pool = (b as unknown as { db: { pool: pg.Pool } }).db.pool;
      const busy = pool.query("SELECT pg_sleep(4)").catch(() => {});
      await b.close();
      await busy;
      assert.equal(await waitingOnLocks(f.schema), 0, "no session left waiting on the lock");
    });
  });

  test(
    "a session's statement_timeout or repeatable-read default does not end a waiting renewal",
    T,
    async (t) => {
      // Set on the role or in the URL, as a user may: the renewal sets its own transaction's.
      const url = new URL(PG_URL as string);
      url.searchParams.set(
        "options",
        "-c statement_timeout=300 -c default_transaction_isolation=repeatable\\ read",
      );
      const f = spoolFixture(t);
      await scene(async (cleanups) => {
        const spool = await f.open({}, url.toString());
        const r = spool.queue<Payload>("r");
        const q = spool.queue<string>("q");
        const id = await r.add({ n: "held" });
        const { runs, errors } = hold(cleanups, r, 900, 1);
        await waitFor("running", () => runs.held === 1);
        // Adding a child writes the job's row too: a repeatable-read renewal then fails on commit.
        const app = await appLock(cleanups, q, id);
        await waitFor("a renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) > 0);
        await waitFor("the lease ran out while the row was held", async () => {
          const until = await storedLease(f.schema, id);
          return until > 0 && until < Date.now() - 600;
        });
        const letGo = Date.now();
        await app.query("COMMIT");
        await waitFor("the lease renewed", async () => (await storedLease(f.schema, id)) > letGo);
        assert.equal(await rescuedByAnother(f), null, "no other process took the job back");
        assert.deepEqual(runs, { held: 1 });
        assert.deepEqual(errors, []);
      });
    },
  );

  test("close() cancels a waiting renewal whose session acts as another role", T, async (t) => {
    // Log in as one role and act as another (`-c role=…`): pg_cancel_backend, run as the acting
    // role, may not cancel a session of the login role; the protocol's cancel request may.
    const tag = randomBytes(4).toString("hex");
    const owner = `spool_owner_${tag}`;
    const login = `spool_login_${tag}`;
    await sql(`CREATE ROLE ${owner} NOLOGIN`);
    await sql(`CREATE ROLE ${login} LOGIN IN ROLE ${owner}`);
    await sql(
      `DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ${owner}', current_database()); END $$`,
    );
    const url = new URL(PG_URL as string);
    url.username = login;
    url.password = "";
    url.searchParams.set("options", `-c role=${owner}`);
    const f = spoolFixture(t);
    t.after(async () => {
      for (const role of [login, owner]) {
        await sql(`DROP OWNED BY ${role}`);
        await sql(`DROP ROLE ${role}`);
      }
    });
    await scene(async (cleanups) => {
      const spool = await f.open({ busyTimeout: 1_000 }, url.toString());
      const r = spool.queue<Payload>("r");
      const id = await r.add({ n: "held" });
      const { runs } = hold(cleanups, r, 900, 1);
      const stopWorker = cleanups.at(-1); // ends the handler, so the Spool can close
      await waitFor("running", () => runs.held === 1);
      await rowLock(cleanups, f.schema, id); // for ever
      await waitFor("a renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) > 0);
      await stopWorker?.();
      await spool.close();
      await waitFor(
        "no session left waiting on the lock",
        async () => (await waitingOnLocks(f.schema)) === 0,
      );
    });
  });

  test("a renewal is given up a lease after it was sent, not after it was queued", T, async (t) => {
    const lease = 2_000;
    const f = fixture(t);
    const b = await f.open({ poolSize: 4, busyTimeout: 30_000 }); // two lanes
    await b.enqueue("q", [job(1), job(2), job(3)]);
    const [a, second, third] = (await b.claim("q", 3, lease)).sort((x, y) => x.id - y.id);
    assert.ok(a && second && third);
    const refs = [a, second, third].map((j) => ({ id: j.id, token: j.claims }));
    // The first checkout for a's renewal waits for a busy pool (here, for `checkedOut`).
    const db = (b as unknown as { db: { checkout(doing: string): Promise<unknown> } }).db;
    const checkout = db.checkout.bind(db);
    let letCheckout!: () => void;
    const checkedOut = new Promise<void>((resolve) => {
      letCheckout = resolve;
    });
    let slowed = false;
    db.checkout = async (doing: string) => {
      if (!slowed && doing === `extending the lease of job ${a.id}`) {
        slowed = true;
        await checkedOut;
      }
      return checkout(doing);
    };
    await scene(async (cleanups) => {
      const first = await rowLock(cleanups, f.schema, a.id);
      assert.deepEqual((await b.extendMany("q", refs, lease)).skipped, [a.id]); // a's lane waits to check out
      await first.query("COMMIT");
      const renewedAt = Date.now();
      assert.deepEqual(await b.extendMany("q", refs, lease), { lost: [], skipped: [] });
      const again = await rowLock(cleanups, f.schema, a.id);
      await rowLock(cleanups, f.schema, second.id);
      await rowLock(cleanups, f.schema, third.id); // queued behind the two lanes
      await b.extendMany("q", refs, lease);
      // Half a lease later a's renewal is sent: its lease was renewed since, and is still live.
      await clockPast(renewedAt + lease / 2);
      letCheckout();
      await waitFor("both lanes waiting", async () => (await waitingOnLocks(f.schema)) === 2);
      // a's lease runs out while its sent renewal waits, less than a lease after it was sent.
      await clockPast(renewedAt + lease + 300);
      await again.query("COMMIT");
      await waitFor("a's lease renewed", async () => (await storedLease(f.schema, a.id)) > Date.now());
      const { lost } = await b.extendMany("q", refs, lease);
      assert.ok(!lost.includes(a.id), `a's lease is kept: lost ${lost.join(", ")}`);
    });
  });

  test("close() waits no longer than a connect for a cancel the server does not answer", T, async (t) => {
    // A proxy to the server that, once told, answers no new connection (a network partition, a
    // stuck proxy): the cancel cannot be delivered, and close() must not wait it out three times.
    let answer = true;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      if (!answer) return;
      const upstream = net.connect(5432, "127.0.0.1");
      sockets.add(upstream);
      upstream.on("error", () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    });
    const url = new URL(PG_URL as string);
    url.host = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const schema = `spool_t_${randomBytes(6).toString("hex")}`;
    t.after(() => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    const busyTimeout = 1_000;
    const b = await openPostgresBackend(url.toString(), baseOptions(schema, { busyTimeout }));
    await b.enqueue("q", [job(1)]);
    const [held] = await b.claim("q", 1, 60_000);
    assert.ok(held);
    await scene(async (cleanups) => {
      await rowLock(cleanups, schema, held.id);
      await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000);
      await waitFor("the renewal waiting for the row", async () => (await waitingOnLocks(schema)) > 0);
      answer = false;
      const began = Date.now();
      await b.close();
      const took = Date.now() - began;
      assert.ok(took < 3 * busyTimeout, `close() took ${took} ms`);
    });
  });

  test("a lease longer than a timer can wait does not make the lane watch spin", T, async (t) => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    t.after(() => {
      process.off("warning", onWarning);
    });
    const f = fixture(t);
    const b = await f.open({ poolSize: 4, busyTimeout: 30_000 }); // two lanes
    await b.enqueue("q", [job(1), job(2), job(3)]);
    const lease = 3e9; // past 2^31 - 1 ms
    const claimed = await b.claim("q", 3, lease);
    const refs = claimed.map((j) => ({ id: j.id, token: j.claims }));
    await scene(async (cleanups) => {
      for (const j of claimed) await rowLock(cleanups, f.schema, j.id);
      await b.extendMany("q", refs, lease); // two lanes wait, one row queues: the watch is on
      await waitFor("both lanes waiting", async () => (await waitingOnLocks(f.schema)) === 2);
      await b.extendMany("q", refs, lease);
      assert.deepEqual(
        warnings.filter((name) => name === "TimeoutOverflowWarning"),
        [],
      );
    });
  });
  test("a heartbeat that gets the row before its waiting renewal does not call it lost", T, async (t) => {
    await letGoBeforeTheRenewal(t, async ({ b, ref, resume }) => {
      const outcome = await b.extendMany("q", ref, 1_000);
      assert.deepEqual(outcome.lost, [], "the renewal sent while the lease was live still keeps it");
      await resume();
      assert.deepEqual(await b.extendMany("q", ref, 1_000), { lost: [], skipped: [] });
    });
  });

  test("a completion that gets the row before its waiting renewal completes the job", T, async (t) => {
    await letGoBeforeTheRenewal(t, async ({ b, f, held }) => {
      const outcome = await b.complete(
        "q",
        held.id,
        { attempt: held.attempts, token: held.claims },
        null,
        true,
      );
      assert.equal(outcome, "ok");
      assert.equal(
        (await sql(`SELECT state FROM "${f.schema}".jobs WHERE id = $1`, [held.id]))[0]?.state,
        "completed",
      );
    });
  });

  test("a rescue that gets the row before its waiting renewal leaves the job to its holder", T, async (t) => {
    await letGoBeforeTheRenewal(t, async ({ f, held, resume }) => {
      const other = await f.open();
      assert.deepEqual(await other.claim("q", 1, 60_000), [], "the job is still held");
      await resume();
      const rows = await sql(`SELECT state, claims FROM "${f.schema}".jobs WHERE id = $1`, [held.id]);
      assert.deepEqual(rows[0], { state: "reserved", claims: held.claims });
      assert.ok((await storedLease(f.schema, held.id)) > Date.now(), "renewed by the waiting renewal");
    });
  });

  test("a renewal waiting in one schema does not keep a job of the same id in another", T, async (t) => {
    const { f, b, held } = await heldOnBackend(t, { poolSize: 2 });
    const g = fixture(t);
    const c = await g.open({});
    await c.enqueue("q", [job(1)]);
    const [lapsing] = await c.claim("q", 1, 300);
    assert.equal(lapsing?.id, held.id, "the same id in both schemas");
    await scene(async (cleanups) => {
      await rowLock(cleanups, f.schema, held.id);
      await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000);
      await waitFor("the renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) === 1);
      await waitFor(
        "the other schema's lease run out",
        async () => (await storedLease(g.schema, held.id)) < Date.now(),
      );
      const other = await g.open({});
      const [rescued] = await other.claim("q", 1, 60_000);
      assert.equal(rescued?.id, held.id, "the lapsed job of the other schema is rescued");
      await b.close();
    });
  });

  test("a rescue of 20,000 lapsed leases at once takes no lock per job", T, async (t) => {
    // Asking whether a renewal keeps each lease by trying its advisory lock held one lock per
    // lapsed job until the rescue committed: past max_locks_per_transaction, the rescue failed.
    const f = fixture(t);
    const b = await f.open({});
    const n = 20_000;
    await b.enqueue(
      "q",
      Array.from({ length: n }, (_, i) => job(i)),
    );
    const claimed = await b.claim("q", n, 200);
    assert.equal(claimed.length, n);
    await waitFor(
      "every lease run out",
      async () => (await storedLease(f.schema, claimed[n - 1]?.id ?? 0)) < Date.now(),
    );
    const other = await f.open({});
    const again = await other.claim("q", n, 60_000);
    assert.equal(again.length, n, "every lapsed job rescued and claimed again");
  });

  test("a renewal waiting for ever does not keep a job 2^32 ids on from its rescue", T, async (t) => {
    const { f, b, held } = await heldOnBackend(t, { poolSize: 2 });
    await scene(async (cleanups) => {
      await rowLock(cleanups, f.schema, held.id); // for ever; the lone lane is never given up
      await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000);
      await waitFor("the renewal waiting for the row", async () => (await waitingOnLocks(f.schema)) === 1);
      await sql(`SELECT setval(pg_get_serial_sequence('"${f.schema}".jobs', 'id'), $1)`, [
        2 ** 32 + held.id - 1,
      ]);
      const crashed = await f.open({});
      await crashed.enqueue("q", [job(2)]);
      const [far] = await crashed.claim("q", 1, 300); // its worker dies now
      assert.equal(far?.id, 2 ** 32 + held.id);
      await waitFor("its lease run out", async () => (await storedLease(f.schema, far.id)) < Date.now());
      const other = await f.open({});
      assert.deepEqual(
        (await other.claim("q", 1, 60_000)).map((j) => j.id),
        [far.id],
        "the far job is rescued",
      );
      await b.close();
    });
  });

  test("an application's advisory lock on a renewal's key does not hold the renewal up", T, async (t) => {
    const { f, b, held } = await heldOnBackend(t, { poolSize: 2 });
    await scene(async (cleanups) => {
      // A key of the application's own that happens to be the renewal's (a chance of 2^-64).
      await transaction(cleanups, (c) =>
        c.query(
          `SELECT pg_advisory_xact_lock(hashint8extended($1::bigint, '"${f.schema}".jobs'::regclass::oid::bigint))`,
          [held.id],
        ),
      );
      const app = await rowLock(cleanups, f.schema, held.id);
      await b.extendMany("q", [{ id: held.id, token: held.claims }], 60_000);
      await waitFor("the renewal waiting for the row", async () => {
        const rows = await sql(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1
              AND wait_event_type = 'Lock' AND query LIKE '%clock_timestamp%'`,
          [`spool ${f.schema}`],
        );
        return Number(rows[0]?.n) === 1;
      });
      const letGo = Date.now();
      await app.query("COMMIT");
      await waitFor(
        "renewed once let go",
        async () => (await storedLease(f.schema, held.id)) > letGo + 30_000,
      );
      await b.close();
    });
  });
});

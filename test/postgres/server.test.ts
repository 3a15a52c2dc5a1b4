/*
 * What only a real server shows: time measured on the database's clock whatever the host's
 * clock says, and wake-ups that survive dropped connections and a server restart. Skipped,
 * with one notice, when SPOOL_PG_URL is unset. The real restart disturbs every other client of
 * the server (tests of other files run in parallel), so it runs only with SPOOL_PG_RESTART=1;
 * the connection-drop test covers the same client paths without touching the server.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, test } from "node:test";
import type { Backend } from "../../src/backend.js";
import { SpoolError } from "../../src/errors.js";
import { at, fixture, job, nextSignal, pgConfigured, sql, until } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/server.test.ts");
const HOUR = 3_600_000;

const dbNow = async () =>
  Number((await sql<{ n: number }>("SELECT floor(extract(epoch from now()) * 1000)::float8 AS n"))[0]?.n);

/** Retries a call that may meet a connection dropped a moment ago (it must fail as STORAGE). */
async function eventually<T>(what: string, call: () => Promise<T>): Promise<T> {
  return until(
    what,
    async () => {
      try {
        return await call();
      } catch (error) {
        assert.ok(error instanceof SpoolError && error.code === "STORAGE", `unexpected ${String(error)}`);
        return undefined;
      }
    },
    30_000,
  );
}

describe("postgres server: the database clock", { skip: !run }, () => {
  test("hosts whose clocks are an hour off claim, expire and time jobs exactly alike", {
    timeout: 30_000,
  }, async (t) => {
    const f = fixture(t);
    const truth = await f.open();
    const ahead = await f.open({ clock: () => Date.now() + HOUR });
    const behind = await f.open({ clock: () => Date.now() - HOUR });

    // Run times and creation times are the server's, whoever adds the job.
    const [id] = (await ahead.enqueue("q", [job("a", { ttlMs: 60_000 })])) as number[];
    const stored = await behind.get("q", id as number);
    const now = await dbNow();
    assert.ok(Math.abs((stored?.runAt ?? 0) - now) < 2000, "runAt on the server's clock");
    assert.ok(Math.abs((stored?.createdAt ?? 0) - now) < 2000, "createdAt on the server's clock");

    // A host an hour behind does not see its ttl as passed, nor one an hour ahead a delay as due.
    await ahead.enqueue("q", [job("later", { delayMs: 30 * 60_000 })]);
    assert.deepEqual(await ahead.counts("q"), await truth.counts("q"));
    assert.equal((await ahead.counts("q")).delayed, 1);

    // A lease taken on true time is not stolen by a host whose clock runs an hour ahead…
    const [held] = await truth.claim("q", 1, 10_000);
    assert.equal(held?.id, id, "the ttl did not expire it for anybody");
    assert.deepEqual(await ahead.claim("q", 10, 10_000), []);
    assert.equal(await ahead.complete("q", id as number, at(1), null, true), "ok", "nor seen as lapsed");

    // …and a lease that lapsed is rescued by a host whose clock runs an hour behind.
    const [id2] = (await truth.enqueue("q", [job("b")])) as number[];
    await truth.claim("q", 1, 1);
    const rescued = await until(
      "the lapsed lease to be rescued",
      async () => (await behind.claim("q", 1, 10_000))[0],
    );
    assert.equal(rescued.id, id2);
    assert.equal(rescued.attempts, 2);
    assert.ok(
      Math.abs((rescued.leaseUntil ?? 0) - (await dbNow()) - 10_000) < 2000,
      "lease on the server's clock",
    );
  });
});

/** Server pids of the connections a backend holds open (pool and listener). */
const pidsOf = async (schema: string) =>
  (
    await sql<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name IN ($1, $2)", [
      `spool ${schema}`,
      `spool-listener ${schema}`,
    ])
  ).map((r) => r.pid);

async function wakeupsWork(listener: Backend, sender: Backend, queue: string): Promise<void> {
  const heard = nextSignal(listener, (q) => q === queue, 20_000);
  await eventually("an enqueue to succeed", () => sender.enqueue(queue, [job(queue)]));
  assert.equal(await heard, queue);
}

describe("postgres server: wake-ups across connection loss", { skip: !run }, () => {
  test("dropped connections are replaced and LISTEN resumes, with a null signal", {
    timeout: 60_000,
  }, async (t) => {
    const f = fixture(t);
    const [a, b] = [await f.open(), await f.open()];
    await wakeupsWork(a, b, "before");
    const missed = nextSignal(a, (q) => q === null, 20_000);
    const pids = await pidsOf(f.schema);
    assert.ok(pids.length >= 2, "the pools and listeners are connected");
    await sql("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [pids]);
    assert.equal(await missed, null, "after reconnecting, listeners hear that something may be missed");
    await wakeupsWork(a, b, "after");
    assert.equal((await eventually("a count", () => a.counts("after"))).pending, 1);
  });

  const restart = process.env.SPOOL_PG_RESTART === "1";
  test("the listener survives a real server restart", {
    timeout: 120_000,
    skip: restart ? false : "set SPOOL_PG_RESTART=1 (it restarts the server)",
  }, async (t) => {
    const f = fixture(t);
    const [a, b] = [await f.open(), await f.open()];
    await wakeupsWork(a, b, "before");
    const missed = nextSignal(a, (q) => q === null, 60_000);
    const version = readdirSync("/etc/postgresql")[0] as string;
    execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "restart"], {
      stdio: "ignore",
    });
    assert.equal(await missed, null);
    await wakeupsWork(a, b, "after");
  });
});

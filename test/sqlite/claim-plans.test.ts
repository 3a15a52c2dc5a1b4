// Every claim, take, group seek and size read of plain and grouped queues is index-backed on
// SQLite: no statement reads the whole table or sorts every pending job of a queue. A grouped
// job stays out of no index a plain claim relies on, and a plain job out of none a grouped
// claim does (see migration 8), so both kinds are checked on one store holding both.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import * as L from "../../src/backends/sqlite/limited-queries.js";
import { MIGRATIONS } from "../../src/backends/sqlite/migrations.js";
import * as Q from "../../src/backends/sqlite/queries.js";
import * as R from "../../src/backends/sqlite/read-queries.js";
import { Spool } from "../../src/index.js";
import { T } from "../conformance/harness.js";

/** The statements a claim, a take, a size or a backlog check runs, by name. */
const HOT: Record<string, string> = {
  CLAIM: Q.CLAIM,
  CLAIM_ONE: Q.CLAIM_ONE,
  TAKE_READ: Q.TAKE_READ,
  TAKE: Q.TAKE,
  TAKE_ONE: Q.TAKE_ONE,
  CLAIM_LIMITED: L.CLAIM_LIMITED,
  CLAIM_GROUP_HEAD: L.CLAIM_GROUP_HEAD,
  CLAIM_GROUP_FIFO_HEAD: L.CLAIM_GROUP_FIFO_HEAD,
  CLAIM_FIRST_HEAD: L.CLAIM_FIRST_HEAD,
  CLAIM_FIRST_HEAD_UPTO: L.CLAIM_FIRST_HEAD_UPTO,
  CLAIM_NEXT_HEAD: L.CLAIM_NEXT_HEAD,
  CLAIM_NEXT_HEAD_UPTO: L.CLAIM_NEXT_HEAD_UPTO,
  CLAIM_NEXT_HEAD_ALONE: L.CLAIM_NEXT_HEAD_ALONE,
  FIRST_GROUP: L.FIRST_GROUP,
  FIRST_GROUP_UPTO: L.FIRST_GROUP_UPTO,
  NEXT_GROUP: L.NEXT_GROUP,
  NEXT_GROUP_UPTO: L.NEXT_GROUP_UPTO,
  GROUP_HELD: L.GROUP_HELD,
  RESERVED_COUNT: L.RESERVED_COUNT,
  RESCUE_LEASES: Q.RESCUE_LEASES,
  RESCUE_EXPIRED: Q.RESCUE_EXPIRED,
  COUNT_PENDING: R.COUNT_PENDING,
  COUNTS: R.COUNTS,
  BACKLOG: R.BACKLOG,
  NEXT_DUE_IN: R.NEXT_DUE_IN,
  OLDEST_PENDING_AGE: R.OLDEST_PENDING_AGE,
};

/** Migrations 1 to 7's SQL (the test adds 7's former group index itself). */
const MIGRATIONS_UP_TO_7 = MIGRATIONS.filter((m) => m.version <= 7).map((m) => m.sql);

function binds(sql: string, queue: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [, name] of sql.matchAll(/:([a-z_]+)/g)) {
    out[name as string] =
      name === "queue" ? queue : name === "grp" || name === "after" || name === "upto" ? "g-5" : 1;
  }
  return out;
}

describe("sqlite claim plans", () => {
  test("claims, takes, group seeks and counts of plain and grouped queues are index-backed", T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "spool-plans-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "plans.db");
    const spool = await Spool.open(path, { durability: "normal" });
    const plain = spool.queue("plain");
    const grouped = spool.queue("grouped", { groupConcurrency: 2 });
    await plain.addBatch(Array.from({ length: 2_000 }, (_, i) => i));
    for (let g = 0; g < 20; g++) {
      await grouped.addBatch(
        Array.from({ length: 100 }, (_, i) => i),
        { group: `g-${g}` },
      );
    }
    for (let i = 0; i < 10; i++) {
      await plain.reserve();
      await grouped.reserve();
    }
    await spool.close();
    const db = new Database(path, { readonly: true });
    t.after(() => db.close());
    for (const queue of ["plain", "grouped"]) {
      for (const [name, sql] of Object.entries(HOT)) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(binds(sql, queue)) as { detail: string }[])
          .map((r) => r.detail)
          .join(" | ");
        assert.doesNotMatch(
          plan,
          /SCAN spool_jobs(?! USING)/,
          `${name} on ${queue} reads the whole table: ${plan}`,
        );
        assert.doesNotMatch(plan, /TEMP B-TREE/, `${name} on ${queue} sorts: ${plan}`);
      }
      // A receive's removal by ids looks each row up by its id: a walk of the queue's ready
      // rows (its queue and state terms taken for an index) is index-backed, yet reads them all.
      const take = (
        db.prepare(`EXPLAIN QUERY PLAN ${Q.TAKE}`).all(binds(Q.TAKE, queue)) as { detail: string }[]
      )
        .map((r) => r.detail)
        .join(" | ");
      assert.match(take, /^SEARCH spool_jobs USING INTEGER PRIMARY KEY/, `TAKE on ${queue}: ${take}`);
    }
  });

  test(
    "a grouped store from before migration 8 upgrades; its reserved jobs still hold their groups",
    T,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "spool-upgrade8-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "v7.db");
      const old = new Database(path);
      old.pragma("journal_mode = WAL");
      for (const m of MIGRATIONS_UP_TO_7) old.exec(m);
      // Migration 7 as it stood before migration 8: the group index keyed on state.
      old.exec(`CREATE INDEX spool_jobs_groups ON spool_jobs (queue, grp, state, priority DESC, run_at, id)
      WHERE grp IS NOT NULL AND (state = 'pending' OR state = 'reserved')`);
      old.pragma("user_version = 7");
      const now = Date.now();
      old
        .prepare(
          "INSERT INTO spool_queues (queue, group_concurrency, grouped, updated_at) VALUES ('q', 1, 1, ?)",
        )
        .run(now);
      const insert = old.prepare(
        `INSERT INTO spool_jobs (queue, state, run_at, payload, format, attempts, claims, max_attempts, created_at,
                               lease_until, grp)
       VALUES ('q', ?, ?, ?, 0, ?, ?, 3, ?, ?, ?)`,
      );
      insert.run("reserved", now, Buffer.from('"a1"'), 1, 1, now, now + 60_000, "a");
      insert.run("pending", now, Buffer.from('"a2"'), 0, 0, now, null, "a");
      insert.run("pending", now, Buffer.from('"b1"'), 0, 0, now, null, "b");
      old.close();

      const spool = await Spool.open(path);
      t.after(() => spool.close());
      const q = spool.queue<string>("q");
      const v = new Database(path, { readonly: true });
      const indexes = (
        v.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]
      ).map((r) => r.name);
      v.close();
      assert.ok(!indexes.includes("spool_jobs_groups"), `the old group index is gone: ${indexes.join(", ")}`);
      // Group a holds its one slot with the job reserved before the upgrade: only b is served.
      const first = await q.reserve();
      assert.equal(first?.payload, "b1");
      assert.equal(await q.reserve(), null);
      await q.complete(1, "done");
      assert.equal((await q.reserve())?.payload, "a2");
    },
  );

  test(
    "a channel sharing a grouped queue's name receives its jobs, each group in claim order",
    T,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "spool-grouped-take-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const spool = await Spool.open(join(dir, "take.db"));
      t.after(() => spool.close());
      const q = spool.queue<string>("shared");
      await q.add("b-low", { group: "b" });
      await q.add("b-high", { group: "b", priority: 5 });
      await q.add("a-1", { group: "a" });
      await q.add("plain");
      const [, rx] = await spool.channel<string>("shared");
      const got: (string | undefined)[] = [];
      for (let i = 0; i < 5; i++) got.push(await rx.recv());
      // Groups in name order (the ungrouped jobs are the group ''), each in claim order.
      assert.deepEqual(got, ["plain", "a-1", "b-high", "b-low", undefined]);
    },
  );
});

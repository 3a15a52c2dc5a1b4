// Payloads of 4 KiB or more live in spool_bodies, apart from their jobs' rows (migration 11).
// Every way a job leaves the store must take its body with it, a store that never held one must
// carry no trigger for it, and a store written before the move must read back the same.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { describe, test } from "node:test";
import { MIGRATIONS } from "../../src/backends/sqlite/migrations.js";
import { Spool, SpoolError } from "../../src/index.js";
import { T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "spool-bodies-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "jobs.db");
}

/** The bodies kept apart, and whether the trigger that deletes them exists. */
function bodies(path: string): { n: number; trigger: boolean } {
  const db = openRawSqlite(path, { readonly: true });
  try {
    const n = db.preparePluck("SELECT count(*) FROM spool_bodies").get() as number;
    const trigger =
      db.preparePluck("SELECT count(*) FROM sqlite_schema WHERE name = 'spool_bodies_follow'").get() === 1;
    return { n, trigger };
  } finally {
    db.close();
  }
}

const big = () => randomBytes(8000);

describe("sqlite payloads kept apart", () => {
  test(
    "small payloads stay in their rows and add no trigger; a rolled-back add leaves nothing",
    T,
    async (t) => {
      const path = tempFile(t);
      const spool = await Spool.open(path);
      t.after(() => spool.close());
      const q = spool.queue<Buffer>("q");
      await q.add(randomBytes(4095));
      await q.addBatch(Array.from({ length: 120 }, () => randomBytes(100)));
      assert.deepEqual(bodies(path), { n: 0, trigger: false });
      await assert.rejects(
        q.add(big(), { dependsOn: [1_000_000] }),
        (e: unknown) => e instanceof SpoolError && e.code === "NOT_FOUND",
      );
      assert.deepEqual(
        bodies(path),
        { n: 0, trigger: false },
        "the failed add's body and trigger rolled back",
      );
      await q.add(big());
      assert.deepEqual(bodies(path), { n: 1, trigger: true });
    },
  );

  test("every way a job leaves the store takes its body with it", T, async (t) => {
    const path = tempFile(t);
    const spool = await Spool.open(path);
    t.after(() => spool.close());
    const kept = spool.queue<Buffer>("kept");
    const gone = spool.queue<Buffer>("gone", { retention: { completed: 0 } });
    // Completed with retention 0: deleted by the completion.
    await gone.addBatch([big(), big()]);
    for (const job of await gone.reserveBatch(2)) await gone.complete(job);
    assert.equal(bodies(path).n, 0, "completion that deletes");
    // Removed; purged when completed; purged when dead; cleared.
    const removed = await kept.add(big());
    assert.equal(await kept.remove(removed), true);
    await kept.addBatch([big(), big()]);
    for (const job of await kept.reserveBatch(2)) await kept.complete(job);
    assert.equal(bodies(path).n, 2, "completed jobs keep their bodies");
    assert.equal(await kept.purge({ state: "completed" }), 2);
    await kept.add(big(), { maxAttempts: 1 });
    await kept.fail((await kept.reserve())!, "no");
    assert.equal(bodies(path).n, 1, "a dead job keeps its body");
    assert.equal(await kept.purge({ state: "dead" }), 1);
    await kept.addBatch([big(), randomBytes(10), big()]);
    await kept.clear();
    assert.equal(bodies(path).n, 0, "removal, purges and clear");
    // A channel's receives, one by one and in batches.
    const [tx, rx] = await spool.channel<Buffer>("pipe");
    await tx.sendBatch([big(), big(), big()]);
    assert.equal((await rx.recv())?.length, 8000);
    assert.equal((await rx.recvBatch(10)).length, 2);
    assert.deepEqual(bodies(path), { n: 0, trigger: true });
  });

  test("a version-10 store upgrades with its payloads in their rows, readable as before", T, async (t) => {
    const path = tempFile(t);
    const old = openRawSqlite(path);
    old.exec("PRAGMA journal_mode = WAL");
    for (const m of MIGRATIONS.filter((m) => m.version <= 10)) old.exec(m.sql);
    old.exec("PRAGMA user_version = 10");
    const now = Date.now();
    const payloads = [randomBytes(20), randomBytes(100_000)];
    const insert = old.prepare(
      `INSERT INTO spool_jobs (queue, state, run_at, payload, format, max_attempts, created_at)
       VALUES ('q', 'pending', ?, ?, 1, 3, ?)`,
    );
    for (const p of payloads) insert.run(now, p, now);
    // A statement of the earlier version, prepared before the upgrade: after it, it fails to
    // run, loudly, where it would have read a kept-apart job's empty column as its payload.
    const stale = old.prepare("SELECT payload FROM spool_jobs WHERE queue = 'q' ORDER BY id");

    const spool = await Spool.open(path);
    t.after(() => spool.close());
    const q = spool.queue<Buffer>("q");
    const [first, second] = await q.reserveBatch(2);
    assert.ok(first?.payload.equals(payloads[0] as Buffer));
    assert.ok(second?.payload.equals(payloads[1] as Buffer));
    await q.add(big());
    assert.throws(() => stale.all(), /payload/);
    old.close();
    assert.deepEqual(bodies(path), { n: 1, trigger: true });
  });

  test(
    "an application's view SQLite cannot resolve stops the upgrade, named, with the file unchanged",
    T,
    async (t) => {
      const path = tempFile(t);
      const old = openRawSqlite(path);
      old.exec("PRAGMA journal_mode = WAL");
      for (const m of MIGRATIONS.filter((m) => m.version <= 10)) old.exec(m.sql);
      old.exec("PRAGMA user_version = 10");
      // SQLite keeps a view whose table was dropped; renaming a column re-checks it.
      old.exec(
        "CREATE TABLE legacy (x); CREATE VIEW legacy_report AS SELECT x FROM legacy; DROP TABLE legacy;",
      );
      old.close();
      await assert.rejects(Spool.open(path), (e: unknown) => {
        assert.ok(e instanceof SpoolError && e.code === "STORAGE", String(e));
        assert.match(e.message, /legacy_report/);
        assert.match(e.message, /schema version 11 renames spool_jobs\.payload/);
        assert.match(e.message, /the file is unchanged/);
        return true;
      });
      const after = openRawSqlite(path, { readonly: true });
      t.after(() => after.close());
      assert.equal(after.preparePluck("PRAGMA user_version").get(), 10);
    },
  );
});

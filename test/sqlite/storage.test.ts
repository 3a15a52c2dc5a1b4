// SQLite-only guarantees: what Spool refuses to open (and leaves untouched), file permissions,
// and the lock wait (BUSY) that must not freeze the event loop.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { Spool } from "../../src/index.js";
import { expectCode, T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "spool-storage-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The tables a fresh Spool database holds, found from outside (no internals imported). */
async function spoolTables(dir: string): Promise<string[]> {
  const path = join(dir, "probe.db");
  await (await Spool.open(path)).close();
  const db = openRawSqlite(path, { readonly: true });
  const names = db
    .preparePluck("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as string[];
  db.close();
  return names;
}

describe("sqlite storage", () => {
  test("a file that is not a SQLite database is refused with STORAGE and left untouched", T, async (t) => {
    const path = join(tempDir(t), "notes.txt");
    const bytes = Buffer.from("these are my notes, not a database\n".repeat(200));
    writeFileSync(path, bytes);
    await expectCode(() => Spool.open(path), "STORAGE", path);
    assert.ok(readFileSync(path).equals(bytes), "the file is byte-for-byte unchanged");
  });

  test("a database written by a newer Spool is refused with STORAGE and left untouched", T, async (t) => {
    const path = join(tempDir(t), "future.db");
    const spool = await Spool.open(path);
    await spool.queue("q").add(1);
    await spool.close();
    const raw = openRawSqlite(path);
    raw.exec("PRAGMA user_version = 9999");
    raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    raw.close();
    const before = readFileSync(path);
    await expectCode(() => Spool.open(path), "STORAGE");
    assert.ok(readFileSync(path).equals(before), "the file is byte-for-byte unchanged");
  });

  test(
    "a foreign SQLite database with clashing table names is refused with STORAGE and left untouched",
    T,
    async (t) => {
      const dir = tempDir(t);
      const tables = await spoolTables(dir);
      assert.ok(tables.length > 0);
      const path = join(dir, "foreign.db");
      const raw = openRawSqlite(path);
      for (const name of tables) raw.exec(`CREATE TABLE "${name}" (something_else TEXT)`);
      raw.prepare(`INSERT INTO "${tables[0]}" VALUES ('precious')`).run();
      raw.close();
      const before = readFileSync(path);
      await expectCode(() => Spool.open(path), "STORAGE");
      assert.ok(readFileSync(path).equals(before), "the file is byte-for-byte unchanged");
    },
  );

  test(
    "a database file Spool creates is readable by its owner only, unless fileMode says otherwise",
    T,
    async (t) => {
      const dir = tempDir(t);
      const path = join(dir, "private.db");
      await (await Spool.open(path)).close();
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const shared = join(dir, "shared.db");
      await (await Spool.open(shared, { fileMode: 0o640 })).close();
      assert.equal(statSync(shared).mode & 0o777, 0o640);
    },
  );

  test(
    "a write lock held past busyTimeout gives BUSY, and the wait does not freeze the event loop",
    T,
    async (t) => {
      const path = join(tempDir(t), "locked.db");
      const spool = await Spool.open(path, { busyTimeout: 300 });
      t.after(() => spool.close());
      const q = spool.queue("q");
      await q.add(0);
      const holder = openRawSqlite(path);
      holder.exec("BEGIN IMMEDIATE");
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        await expectCode(() => q.add(1), "BUSY", path);
      } finally {
        clearInterval(timer);
        holder.exec("ROLLBACK");
        holder.close();
      }
      assert.ok(ticks > 0, "timers kept running while Spool waited for the lock");
      await q.add(2);
      assert.equal((await q.size()).total, 2, "the refused add wrote nothing; the next one works");
    },
  );

  test("a write lock released within busyTimeout is waited for, not refused", T, async (t) => {
    const path = join(tempDir(t), "brief.db");
    const spool = await Spool.open(path, { busyTimeout: 20_000 });
    t.after(() => spool.close());
    const q = spool.queue("q");
    const holder = openRawSqlite(path);
    holder.exec("BEGIN IMMEDIATE");
    let added = false;
    const adding = q.add(1).then(() => {
      added = true;
    });
    // Release the lock from a timer: only possible if Spool's wait leaves the event loop free.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(added, false, "the add waited for the lock");
    holder.exec("COMMIT");
    holder.close();
    await adding;
    assert.equal((await q.size()).total, 1);
  });
});

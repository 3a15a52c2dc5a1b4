// A database written by an earlier Spool opens in this one with nothing lost: its jobs keep
// their state, and a job reserved before the upgrade can still be completed by its holder.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { MIGRATIONS } from "../../src/backends/sqlite/migrations.js";
import { Spool } from "../../src/index.js";
import { T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

describe("sqlite schema upgrades", () => {
  test(
    "a version-1 database upgrades in place; a job reserved before it can still be completed",
    T,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "spool-upgrade-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "old.db");
      const old = openRawSqlite(path);
      old.exec("PRAGMA journal_mode = WAL");
      old.exec(MIGRATIONS[0]?.sql ?? "");
      old.exec("PRAGMA user_version = 1");
      const now = Date.now();
      const insert = old.prepare(
        `INSERT INTO spool_jobs (queue, state, run_at, payload, format, attempts, max_attempts, created_at, lease_until)
       VALUES ('q', ?, ?, ?, 0, ?, 3, ?, ?)`,
      );
      insert.run("reserved", now, Buffer.from('"held"'), 2, now, now + 60_000);
      insert.run("pending", now, Buffer.from('"waiting"'), 0, now, null);
      old.close();

      const spool = await Spool.open(path);
      t.after(() => spool.close());
      const q = spool.queue("q");
      assert.deepEqual(
        { ...(await q.size()) },
        { waiting: 0, pending: 1, delayed: 0, reserved: 1, completed: 0, dead: 0, total: 2, paused: false },
      );
      const held = await q.get(1);
      assert.equal(held?.attempts, 2);
      // The old holder knows only its attempt; the upgrade must not make it a stranger.
      await q.complete({ ...(held as NonNullable<typeof held>), leaseUntil: new Date(now + 60_000) }, "done");
      assert.equal((await q.get(1))?.state, "completed");
      const next = await q.reserve();
      assert.equal(next?.payload, "waiting");
      await q.complete(next!);
    },
  );
});

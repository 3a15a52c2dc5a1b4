// A tool must not upgrade a store under the application that runs on it: opened with
// `migrate: false` (as every CLI command opens), an older store is refused and left as it was.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { LATEST_VERSION, MIGRATIONS } from "../../src/backends/sqlite/migrations.js";
import { startDashboard } from "../../src/dashboard/server.js";
import { Spool } from "../../src/index.js";
import { spool as cli } from "../cli/helpers.js";
import { expectCode, T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

/** A database as Spool's first schema version left it, with one pending job. */
function versionOne(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "spool-noupgrade-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "old.db");
  const db = openRawSqlite(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(MIGRATIONS[0]?.sql ?? "");
  db.exec("PRAGMA user_version = 1");
  db.prepare(
    "INSERT INTO spool_jobs (queue, state, run_at, payload, format, max_attempts, created_at) VALUES ('q', 'pending', 0, X'31', 0, 3, 0)",
  ).run();
  db.close();
  return path;
}

function versionOf(path: string): number {
  const db = openRawSqlite(path, { readonly: true });
  try {
    return db.preparePluck("PRAGMA user_version").get() as number;
  } finally {
    db.close();
  }
}

describe("sqlite: opening without upgrading", () => {
  test("migrate: false refuses an older store with STORAGE and leaves it as it was", T, async (t) => {
    const path = versionOne(t);
    await expectCode(() => Spool.open(path, { migrate: false }), "STORAGE", "older Spool", "migrate: false");
    assert.equal(versionOf(path), 1);
    const spool = await Spool.open(path);
    t.after(() => spool.close());
    assert.equal(versionOf(path), LATEST_VERSION, "the application's own open upgrades it");
    assert.equal((await spool.queue("q").size()).pending, 1);
  });

  test(
    "startDashboard(target) neither upgrades a store nor creates one for a mistyped path",
    T,
    async (t) => {
      const path = versionOne(t);
      await expectCode(() => startDashboard(path, { port: 0 }), "STORAGE", "older Spool");
      assert.equal(versionOf(path), 1, "viewing upgraded the store");
      const typo = `${path}.typo`;
      await expectCode(() => startDashboard(typo, { port: 0 }), "STORAGE", "does not exist");
      assert.equal(existsSync(typo), false, "viewing created a database");
    },
  );

  test("spool stats and spool list never upgrade a store", T, async (t) => {
    const path = versionOne(t);
    for (const args of [
      ["stats", path],
      ["list", path, "q"],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 1, `${args[0]} exits 1: ${run.stderr}`);
      assert.match(run.stderr, /older Spool/);
      assert.equal(versionOf(path), 1, `${args[0]} upgraded the store`);
    }
  });
});

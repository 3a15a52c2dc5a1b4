// The triggers that move dependents exist only in a store that has held a link (migration 10):
// every plain job's state change and delete would otherwise run each trigger's WHEN test per
// row. So they must appear with the first link (and not with one rolled back), reach another
// process that opened the store before them, and survive the upgrade of a store with links.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { describe, test } from "node:test";
import { MIGRATIONS } from "../../src/backends/sqlite/migrations.js";
import { Spool, SpoolError } from "../../src/index.js";
import { child, T, waitFor } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

function triggers(path: string): string[] {
  const db = openRawSqlite(path);
  try {
    return (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  } finally {
    db.close();
  }
}

const ALL = ["spool_deps_completed", "spool_deps_dead", "spool_deps_gone", "spool_deps_removed"];

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "spool-dep-triggers-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "jobs.db");
}

describe("sqlite dependency triggers on demand", () => {
  test(
    "a store without links has none; a rolled-back link adds none; the first link adds all",
    T,
    async (t) => {
      const path = tempFile(t);
      const spool = await Spool.open(path);
      t.after(() => spool.close());
      const q = spool.queue("q");
      const plain = await q.add("plain");
      await q.complete((await q.reserve())!);
      assert.deepEqual(triggers(path), []);

      // NOT_FOUND undoes the whole add: the trigger DDL with it.
      await assert.rejects(
        q.add("orphan", { dependsOn: [plain + 1000] }),
        (e: unknown) => e instanceof SpoolError && e.code === "NOT_FOUND",
      );
      assert.deepEqual(triggers(path), []);

      // A keyed add that a live job with its key stands for links nothing: no triggers either.
      const pending = await q.add("pending");
      const holder = await q.add("holder", { key: "k" });
      assert.equal(await q.add("same", { key: "k", dependsOn: [pending] }), holder);
      assert.deepEqual(triggers(path), []);
      for (let i = 0; i < 2; i++) await q.complete((await q.reserve())!);

      const dep = await q.add("dep");
      const child = await q.add("child", { dependsOn: [dep] });
      assert.deepEqual(triggers(path), ALL);
      assert.equal((await q.get(child))?.state, "waiting");
      const job = await q.reserve();
      assert.equal(job?.id, dep);
      await q.complete(job!, "r");
      assert.equal((await q.get(child))?.state, "pending");
    },
  );

  test("a worker in a process opened before the first link releases the dependent", T, async (t) => {
    const path = tempFile(t);
    const spool = await Spool.open(path);
    t.after(() => spool.close());
    const q = spool.queue("q");
    const runs = `${path}.runs`;
    // The child opens the store, prepares its statements and claims a plain job first.
    const kid = child(
      t,
      "work.ts",
      JSON.stringify({ target: path, options: {} }),
      "q",
      runs,
      "1",
      "30000",
      "0",
    );
    await waitFor("the child's worker", () => kid.lines.includes("ready"));
    const warm = await q.add("warm");
    await waitFor("the child ran a plain job", async () => (await q.get(warm))?.state === "completed");
    assert.deepEqual(triggers(path), []);

    const flow = await spool.flow({
      queue: "q",
      payload: "parent",
      children: [{ queue: "q", payload: "kid" }],
    });
    assert.deepEqual(triggers(path), ALL);
    await waitFor(
      "the parent, released by the child process's completion, completed there too",
      async () => (await q.get(flow.id))?.state === "completed",
    );
  });

  // A process of version 9 may still run on the store while this one upgrades it (a rolling
  // upgrade): it adds links believing the triggers there, so a version-9 store keeps them,
  // links or not. One below 9 can have no such process (it knows no dependencies).
  for (const withLinks of [true, false]) {
    test(`a version-9 store ${withLinks ? "with" : "without"} links keeps its triggers`, T, async (t) => {
      const path = tempFile(t);
      const old = openRawSqlite(path);
      old.exec("PRAGMA journal_mode = WAL");
      for (const m of MIGRATIONS.filter((m) => m.version <= 9)) old.exec(m.sql);
      old.exec("PRAGMA user_version = 9");
      const now = Date.now();
      const insert = old.prepare(
        `INSERT INTO spool_jobs (queue, state, run_at, payload, format, max_attempts, created_at, deps_left, dependents)
         VALUES ('q', ?, ?, ?, 0, 3, ?, ?, ?)`,
      );
      insert.run("pending", now, Buffer.from('"dep"'), now, null, withLinks ? 1 : null);
      if (withLinks) {
        insert.run("waiting", now, Buffer.from('"child"'), now, 1, null);
        old.prepare("INSERT INTO spool_deps (job, dep, done) VALUES (2, 1, 0)").run();
      }
      old.close();

      const spool = await Spool.open(path);
      t.after(() => spool.close());
      assert.deepEqual(triggers(path), ALL);
      // What a version-9 process does next, by hand: a link with no trigger created for it.
      if (!withLinks) {
        const v9 = openRawSqlite(path);
        // (Its insert names the payload column by the name schema 11 gave it: an insert of a
        // version-9 process itself now fails, by design, see payload-bodies.test.ts.)
        v9.exec(`INSERT INTO spool_jobs (queue, state, run_at, body, format, max_attempts, created_at, deps_left)
                 VALUES ('q', 'waiting', ${now}, X'226368696c6422', 0, 3, ${now}, 1)`);
        v9.exec("UPDATE spool_jobs SET dependents = 1 WHERE id = 1");
        v9.exec("INSERT INTO spool_deps (job, dep, done) VALUES (2, 1, 0)");
        v9.close();
      }
      const q = spool.queue("q");
      const job = await q.reserve();
      assert.equal(job?.id, 1);
      await q.complete(job!);
      assert.equal((await q.get(2))?.state, "pending");
    });
  }

  test("a version-8 store upgraded has no triggers", T, async (t) => {
    const path = tempFile(t);
    const old = openRawSqlite(path);
    old.exec("PRAGMA journal_mode = WAL");
    for (const m of MIGRATIONS.filter((m) => m.version <= 8)) old.exec(m.sql);
    old.exec("PRAGMA user_version = 8");
    old.close();
    const spool = await Spool.open(path);
    t.after(() => spool.close());
    assert.deepEqual(triggers(path), []);
  });
});

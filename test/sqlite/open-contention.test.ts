// Several processes opening one new file at the same moment: every open waits out the others
// (journal mode, ownership check, migration) within busyTimeout instead of failing BUSY.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LATEST_VERSION } from "../../src/backends/sqlite/migrations.js";
import { Spool } from "../../src/index.js";
import { child } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

const PROCESSES = 6;
const ROUNDS = 15;

test(`${PROCESSES} processes opening one new file at once all open it, ${ROUNDS} times over`, {
  timeout: 180_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-open-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const children = Array.from({ length: PROCESSES }, () => child(t, "open-new.ts"));
  for (const c of children) await c.waitLine(/^ready$/, 60_000);
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const path = join(dir, `new-${round}.db`);
    // One write per child, back to back: the opens start within a millisecond or so.
    for (const c of children) c.send(`open ${round} ${path}`);
    const answers = await Promise.all(children.map((c) => c.waitLine(new RegExp(`^round ${round} `))));
    failures.push(...answers.filter((a) => !a.endsWith(" ok")));

    // The file is a whole Spool database: current schema, WAL, and it works.
    const raw = openRawSqlite(path, { readonly: true });
    try {
      assert.equal(raw.preparePluck("PRAGMA user_version").get(), LATEST_VERSION);
      assert.equal(raw.preparePluck("PRAGMA journal_mode").get(), "wal");
    } finally {
      raw.close();
    }
    const spool = await Spool.open(path, { create: false });
    try {
      const q = spool.queue<number>("check");
      await q.add(round);
      assert.equal((await q.reserve())?.payload, round);
    } finally {
      await spool.close();
    }
  }
  assert.deepEqual(failures, [], `every open succeeds (${PROCESSES * ROUNDS} opens)`);
});

test("opening a current database takes no write lock: it opens while another process writes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-open-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "current.db");
  await (await Spool.open(path)).close();
  const holder = openRawSqlite(path);
  t.after(() => holder.isOpen && holder.close());
  holder.exec("BEGIN IMMEDIATE");
  // busyTimeout 0: any wait for the write lock would fail the open with BUSY.
  const spool = await Spool.open(path, { busyTimeout: 0 });
  assert.deepEqual(await spool.queue("q").size(), {
    waiting: 0,
    pending: 0,
    delayed: 0,
    reserved: 0,
    completed: 0,
    dead: 0,
    total: 0,
    paused: false,
  });
  await spool.close();
  holder.exec("ROLLBACK");
});

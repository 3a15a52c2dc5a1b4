// Every write gets its own full busyTimeout: a write queued while an earlier one is already
// waiting for the lock does not fail when the earlier one times out.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Spool } from "../../src/index.js";
import { caught, clockPast, expectCode, T } from "../conformance/harness.js";
import { openRawSqlite } from "../helpers/raw-sqlite.js";

test("a write queued late in another's lock wait still waits its own busyTimeout", T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spool-busy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "busy.db");
  const busyTimeout = 2000;
  const spool = await Spool.open(path, { busyTimeout });
  t.after(() => spool.close());
  const q = spool.queue<number>("q");
  const holder = openRawSqlite(path);
  t.after(() => holder.isOpen && holder.close());
  holder.exec("BEGIN IMMEDIATE");

  const started = Date.now();
  const first = caught(() => q.add(1));
  // Half-way through the first write's wait, a second write comes in.
  await clockPast(started + busyTimeout / 2);
  const second = q.add(2);
  second.catch(() => {}); // awaited below; this only keeps an early rejection from going unhandled
  await expectCode(() => first.then((e) => Promise.reject(e)), "BUSY");
  // The first write gave up; the lock goes free now, well inside the second write's own wait.
  holder.exec("ROLLBACK");
  holder.close();
  assert.equal(typeof (await second), "number", "the second write waited and went through");
  assert.deepEqual(
    (await q.list({ state: "pending" })).map((j) => j.payload),
    [2],
  );
});

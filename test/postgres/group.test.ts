/*
 * Grouped completions and failures (group.ts): calls issued in the same turn share a statement,
 * yet each gets the outcome it would have had alone, only after its change is committed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PayloadFormat } from "../../src/backend.js";
import { at, fixture, job, pgConfigured, sql, text, until } from "./pg-helpers.js";

const run = pgConfigured("test/postgres/group.test.ts");
const T = { timeout: 30_000 };

describe("postgres backend: grouped held transitions", { skip: !run }, () => {
  test("completions issued together each get their own outcome", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    await b.enqueue("q", [job(1), job(2), job(3), job(4), job(5)]);
    const held = await b.claim("q", 5, 60_000);
    const [j1, j2, j3, j4, j5] = held.map((j) => j.id) as [number, number, number, number, number];
    const result = { bytes: Buffer.from('"r"'), format: PayloadFormat.Json };
    const outcomes = await Promise.all([
      b.complete("q", j1, at(1), result, true),
      b.complete("q", j2, at(2), null, true), // held at attempt 1
      b.complete("q", 999_999, at(null), null, true),
      b.complete("q", j3, at(null), null, true),
      b.complete("q", j3, at(null), null, true), // the same job twice: the second finds it done
      b.complete("other", j4, at(1), null, true), // another queue's name
      b.complete("q", j5, at(1), null, false),
    ]);
    assert.deepEqual(outcomes, ["ok", "lease_lost", "not_found", "ok", "lease_lost", "not_found", "ok"]);
    const done = await b.get("q", j1);
    assert.equal(done?.state, "completed");
    assert.deepEqual(text(done?.result as Uint8Array), "r");
    assert.equal((await b.get("q", j2))?.state, "reserved");
    assert.equal((await b.get("q", j4))?.state, "reserved");
    assert.equal(await b.get("q", j5), null);
  });

  test("a completion resolves only once another connection can see it", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    await b.enqueue(
      "q",
      Array.from({ length: 20 }, (_, i) => job(i)),
    );
    const held = await b.claim("q", 20, 60_000);
    const seen = await Promise.all(
      held.map(async (j) => {
        assert.equal(await b.complete("q", j.id, at(j.attempts), null, true), "ok");
        const rows = await sql<{ state: string }>(`SELECT state FROM "${f.schema}".jobs WHERE id = $1`, [
          j.id,
        ]);
        return rows[0]?.state;
      }),
    );
    assert.deepEqual(new Set(seen), new Set(["completed"]));
  });

  test("a failure the server refuses sinks only its own call", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    await b.enqueue("q", [job(1), job(2), job(3)]);
    const [a, bad, c] = await b.claim("q", 3, 60_000);
    const calls = [
      b.fail("q", a?.id as number, at(1), "boom", 10),
      b.fail("q", bad?.id as number, at(1), "nul \u0000 byte", null),
      b.fail("q", c?.id as number, at(1), "gone", null),
    ];
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(
      settled.map((s) => s.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.equal((await b.get("q", a?.id as number))?.lastError, "boom");
    assert.equal((await b.get("q", c?.id as number))?.state, "dead");
    assert.equal((await b.get("q", bad?.id as number))?.state, "reserved");
  });

  test("a grouped retried failure wakes another process and can be claimed again", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    const other = await f.open();
    await b.enqueue("q", [job(1)]);
    const [j] = await b.claim("q", 1, 60_000);
    let woken = 0;
    other.notifier.subscribe((queue) => {
      if (queue === "q") woken++;
    });
    assert.equal(await b.fail("q", j?.id as number, at(1), "again", 0), "ok");
    await until("the wake-up", async () => (woken > 0 ? true : undefined));
    const again = await until("the retried job", async () => (await b.claim("q", 1, 60_000))[0]);
    assert.equal(again.attempts, 2);
  });

  test("close waits for completions already issued", T, async (t) => {
    const f = fixture(t);
    const b = await f.open();
    await b.enqueue("q", [job(1), job(2)]);
    const held = await b.claim("q", 2, 60_000);
    const pending = held.map((j) => b.complete("q", j.id, at(j.attempts), null, true));
    await b.close();
    assert.deepEqual(await Promise.all(pending), ["ok", "ok"]);
    const rows = await sql(`SELECT 1 FROM "${f.schema}".jobs WHERE state = 'completed'`);
    assert.equal(rows.length, 2);
  });
});

/*
 * A channel receive that meets an undecodable item leaves every good item exactly as it was,
 * stored row for row (times to the microsecond, claims, key), so the order receives serve them
 * in is unchanged; only the undecodable ones change: dead, with their error, their key kept (a dead job blocks no add).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pickyCodec } from "../conformance/codecs.js";
import { expectCode } from "../conformance/harness.js";
import { pgConfigured, sql } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/take-undo.test.ts");
const T = { timeout: 60_000 };

describe("postgres: a receive refused for an undecodable item", { skip: !run }, () => {
  test("leaves the good rows as they were and buries the bad one, its key kept", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<string>("c", { codec: pickyCodec });
    for (const p of ["g1", "g2", "bad", "g3"]) await q.add(p, { key: `k-${p}` });
    // A claim token other than 0 on a good row, which must survive the refused receive too.
    await sql(`UPDATE "${f.schema}".jobs SET claims = 7 WHERE key = 'k-g2'`);
    const rows = async () =>
      new Map(
        (await sql(`SELECT id, to_jsonb(j) AS row FROM "${f.schema}".jobs AS j ORDER BY id`)).map((r) => [
          Number(r.id),
          r.row as Record<string, unknown>,
        ]),
      );
    const before = await rows();
    const [, rx] = await spool.channel<string>("c", { codec: pickyCodec });
    const err = await expectCode(() => rx.recvBatch(10), "DECODE");
    const after = await rows();
    assert.deepEqual([...after.keys()], [...before.keys()], "same ids");
    for (const [id, row] of before) {
      if (row.key !== "k-bad") {
        assert.deepEqual(after.get(id), row, `good job ${id} is unchanged`);
        continue;
      }
      assert.equal(err.jobId, id);
      const dead = after.get(id) as Record<string, unknown>;
      assert.equal(dead.state, "dead");
      assert.equal(dead.key, "k-bad", "a dead undecodable item keeps its key, like any dead job");
      assert.match(String(dead.last_error), /cannot decode bad/);
      assert.notEqual(dead.finished_at, null);
      for (const column of ["payload", "priority", "attempts", "claims", "created_at", "run_at"])
        assert.deepEqual(dead[column], row[column], column);
    }
    assert.deepEqual(await rx.recvBatch(10), ["g1", "g2", "g3"]);
  });

  test("good items due within one ms keep their order", T, async (t) => {
    const f = spoolFixture(t);
    const spool = await f.open();
    const q = spool.queue<string>("c", { codec: pickyCodec });
    const a = await q.add("A");
    const runAt = (await q.get(a))?.runAt as Date;
    // B is due at A's whole ms, so before A whenever A's time has a sub-ms part: make sure.
    await sql(`UPDATE "${f.schema}".jobs SET run_at = run_at + interval '500 microseconds' WHERE id = $1`, [
      a,
    ]);
    await q.add("B", { runAt });
    await q.add("bad", { runAt });
    const [, rx] = await spool.channel<string>("c", { codec: pickyCodec });
    await expectCode(() => rx.recvBatch(10), "DECODE");
    assert.deepEqual(await rx.recvBatch(1), ["B"]);
    assert.deepEqual(await rx.recvBatch(1), ["A"]);
  });
});

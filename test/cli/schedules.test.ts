// `spool schedules`: the stored cron schedules as a table and as JSON, on a SQLite file and
// (with SPOOL_PG_URL) a PostgreSQL schema. Reading them never creates a store.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { seededTargets, spool, tempDir } from "./helpers.js";

const dir = tempDir();

for (const target of seededTargets(dir, "schedules", async (s) => {
  await s.schedule("nightly", "30 3 * * *", {
    queue: "reports",
    tz: "Europe/Berlin",
    payload: { kind: "daily" },
  });
  await s.schedule("ticks", "*/10 * * * * *", { queue: "ticks", catchUp: "all" });
  await s.close();
})) {
  describe(`spool schedules (${target.name})`, () => {
    test("lists every schedule: name, cron, zone, queue, next, last, catch-up", async () => {
      const db = await target.seed();
      const table = await spool(["schedules", db]);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^NAME\s+CRON\s+TZ\s+QUEUE\s+NEXT\s+LAST\s+CATCH-UP$/);
      assert.match(
        lines[1] ?? "",
        /^nightly\s+30 3 \* \* \*\s+Europe\/Berlin\s+reports\s+\d{4}-\d\d-\d\dT0[12]:30:00\.000Z\s+-\s+last$/,
      );
      assert.match(lines[2] ?? "", /^ticks\s+\*\/10 \* \* \* \* \*\s+UTC\s+ticks\s+\S+\s+-\s+all$/);
      const json = await spool(["schedules", db, "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const { schedules } = JSON.parse(json.stdout) as { schedules: Array<Record<string, unknown>> };
      assert.deepEqual(
        schedules.map((s) => [s.name, s.cron, s.tz, s.queue, s.catchUp, s.last]),
        [
          ["nightly", "30 3 * * *", "Europe/Berlin", "reports", "last", null],
          ["ticks", "*/10 * * * * *", "UTC", "ticks", "all", null],
        ],
      );
      assert.deepEqual(schedules[0]?.payload, { kind: "daily" });
      assert.ok(!Number.isNaN(Date.parse(String(schedules[0]?.next))));
    });
  });
}

test("spool schedules on a store without schedules says so; on a missing file, exit 1 and no file", async () => {
  const { Spool } = await import("../../src/index.js");
  const db = join(dir, "none.db");
  await (await Spool.open(db)).close();
  const empty = await spool(["schedules", db]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(empty.stdout, "no schedules\n");
  assert.deepEqual(JSON.parse((await spool(["schedules", db, "--json"])).stdout), { schedules: [] });
  const missing = join(dir, "missing.db");
  const result = await spool(["schedules", missing]);
  assert.equal(result.code, 1);
  assert.equal(existsSync(missing), false);
});

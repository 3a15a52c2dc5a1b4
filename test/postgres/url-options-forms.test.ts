/*
 * A URL's `options` joins Spool's settings in every URL form node-postgres accepts, not only
 * those `new URL()` parses: the empty-host socket form (Google Cloud SQL's
 * `postgres://user:pass@/db?host=/cloudsql/…`), `socket:` URLs, and several `options=`
 * parameters (all kept, in order).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "pg-connection-string";
import type { Connections } from "../../src/backends/postgres/pool.js";
import { splitOptions } from "../../src/backends/postgres/pool.js";
import { PG_URL, pgConfigured } from "./pg-helpers.js";
import { spoolFixture } from "./spool-fixture.js";

const run = pgConfigured("test/postgres/url-options-forms.test.ts");

describe("postgres: the URL's options in every URL form", () => {
  const cases: [string, string, string][] = [
    [
      "postgres://user:pass@/db?host=/cloudsql/proj:region:inst&options=-c%20statement_timeout%3D5000",
      "postgres://user:pass@/db?host=/cloudsql/proj:region:inst",
      "-c statement_timeout=5000",
    ],
    [
      "postgres://user@/test?host=/var/run/postgresql&options=-c%20a%3D1&sslmode=disable",
      "postgres://user@/test?host=/var/run/postgresql&sslmode=disable",
      "-c a=1",
    ],
    [
      "socket:/var/run/postgresql?db=test&options=-c%20statement_timeout%3D5000",
      "socket:/var/run/postgresql?db=test",
      "-c statement_timeout=5000",
    ],
    ["postgres://u:p@h/db?options=-c%20a%3D1&options=-c%20b%3D2", "postgres://u:p@h/db", "-c a=1 -c b=2"],
    [
      "postgres://u:p%23ss%20w@h/db?application_name=a+b&options=-c+x%3D1",
      "postgres://u:p%23ss%20w@h/db?application_name=a+b",
      "-c x=1",
    ],
  ];
  for (const [given, url, userOptions] of cases) {
    test(given, () => {
      assert.deepEqual(splitOptions(given), { url, userOptions });
      // node-postgres reads the rest of the URL as it would have read the original.
      const { options: _dropped, ...rest } = parse(given) as Record<string, unknown>;
      assert.deepEqual({ ...parse(url) }, rest);
    });
  }

  test("a URL without options is left as it is", () => {
    for (const given of ["postgres://u@/db?host=/tmp", "/var/run/postgresql db", "postgres://h/db"]) {
      assert.equal(splitOptions(given).url, given);
    }
  });

  test("Spool's settings hold with the empty-host form", { skip: !run, timeout: 60_000 }, async (t) => {
    const f = spoolFixture(t);
    const server = new URL(PG_URL as string);
    const url =
      `postgres://${server.username}@${server.pathname}?host=${server.hostname}&port=${server.port || 5432}` +
      "&options=-c%20statement_timeout%3D4321&options=-c%20work_mem%3D7MB";
    const spool = await f.open({ busyTimeout: 1234, durability: "off" }, url);
    const pool = (spool.ctx.backend as unknown as { db: Connections }).db.pool;
    const row = (
      await pool.query(`SELECT current_setting('lock_timeout') AS lt, current_setting('synchronous_commit') AS sc,
        current_setting('statement_timeout') AS st, current_setting('work_mem') AS wm,
        current_setting('idle_in_transaction_session_timeout') AS it`)
    ).rows[0];
    assert.deepEqual(row, { lt: "1234ms", sc: "off", st: "4321ms", wm: "7MB", it: "1min" });
  });
});

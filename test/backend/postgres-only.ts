/*
 * What only the PostgreSQL backend has, so it is tested on PostgreSQL alone: its schema (named by
 * the user, created and versioned on a server many processes open at once), the server's
 * address in its errors, and its lock wait. Job transitions are not here: they run on every
 * store (claims.ts, held.ts, enqueue-take.ts, admin.ts). SQLite's own versions of these live in
 * test/sqlite (storage, upgrade, open-contention, busy-per-write).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openPostgresBackend } from "../../src/backends/postgres/index.js";
import { LATEST_VERSION, MIGRATIONS } from "../../src/backends/postgres/migrations.js";
import { SpoolError } from "../../src/errors.js";
import { baseOptions, fixture, job, PG_URL, sql } from "../postgres/pg-helpers.js";
import { T } from "./harness.js";

const code = (c: string) => (e: unknown) => e instanceof SpoolError && e.code === c;

export function postgresOnly(): void {
  describe("postgres only: schema, server errors, locks", () => {
    test("open creates the schema at the latest version; reopening keeps the jobs", T, async (t) => {
      const f = fixture(t);
      const a = await f.open();
      const [id] = (await a.enqueue("q", [job(1)])) ?? [];
      await a.close();
      const rows = await sql<{ v: number }>(`SELECT max(version) AS v FROM "${f.schema}".schema_version`);
      assert.equal(rows[0]?.v, LATEST_VERSION);
      const b = await f.open();
      assert.equal((await b.get("q", id as number))?.id, id);
    });

    test("many processes opening a new schema at once all succeed", T, async (t) => {
      const f = fixture(t);
      const opened = await Promise.all(
        Array.from({ length: 8 }, () => f.open({ crossProcessWakeups: false })),
      );
      assert.equal(opened.length, 8);
      const rows = await sql(`SELECT version FROM "${f.schema}".schema_version`);
      assert.equal(rows.length, MIGRATIONS.length, "one row per migration");
    });

    test("a schema written by a newer version is refused with STORAGE", T, async (t) => {
      const f = fixture(t);
      await (await f.open()).close();
      await sql(`INSERT INTO "${f.schema}".schema_version (version, name) VALUES ($1, 'future')`, [
        LATEST_VERSION + 1,
      ]);
      await assert.rejects(
        f.open(),
        (e: unknown) => code("STORAGE")(e) && /newer/.test((e as Error).message),
      );
    });

    test("a schema name that is not an identifier is refused before any SQL", T, async () => {
      for (const schema of ['x"; DROP TABLE y; --', "", "1abc", "a-b", "a".repeat(64)]) {
        await assert.rejects(
          openPostgresBackend(PG_URL as string, baseOptions(schema)),
          code("INVALID_ARGUMENT"),
        );
      }
    });

    test("an unreachable server is STORAGE and the message never shows the password", T, async () => {
      const url = "postgres://postgres:hunter2secret@127.0.0.1:1/test";
      await assert.rejects(openPostgresBackend(url, baseOptions("spool")), (e: unknown) => {
        assert.ok(code("STORAGE")(e));
        assert.doesNotMatch((e as Error).message, /hunter2secret/);
        assert.match((e as Error).message, /127\.0\.0\.1:1/);
        return true;
      });
    });

    test("a lock held past busyTimeout is BUSY", T, async (t) => {
      const f = fixture(t);
      const b = await f.open({ busyTimeout: 200 });
      const pg = (await import("pg")).default;
      const locker = new pg.Client({ connectionString: PG_URL });
      await locker.connect();
      t.after(() => locker.end());
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${f.schema}".jobs IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await assert.rejects(b.enqueue("q", [job(1)]), code("BUSY"));
      assert.ok(Date.now() - started < 3000);
      await locker.query("ROLLBACK");
      assert.equal((await b.enqueue("q", [job(1)]))?.length, 1);
    });
  });
}

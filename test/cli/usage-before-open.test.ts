/*
 * Option values the library refuses are bad usage found before anything happens (review 12):
 * `spool add` creates no database (file or PostgreSQL schema), and `spool work` neither loads
 * the worker module (its top-level code would run) nor opens the database.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { spool, tempDir } from "./helpers.js";

const dir = tempDir();
let n = 0;
const freshDb = () => join(dir, `u${++n}.db`);

const REFUSED_ADD_OPTIONS = [
  ["--key", ""],
  ["--key", "k".repeat(1100)],
  ["--delay", "1000000000000001"],
  ["--max-attempts", "2147483648"],
];

describe("option values the library refuses are bad usage, before any database is opened", () => {
  test("spool add with a refused option exits 2 and creates no file", async () => {
    for (const option of REFUSED_ADD_OPTIONS) {
      const db = freshDb();
      const r = await spool(["add", db, "emails", "1", ...option]);
      assert.equal(r.code, 2, `${option[0]}: ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /INVALID_ARGUMENT/);
      assert.equal(existsSync(db), false, `add ${option[0]} created ${db}`);
    }
    // The same options, well-formed, are used.
    const db = freshDb();
    const r = await spool(["add", db, "emails", "1", "--key", "k", "--delay", "5s", "--max-attempts", "7"]);
    assert.equal(r.code, 0, r.stderr);
  });

  test("spool add with a refused option creates no PostgreSQL schema", {
    skip: !process.env.SPOOL_PG_URL,
  }, async () => {
    const base = process.env.SPOOL_PG_URL as string;
    const schema = `spool_usage_${randomBytes(4).toString("hex")}`;
    const url = new URL(base);
    url.searchParams.set("schema", schema);
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      for (const option of REFUSED_ADD_OPTIONS) {
        const r = await spool(["add", url.toString(), "emails", "1", ...option]);
        assert.equal(r.code, 2, `${option[0]}: ${r.code} ${r.stderr}`);
        const found = await client.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [
          schema,
        ]);
        assert.equal(found.rowCount, 0, `add ${option[0]} created schema ${schema}`);
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });

  test("spool work with a refused --lease neither loads the module nor opens the database", async () => {
    const marker = join(dir, "module-ran.txt");
    const module = join(dir, "side-effect.mjs");
    writeFileSync(
      module,
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default async () => 1;\n`,
    );
    const db = freshDb();
    assert.equal((await spool(["add", db, "q", "1"])).code, 0);
    const existing = await spool(["work", db, "q", module, "--lease", "0.4"]);
    assert.equal(existing.code, 2, existing.stderr);
    assert.match(existing.stderr, /--lease "0\.4": a worker's lease must be ≥ 500 ms/);
    assert.equal(existsSync(marker), false, "the module's top-level code ran");
    // With no database at all it is still bad usage, not "no database" (exit 1).
    const missing = await spool(["work", freshDb(), "q", module, "--lease", "0.4"]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.doesNotMatch(missing.stderr, /no database/);
    assert.equal(existsSync(marker), false, "the module's top-level code ran");
  });
});

// A command that reads a database never creates one, and never touches a file that is not Spool's.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openRawSqlite } from "../helpers/raw-sqlite.js";
import { spool, tempDir } from "./helpers.js";

const dir = tempDir();
const handler = join(dir, "handler.mjs");
writeFileSync(handler, "export default async () => {};\n");

/** Every command that only reads or repairs, with the arguments it needs after <db>. */
const READERS: [string, string[]][] = [
  ["stats", []],
  ["list", ["q"]],
  ["retry", ["q", "--all"]],
  ["purge", ["q", "--state", "dead"]],
  ["export", ["q"]],
  ["work", ["q", handler]],
  ["dashboard", ["--port", "0"]],
];

function foreignSqlite(name: string, sql: string): string {
  const path = join(dir, name);
  const db = openRawSqlite(path);
  db.exec(sql);
  db.close();
  return path;
}

describe("missing and foreign database files", () => {
  for (const [command, rest] of READERS) {
    test(`${command} on a missing file exits 1, says so, and creates nothing`, async () => {
      const path = join(dir, `missing-${command}.db`);
      const r = await spool([command, path, ...rest]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /no database at .*missing-.*\.db: the file does not exist/);
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(`${path}-wal`), false);
    });
  }

  const foreign: [string, () => string, RegExp][] = [
    [
      "a text file",
      () => {
        const p = join(dir, "notes.txt");
        writeFileSync(p, "these are my notes, not a database\n");
        return p;
      },
      /not a Spool database \(it is not an SQLite file\); it was left untouched/,
    ],
    [
      "another application's SQLite database with a table named spool_jobs",
      () =>
        foreignSqlite(
          "clash.db",
          "CREATE TABLE spool_jobs (title TEXT); INSERT INTO spool_jobs VALUES ('mine');",
        ),
      /is (not a Spool database|an SQLite database but not a Spool one)/,
    ],
    [
      "another application's SQLite database",
      () => foreignSqlite("app.db", "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');"),
      /is not a Spool database \(it has no Spool tables\)/,
    ],
    [
      "an empty file",
      () => {
        const p = join(dir, "empty.db");
        writeFileSync(p, "");
        return p;
      },
      /empty file, not a Spool database/,
    ],
  ];
  for (const [what, make, message] of foreign) {
    test(`stats, list and export on ${what} exit 1 and leave its bytes unchanged`, async () => {
      const path = make();
      const bytes = readFileSync(path);
      for (const args of [
        ["stats", path],
        ["list", path, "q"],
        ["export", path, "q"],
      ]) {
        const r = await spool(args);
        assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.deepEqual(readFileSync(path), bytes);
        assert.equal(existsSync(`${path}-wal`), false);
      }
    });
  }

  test("add and import refuse another application's SQLite database, leaving it unchanged", async () => {
    const path = foreignSqlite("app2.db", "CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (7);");
    const bytes = readFileSync(path);
    for (const [args, input] of [
      [["add", path, "q", "1"], undefined],
      [["import", path, "q"], '{"payload":1}\n'],
    ] as const) {
      const r = await spool(args, input === undefined ? {} : { input });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /is not a Spool database \(it has no Spool tables\)/);
      assert.deepEqual(readFileSync(path), bytes);
    }
  });

  test("add refuses a text file too, leaving it unchanged", async () => {
    const path = join(dir, "readme.txt");
    writeFileSync(path, "hello\n");
    const r = await spool(["add", path, "q", "1"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a Spool database/);
    assert.equal(readFileSync(path, "utf8"), "hello\n");
  });

  test("a directory is refused with a message", async () => {
    const path = join(dir, "a-directory");
    mkdirSync(path);
    const r = await spool(["stats", path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is a directory, not a Spool database file/);
  });

  test("add creates a missing database", async () => {
    const path = join(dir, "new.db");
    const r = await spool(["add", path, "q", '{"first":true}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "1\n");
    assert.equal(existsSync(path), true);
  });
});

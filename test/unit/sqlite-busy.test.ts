// Which SQLite driver errors are "busy" (waited for, then BUSY) and which are STORAGE.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isBusy, translate } from "../../src/backends/sqlite/connection.js";
import { sqliteCode } from "../../src/backends/sqlite/driver.js";
import { SpoolError } from "../../src/errors.js";

const driverError = (code: string) => Object.assign(new Error(`driver says ${code}`), { code });

test("every SQLITE_BUSY and SQLITE_LOCKED variant is busy and becomes BUSY", () => {
  for (const code of [
    "SQLITE_BUSY",
    "SQLITE_BUSY_RECOVERY",
    "SQLITE_BUSY_SNAPSHOT",
    "SQLITE_BUSY_TIMEOUT",
    "SQLITE_LOCKED",
    "SQLITE_LOCKED_SHAREDCACHE",
    "SQLITE_LOCKED_VTAB",
  ]) {
    assert.equal(isBusy(driverError(code)), true, code);
    const translated = translate(driverError(code), "x.db");
    assert.ok(translated instanceof SpoolError && translated.code === "BUSY", code);
  }
});

test("other driver errors are not busy", () => {
  for (const code of ["SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_BUSYNESS", "BUSY"])
    assert.equal(isBusy(driverError(code)), false, code);
  assert.equal(isBusy(undefined), false);
  assert.equal(isBusy(new Error("no code")), false);
});

/** An error as node:sqlite throws it: a generic code, the SQLite extended code as a number. */
const nodeSqliteError = (errcode: number) =>
  Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode, errstr: "x" });

test("node:sqlite's numeric codes are read as better-sqlite3 names them", () => {
  for (const [errcode, name] of [
    [5, "SQLITE_BUSY"],
    [261, "SQLITE_BUSY_RECOVERY"],
    [517, "SQLITE_BUSY_SNAPSHOT"],
    [6, "SQLITE_LOCKED"],
    [262, "SQLITE_LOCKED_SHAREDCACHE"],
  ] as const) {
    assert.equal(sqliteCode(nodeSqliteError(errcode)), name);
    assert.equal(isBusy(nodeSqliteError(errcode)), true, name);
    const translated = translate(nodeSqliteError(errcode), "x.db");
    assert.ok(translated instanceof SpoolError && translated.code === "BUSY", name);
  }
  // SQLITE_FULL (13), and an extended SQLITE_IOERR (10 | 3 << 8): STORAGE, in the family's words.
  const full = translate(nodeSqliteError(13), "x.db");
  assert.ok(full instanceof SpoolError && full.code === "STORAGE" && /disk is full/.test(full.message));
  const io = translate(nodeSqliteError(10 | (3 << 8)), "x.db");
  assert.ok(io instanceof SpoolError && io.code === "STORAGE" && /I\/O error/.test(io.message));
  assert.equal(isBusy(nodeSqliteError(13)), false);
  // Node's other errors (not SQLite's) are left alone.
  assert.equal(sqliteCode(Object.assign(new Error("x"), { code: "ERR_INVALID_STATE" })), undefined);
});

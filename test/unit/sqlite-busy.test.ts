// Which SQLite driver errors are "busy" (waited for, then BUSY) and which are STORAGE.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isBusy, translate } from "../../src/backends/sqlite/connection.js";
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

// A plain SQLite connection for tests that reach under Spool (corrupt a row, hold a lock), on
// the driver Spool itself picks here (SPOOL_SQLITE_DRIVER, else better-sqlite3 where it loads,
// else node:sqlite), so the same tests run on either driver. Waits for locks like a driver's
// default connection does (5 s), unlike Spool's own.
import { type Connection, openConnection } from "../../src/backends/sqlite/driver.js";

export function openRawSqlite(path: string, options: { readonly?: boolean } = {}): Connection {
  const db = openConnection(path, undefined, options.readonly === true);
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

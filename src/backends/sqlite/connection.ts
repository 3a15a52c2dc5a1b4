// Opening a SQLite database for Spool: refuse what is not ours before writing a byte, then set
// the journal and durability, and migrate (migrations.ts). Also the translation of driver errors.
import { closeSync, existsSync, openSync } from "node:fs";
import type { BackendOptions } from "../../backend.js";
import { SpoolError } from "../../errors.js";
import { olderStoreError } from "../shared.js";
import { type Connection, openConnection, sqliteCode } from "./driver.js";
import { checkOwnership, LATEST_VERSION, migrate } from "./migrations.js";

const STORAGE_WORDS: Record<string, string> = {
  SQLITE_FULL: "the disk is full",
  SQLITE_NOTADB: "the file is not a SQLite database",
  SQLITE_CORRUPT: "the database file is corrupt",
  SQLITE_CANTOPEN: "the database file cannot be opened (check the path and permissions)",
  SQLITE_READONLY: "the database is read-only",
  SQLITE_PERM: "permission denied",
  SQLITE_IOERR: "an I/O error occurred",
};

/**
 * Another connection holds a lock we need: worth waiting for. Both drivers report extended codes,
 * so every variant counts (SQLITE_BUSY_RECOVERY while another process rebuilds the WAL index,
 * SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_TIMEOUT, SQLITE_LOCKED_SHAREDCACHE, ...).
 */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  if (code === undefined) return false;
  return (
    code === "SQLITE_BUSY" ||
    code === "SQLITE_LOCKED" ||
    code.startsWith("SQLITE_BUSY_") ||
    code.startsWith("SQLITE_LOCKED_")
  );
}

/** Driver errors become SpoolErrors a user can act on; ours pass through. */
export function translate(error: unknown, path: string): unknown {
  if (error instanceof SpoolError) return error;
  const code = sqliteCode(error);
  if (code === undefined) return error;
  if (isBusy(error)) {
    return new SpoolError(
      "BUSY",
      `database ${path} is still locked by another connection after the busy timeout`,
      {
        cause: error,
      },
    );
  }
  const family = Object.keys(STORAGE_WORDS).find((k) => code === k || code.startsWith(`${k}_`));
  const words = family === undefined ? `SQLite error ${code}` : STORAGE_WORDS[family];
  return new SpoolError("STORAGE", `${path}: ${words} (${(error as Error).message})`, { cause: error });
}

/**
 * Opens `path` and makes it a Spool database, or refuses with STORAGE leaving the file as it
 * was: a newer Spool's database, a non-SQLite file, or a database whose tables clash with ours.
 *
 * Several processes may open one new file at the same moment: switching it to WAL needs an
 * exclusive lock, and a reader can meet another process's WAL recovery. So every step that
 * touches the file waits for the lock like any write does, asynchronously, and the whole open
 * gives up with BUSY only once `busyTimeout` has passed.
 */
export async function openDatabase(path: string, options: BackendOptions): Promise<Connection> {
  const memory = path === ":memory:";
  if (!memory && !options.create && !existsSync(path)) {
    throw new SpoolError("STORAGE", `no Spool database at ${path}: the file does not exist`);
  }
  if (!memory && !existsSync(path)) {
    // Create the file ourselves so its mode is private; SQLite gives -wal/-shm the same mode.
    try {
      closeSync(openSync(path, "wx", options.fileMode));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new SpoolError("STORAGE", `cannot create database file ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }
  let db: Connection;
  try {
    // No driver busy wait: it would block the event loop. Busy steps are retried asynchronously.
    db = openConnection(path, options.driver);
  } catch (error) {
    throw translate(error, path);
  }
  const deadline = Date.now() + options.busyTimeout;
  const step = <T>(run: () => T) => whenUnlocked(run, deadline);
  try {
    const version = await step(() => checkOwnership(db, path));
    if (version === 0 && !options.create && !memory) {
      throw new SpoolError("STORAGE", `${path} is not a Spool database (it has no Spool tables)`);
    }
    // SQLite's own checkpoint interval (1000 pages) is kept on purpose: larger ones measured
    // ~15% faster per job but stall a commit for tens of ms when they run (tail latency).
    if (!memory) await step(() => db.exec("PRAGMA journal_mode = WAL"));
    await step(() => db.exec(`PRAGMA synchronous = ${options.durability.toUpperCase()}`));
    // SQLite's own page cache size (2 MiB) is kept on purpose: a claim touches the head of the
    // ready index and the rows there, few pages even a million jobs deep. 64 MiB measured the
    // same rates at 100k and 1M deep and cost ~70 MB RSS more there, and as much again once
    // large payloads' overflow pages filled it.
    // better-sqlite3 builds SQLite with temporary tables on disk. A claim or take of several
    // jobs (`id IN (SELECT … LIMIT n)`) builds one for its id list: on disk that measured
    // 0.6–1.1 ms a claim once the connection's cache was warm, against 30–70 µs in memory. What
    // goes there is small (ids, a sort of a page of rows), never payloads in bulk.
    await step(() => db.exec("PRAGMA temp_store = MEMORY"));
    // A current schema needs no write lock at all: opening then never waits for writers.
    if (version > 0 && version < LATEST_VERSION && !options.migrate) {
      throw olderStoreError(path, version, LATEST_VERSION);
    }
    if (version < LATEST_VERSION) await step(() => migrate(db));
    return db;
  } catch (error) {
    db.close();
    throw translate(error, path);
  }
}

/** Runs `run` again while it meets another connection's lock, until `deadline` (epoch ms). */
async function whenUnlocked<T>(run: () => T, deadline: number): Promise<T> {
  for (;;) {
    try {
      return run();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      // A little jitter keeps processes that collided from colliding again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4));
    }
  }
}

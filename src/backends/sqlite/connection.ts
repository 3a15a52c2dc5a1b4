// Opening a SQLite database for Spool: refuse what is not ours before writing a byte, then set
// the journal and durability, and migrate. Also the translation of driver errors.
import { closeSync, existsSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import type { BackendOptions } from "../../backend.js";
import { SpoolError } from "../../errors.js";
import { MIGRATIONS, SPOOL_TABLES } from "./migrations.js";

type SqliteDatabase = Database.Database;

const STORAGE_WORDS: Record<string, string> = {
  SQLITE_FULL: "the disk is full",
  SQLITE_NOTADB: "the file is not a SQLite database",
  SQLITE_CORRUPT: "the database file is corrupt",
  SQLITE_CANTOPEN: "the database file cannot be opened (check the path and permissions)",
  SQLITE_READONLY: "the database is read-only",
  SQLITE_PERM: "permission denied",
  SQLITE_IOERR: "an I/O error occurred",
};

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT" || code === "SQLITE_LOCKED";
}

/** Driver errors become SpoolErrors a user can act on; ours pass through. */
export function translate(error: unknown, path: string): unknown {
  if (error instanceof SpoolError) return error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return error;
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
 */
export function openDatabase(path: string, options: BackendOptions): SqliteDatabase {
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
  let db: SqliteDatabase;
  try {
    // No driver busy wait: it would block the event loop. Busy writes are retried asynchronously.
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw translate(error, path);
  }
  try {
    const version = checkOwnership(db, path);
    if (version === 0 && !options.create && !memory) {
      throw new SpoolError("STORAGE", `${path} is not a Spool database (it has no Spool tables)`);
    }
    // SQLite's own checkpoint interval (1000 pages) is kept on purpose: larger ones measured
    // ~15% faster per job but stall a commit for tens of ms when they run (tail latency).
    if (!memory) db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.durability.toUpperCase()}`);
    // A deep queue's hot pages (the ready index, recent rows) should stay in memory: 64 MiB at
    // most, allocated only as pages are used (SQLite's default is 2 MiB).
    db.pragma("cache_size = -65536");
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw translate(error, path);
  }
}

/** Refuses a database that is not ours; returns its schema version (0: not yet a Spool one). */
function checkOwnership(db: SqliteDatabase, path: string): number {
  const version = db.pragma("user_version", { simple: true }) as number;
  const tables = db
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${SPOOL_TABLES.map(() => "?").join(",")})`,
    )
    .all(...SPOOL_TABLES) as { name: string }[];
  if (version > MIGRATIONS.length) {
    throw new SpoolError(
      "STORAGE",
      `${path} was written by a newer Spool (schema version ${version}; this one knows up to ${MIGRATIONS.length}): upgrade Spool to open it`,
    );
  }
  if (version === 0 && tables.length > 0) {
    throw new SpoolError(
      "STORAGE",
      `${path} is not a Spool database: it already has a table named ${tables[0]?.name} of another application`,
    );
  }
  if (version > 0 && tables.length === 0) {
    throw new SpoolError(
      "STORAGE",
      `${path} is not a Spool database: another application set its user_version to ${version}`,
    );
  }
  return version;
}

function migrate(db: SqliteDatabase, path: string): void {
  const apply = db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const current = db.pragma("user_version", { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      apply.immediate();
      return;
    } catch (error) {
      // Opening is rare and synchronous by nature; a short blocking wait here is acceptable.
      if (!isBusy(error) || Date.now() > deadline) throw translate(error, path);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

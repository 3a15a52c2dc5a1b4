// The composition root: the one module that names the backends. It reads what `Spool.open` was
// given (a target and options) and opens the backend that target names; nothing else in the
// core imports a backend, and each is loaded only when used (so `pg` only for PostgreSQL).
import type AppDatabase from "better-sqlite3";
import type { Backend, BackendOptions } from "./backend.js";
import { systemClock } from "./clock.js";
import { SpoolError, show } from "./errors.js";
import { redactTarget } from "./redact.js";
import type { SqliteDatabase } from "./types.js";
import { checkDuration, checkInteger, checkKnownKeys, checkObject } from "./validate.js";

const DRIVERS = ["better-sqlite3", "node:sqlite", "bun:sqlite"] as const;

const DURABILITIES = ["off", "normal", "full", "extra"] as const;
const OPTION_KEYS = [
  "durability",
  "busyTimeout",
  "maxPayloadBytes",
  "fileMode",
  "schema",
  "poolSize",
  "crossProcessWakeups",
  "create",
  "migrate",
  "logger",
  "driver",
] as const;

/*
 * The one internal seam for time, `clock`: a function returning ms since the epoch that the
 * SQLite backend measures leases and run times on (PostgreSQL uses the server's clock and
 * ignores it). Not in SpoolOptions, nor named to users among the known options: only tests
 * pass it, to move time (the model test) or skew a process's clock (the retention and
 * server-clock tests).
 */

/** Whether `target` names a PostgreSQL database (else it is a SQLite file or ":memory:"). */
export function isPostgresTarget(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * A postgres URL with its `?schema=` split off (node-postgres would not understand it), as the
 * CLI and the dashboard read a target; null when the URL does not parse.
 */
export function splitSchemaParam(target: string): { url: string; schema: string | null } | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const schema = url.searchParams.get("schema");
  url.searchParams.delete("schema");
  return { url: url.toString(), schema };
}

/**
 * A postgres URL's `?schema=`, as the library reads it (the same as the CLI and the dashboard):
 * the URL without it, and the options with it as `schema`; null when the URL names none. A
 * URL and an option naming two different schemas are refused: one of them would be ignored.
 */
function schemaFromUrl(target: string, options: unknown): { url: string; options: object } | null {
  const split = splitSchemaParam(target);
  if (split === null || split.schema === null) return null;
  const given = checkObject(options, "Spool.open options");
  if (given.schema !== undefined && given.schema !== split.schema) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `the URL names schema ${show(split.schema)} and the options schema ${show(given.schema)}: name one`,
    );
  }
  return { url: split.url, options: { ...given, schema: split.schema } };
}

/**
 * The PostgreSQL backend, whose driver `pg` is an optional peer dependency: when it is not
 * installed, a STORAGE error says so and how to fix it (instead of Node's "cannot find package").
 */
async function loadPostgres(target: string): Promise<typeof import("./backends/postgres/index.js")> {
  try {
    return await import("./backends/postgres/index.js");
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    if (e.code === "ERR_MODULE_NOT_FOUND" && /['"]pg['"]/.test(String(e.message))) {
      throw new SpoolError(
        "STORAGE",
        `cannot open ${show(redactTarget(target))}: PostgreSQL needs the "pg" package, an optional peer dependency of spool that is not installed (npm install pg)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Spool.open's options, checked, with the defaults applied. */
function resolveOptions(raw: unknown): BackendOptions & { maxPayloadBytes: number } {
  const o = checkObject(raw, "Spool.open options");
  const { clock: _clock, ...named } = o;
  checkKnownKeys(named, OPTION_KEYS, "Spool.open");
  const durability = o.durability ?? "full";
  if (!DURABILITIES.includes(durability as (typeof DURABILITIES)[number])) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `durability must be "off", "normal", "full" or "extra", got ${show(durability)}`,
    );
  }
  const schema = o.schema ?? "spool";
  if (typeof schema !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `schema must be a lowercase identifier (a–z, 0–9, _; 63 at most), got ${show(schema)}`,
    );
  }
  if (o.crossProcessWakeups !== undefined && typeof o.crossProcessWakeups !== "boolean") {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `crossProcessWakeups must be a boolean, got ${show(o.crossProcessWakeups)}`,
    );
  }
  if (o.create !== undefined && typeof o.create !== "boolean") {
    throw new SpoolError("INVALID_ARGUMENT", `create must be a boolean, got ${show(o.create)}`);
  }
  if (o.migrate !== undefined && typeof o.migrate !== "boolean") {
    throw new SpoolError("INVALID_ARGUMENT", `migrate must be a boolean, got ${show(o.migrate)}`);
  }
  if (o.driver !== undefined && !DRIVERS.includes(o.driver as (typeof DRIVERS)[number])) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `driver must be "better-sqlite3", "node:sqlite" or "bun:sqlite", got ${show(o.driver)}`,
    );
  }
  if (o.clock !== undefined && typeof o.clock !== "function") {
    throw new SpoolError("INVALID_ARGUMENT", `clock must be a function returning ms, got ${show(o.clock)}`);
  }
  return {
    durability: durability as BackendOptions["durability"],
    busyTimeout: o.busyTimeout === undefined ? 5000 : checkDuration(o.busyTimeout, "busyTimeout"),
    maxPayloadBytes:
      o.maxPayloadBytes === undefined
        ? 64 * 1024 * 1024
        : checkInteger(o.maxPayloadBytes, "maxPayloadBytes", 1),
    fileMode: o.fileMode === undefined ? 0o600 : checkInteger(o.fileMode, "fileMode", 0),
    schema,
    ...(o.poolSize === undefined ? {} : { poolSize: checkInteger(o.poolSize, "poolSize", 1) }),
    crossProcessWakeups: (o.crossProcessWakeups as boolean | undefined) ?? true,
    create: (o.create as boolean | undefined) ?? true,
    migrate: (o.migrate as boolean | undefined) ?? true,
    clock: (o.clock as BackendOptions["clock"] | undefined) ?? systemClock,
    ...(o.driver === undefined ? {} : { driver: o.driver as (typeof DRIVERS)[number] }),
  };
}

/** Whether `target` looks like a better-sqlite3 Database (Spool.open(db)). */
function isDatabaseLike(target: unknown): target is SqliteDatabase {
  const t = target as Partial<Record<keyof SqliteDatabase, unknown>> | null;
  return (
    typeof t === "object" &&
    t !== null &&
    typeof t.prepare === "function" &&
    typeof t.transaction === "function" &&
    typeof t.name === "string" &&
    typeof t.open === "boolean" &&
    typeof t.inTransaction === "boolean"
  );
}

/**
 * The file of an application's Database that Spool can share: open, writable, on a file (a
 * second connection cannot see a ":memory:" or temporary database).
 */
function sharedFile(db: SqliteDatabase): string {
  const named = `the Database ${show(db.name)}`;
  if (!db.open) throw new SpoolError("INVALID_ARGUMENT", `${named} is closed: open Spool on an open one`);
  // The file the connection really has open, as SQLite resolved it when it opened it: its name
  // may be relative to a working directory the process has left since.
  let rows: unknown;
  try {
    rows = (db.prepare("PRAGMA database_list") as { all(): unknown }).all();
  } catch (error) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `${named} cannot say which file it has open: is it a better-sqlite3 Database?`,
      {
        cause: error,
      },
    );
  }
  const main = Array.isArray(rows)
    ? (rows.find((row) => (row as { name?: unknown } | null)?.name === "main") as
        | { file?: unknown }
        | undefined)
    : undefined;
  const file = typeof main?.file === "string" ? main.file : "";
  if (db.memory || file === "") {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `${named} is in memory: Spool shares a Database through its file (a second connection cannot see an in-memory one); open Spool on ":memory:" instead, without transactional adds`,
    );
  }
  if (db.readonly)
    throw new SpoolError("INVALID_ARGUMENT", `${named} is read-only: adds could not be written`);
  return file;
}

/**
 * Opens the backend `target` names, with `options` checked first (nothing is opened when they
 * are wrong). Returns it with the payload limit the core enforces. A better-sqlite3 Database
 * opens the SQLite backend on its file, with that connection kept for `addSync`.
 */
export async function openBackend(
  target: unknown,
  options: unknown,
): Promise<{ backend: Backend; maxPayloadBytes: number; shown: string }> {
  if (isDatabaseLike(target)) {
    const path = sharedFile(target);
    const resolved = resolveOptions(options);
    // The application's Database is better-sqlite3's SQLite: Spool's own connection to the same
    // file must be too. Two SQLite libraries in one process each take the other's connections
    // for another process's and lose commits (see openConnection in driver.ts).
    if (resolved.driver !== undefined && resolved.driver !== "better-sqlite3") {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `Spool.open(db) on a better-sqlite3 Database works through better-sqlite3: driver "${resolved.driver}" cannot share its file in one process`,
      );
    }
    resolved.driver = "better-sqlite3";
    const { SqliteBackend } = await import("./backends/sqlite/index.js");
    const backend = await SqliteBackend.open(path, resolved, target as unknown as AppDatabase.Database);
    return { backend, maxPayloadBytes: resolved.maxPayloadBytes, shown: path };
  }
  if (typeof target !== "string" || target.length === 0) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `target must be a file path, ":memory:", a postgres:// URL or an open better-sqlite3 Database, got ${show(target)}`,
    );
  }
  const postgres = isPostgresTarget(target);
  const named = postgres ? schemaFromUrl(target, options) : null;
  const resolved = resolveOptions(named === null ? options : named.options);
  let backend: Backend;
  if (postgres) {
    const { openPostgresBackend } = await loadPostgres(target);
    backend = await openPostgresBackend(named === null ? target : named.url, resolved);
  } else {
    const { openSqliteBackend } = await import("./backends/sqlite/index.js");
    backend = await openSqliteBackend(target, resolved);
  }
  return { backend, maxPayloadBytes: resolved.maxPayloadBytes, shown: target };
}

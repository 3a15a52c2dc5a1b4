// The SQLite driver seam: the few calls the backend makes of a SQLite binding, over
// better-sqlite3 (a native addon, the default on Node where it loads), node:sqlite (built into
// Node 22.16+ and 24, no native build at all) or bun:sqlite (built into Bun, the default there).
// On better-sqlite3 the seam hands back the driver's own statements, so the hot paths cost
// nothing more than before; on node:sqlite and bun:sqlite a thin wrapper adds the row modes
// better-sqlite3 has (arrays, the first column) and returns BLOBs as Buffers.

import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve as resolvePath } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { SpoolError, show } from "../../errors.js";

export const DRIVERS = ["better-sqlite3", "node:sqlite", "bun:sqlite"] as const;
export type DriverName = (typeof DRIVERS)[number];

/** What a write statement reports. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/**
 * A prepared statement. Values bind as every driver binds them: positional values, or one object
 * whose keys name the statement's `@name`/`:name` parameters (keys it does not use are ignored).
 */
export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** One open SQLite connection, whichever driver opened it. */
export interface Connection {
  readonly driver: DriverName;
  readonly isOpen: boolean;
  readonly inTransaction: boolean;
  /** Rows as objects keyed by column name. */
  prepare(sql: string): Statement;
  /** Rows as arrays of their columns in the statement's order (cheaper than an object a row). */
  prepareRaw(sql: string): Statement;
  /** Each row as its first column's value. */
  preparePluck(sql: string): Statement;
  exec(sql: string): void;
  /**
   * `fn` in a transaction: BEGIN (DEFERRED or IMMEDIATE) when none is open, committed when `fn`
   * returns and rolled back when it throws; inside an open one, a savepoint instead.
   */
  transaction<T>(fn: () => T, mode?: "deferred" | "immediate"): T;
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// better-sqlite3: its Database and Statements already have this shape.

type BetterDatabase = BetterSqlite3.Database;
type BetterConstructor = typeof BetterSqlite3;

class BetterSqliteConnection implements Connection {
  readonly driver = "better-sqlite3";
  constructor(readonly db: BetterDatabase) {}
  get isOpen(): boolean {
    return this.db.open;
  }
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }
  prepare(sql: string): Statement {
    return this.db.prepare(sql);
  }
  prepareRaw(sql: string): Statement {
    return this.db.prepare(sql).raw(true);
  }
  preparePluck(sql: string): Statement {
    return this.db.prepare(sql).pluck();
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  transaction<T>(fn: () => T, mode: "deferred" | "immediate" = "deferred"): T {
    const t = this.db.transaction(fn);
    return mode === "immediate" ? t.immediate() : t.deferred();
  }
  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// node:sqlite. Typed here by the little we use: @types/node 20 does not declare the module.

interface NodeStatementSync {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  setReturnArrays?(enabled: boolean): void;
  setAllowUnknownNamedParameters?(enabled: boolean): void;
}

interface NodeDatabaseSync {
  readonly isOpen: boolean;
  readonly isTransaction: boolean;
  prepare(sql: string): NodeStatementSync;
  exec(sql: string): void;
  close(): void;
}

interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { timeout?: number; readOnly?: boolean }) => NodeDatabaseSync;
}

/** node:sqlite returns BLOBs as Uint8Array: the same bytes as a Buffer, not copied. */
function asBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function objectRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const value = row[key];
    if (value instanceof Uint8Array) row[key] = asBuffer(value);
  }
  return row;
}

function arrayRow(row: unknown[]): unknown[] {
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (value instanceof Uint8Array) row[i] = asBuffer(value);
  }
  return row;
}

function firstColumn(row: unknown[]): unknown {
  const value = row[0];
  return value instanceof Uint8Array ? asBuffer(value) : value;
}

/**
 * better-sqlite3 binds the values of an array argument in order; node:sqlite would take an
 * array for an object of named values. So arrays are spread (one many-row insert binds one).
 */
function bindable(params: unknown[]): unknown[] {
  for (const param of params) if (Array.isArray(param)) return params.flat();
  return params;
}

/** Row modes of a NodeStatement. */
const Mode = { Objects: 0, Arrays: 1, Pluck: 2 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

class NodeStatement implements Statement {
  private readonly shape: (row: never) => unknown;

  constructor(
    private readonly statement: NodeStatementSync,
    mode: Mode,
  ) {
    // better-sqlite3 ignores the keys of a bound object that the statement does not name.
    statement.setAllowUnknownNamedParameters?.(true);
    if (mode !== Mode.Objects) statement.setReturnArrays?.(true);
    this.shape = mode === Mode.Objects ? objectRow : mode === Mode.Arrays ? arrayRow : firstColumn;
  }

  run(...params: unknown[]): RunResult {
    return this.statement.run(...bindable(params));
  }

  get(...params: unknown[]): unknown {
    const row = this.statement.get(...bindable(params));
    return row === undefined ? undefined : this.shape(row as never);
  }

  all(...params: unknown[]): unknown[] {
    const rows = this.statement.all(...bindable(params));
    for (let i = 0; i < rows.length; i++) rows[i] = this.shape(rows[i] as never);
    return rows;
  }
}

class NodeSqliteConnection implements Connection {
  readonly driver = "node:sqlite";
  private depth = 0;
  constructor(readonly db: NodeDatabaseSync) {}
  get isOpen(): boolean {
    return this.db.isOpen;
  }
  get inTransaction(): boolean {
    // node:sqlite's getter throws once the database is closed; better-sqlite3's says false.
    return this.db.isOpen && this.db.isTransaction;
  }
  prepare(sql: string): Statement {
    return new NodeStatement(this.db.prepare(sql), Mode.Objects);
  }
  prepareRaw(sql: string): Statement {
    return new NodeStatement(this.db.prepare(sql), Mode.Arrays);
  }
  preparePluck(sql: string): Statement {
    return new NodeStatement(this.db.prepare(sql), Mode.Pluck);
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  transaction<T>(fn: () => T, mode: "deferred" | "immediate" = "deferred"): T {
    if (this.db.isTransaction) {
      const name = `spool_${++this.depth}`;
      this.db.exec(`SAVEPOINT ${name}`);
      try {
        const result = fn();
        this.db.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        // The savepoint may already be gone if SQLite rolled the transaction back itself.
        if (this.db.isTransaction) {
          this.db.exec(`ROLLBACK TO ${name}`);
          this.db.exec(`RELEASE ${name}`);
        }
        throw error;
      } finally {
        this.depth--;
      }
    }
    this.db.exec(mode === "immediate" ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }
  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// bun:sqlite (Bun's own SQLite). Typed here by the little we use: Spool does not depend on
// bun-types. Opened with `strict: true`, so an object's keys bind `:name`/`@name` parameters
// without their prefix (keys the statement does not name are ignored, a missing one throws),
// as better-sqlite3 binds them. Its errors name the SQLite code as better-sqlite3 does
// (`code: "SQLITE_BUSY_SNAPSHOT"`).

interface BunStatement {
  run(...params: unknown[]): RunResult;
  /** The first row, or null when there is none. */
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Every row as an array of its columns. */
  values(...params: unknown[]): unknown[][];
}

interface BunDatabase {
  readonly inTransaction: boolean;
  prepare(sql: string): BunStatement;
  exec(sql: string): void;
  transaction<F extends (...args: never[]) => unknown>(fn: F): { deferred: F; immediate: F };
  /** `true`: finalizes the statements and closes now (false would leave the file open until they are collected). */
  close(throwOnError?: boolean): void;
}

interface BunSqliteModule {
  Database: new (
    path: string,
    options: { strict: boolean; readonly?: boolean; readwrite?: boolean; create?: boolean },
  ) => BunDatabase;
}

class BunObjectStatement implements Statement {
  constructor(private readonly statement: BunStatement) {}
  run(...params: unknown[]): RunResult {
    return this.statement.run(...bindable(params));
  }
  get(...params: unknown[]): unknown {
    const row = this.statement.get(...bindable(params));
    return row === null ? undefined : objectRow(row as Record<string, unknown>);
  }
  all(...params: unknown[]): unknown[] {
    const rows = this.statement.all(...bindable(params));
    for (let i = 0; i < rows.length; i++) objectRow(rows[i] as Record<string, unknown>);
    return rows;
  }
}

/**
 * Arrays and the first column come from `values()`, which has no one-row form: `get` takes its
 * first row. The backend's `get`s of these modes are one-row statements (LIMIT 1, a PRAGMA, an
 * UPDATE … RETURNING of one job), which SQLite runs to the end on the first step anyway.
 */
class BunValuesStatement implements Statement {
  private readonly shape: (row: unknown[]) => unknown;
  constructor(
    private readonly statement: BunStatement,
    pluck: boolean,
  ) {
    this.shape = pluck ? firstColumn : arrayRow;
  }
  run(...params: unknown[]): RunResult {
    return this.statement.run(...bindable(params));
  }
  get(...params: unknown[]): unknown {
    const row = this.statement.values(...bindable(params))[0];
    return row === undefined ? undefined : this.shape(row);
  }
  all(...params: unknown[]): unknown[] {
    const rows: unknown[] = this.statement.values(...bindable(params));
    for (let i = 0; i < rows.length; i++) rows[i] = this.shape(rows[i] as unknown[]);
    return rows;
  }
}

class BunSqliteConnection implements Connection {
  readonly driver = "bun:sqlite";
  private open = true;
  constructor(readonly db: BunDatabase) {}
  get isOpen(): boolean {
    return this.open;
  }
  get inTransaction(): boolean {
    // Bun's getter throws once the database is closed; better-sqlite3's says false.
    return this.open && this.db.inTransaction;
  }
  prepare(sql: string): Statement {
    return new BunObjectStatement(this.db.prepare(sql));
  }
  prepareRaw(sql: string): Statement {
    return new BunValuesStatement(this.db.prepare(sql), false);
  }
  preparePluck(sql: string): Statement {
    return new BunValuesStatement(this.db.prepare(sql), true);
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  transaction<T>(fn: () => T, mode: "deferred" | "immediate" = "deferred"): T {
    // Bun's transaction is better-sqlite3's: BEGIN, or a savepoint inside an open one.
    const t = this.db.transaction(fn);
    return mode === "immediate" ? t.immediate() : t.deferred();
  }
  close(): void {
    if (!this.open) return;
    this.db.close(true);
    this.open = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading and choosing.

const require = createRequire(import.meta.url);

/** better-sqlite3's constructor, or the error that kept it from loading (cached). */
let better: { ok: BetterConstructor } | { error: unknown } | undefined;

/**
 * better-sqlite3, once it has really opened a database: the package loads its native addon only
 * at the first `new Database`, so an addon built for another Node (or none at all) shows there.
 */
function loadBetter(): { ok: BetterConstructor } | { error: unknown } {
  if (better === undefined) {
    try {
      const Database = require("better-sqlite3") as BetterConstructor;
      new Database(":memory:").close();
      better = { ok: Database };
    } catch (error) {
      better = { error };
    }
  }
  return better;
}

let nodeSqlite: { ok: NodeSqliteModule } | { error: string } | undefined;

/** node:sqlite when this Node has it (with what Spool needs of it), else why not (cached). */
function loadNodeSqlite(): { ok: NodeSqliteModule } | { error: string } {
  nodeSqlite ??= probeNodeSqlite();
  return nodeSqlite;
}

function probeNodeSqlite(): { ok: NodeSqliteModule } | { error: string } {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const mod = getBuiltin?.("node:sqlite") as NodeSqliteModule | undefined;
  if (mod === undefined) {
    return { error: `Node ${process.version} has no node:sqlite (it needs Node 22.16 or later, or 24)` };
  }
  const probe = new mod.DatabaseSync(":memory:");
  try {
    const statement = probe.prepare("SELECT 1");
    const missing = [
      typeof statement.setReturnArrays === "function" ? null : "StatementSync.setReturnArrays",
      typeof statement.setAllowUnknownNamedParameters === "function"
        ? null
        : "StatementSync.setAllowUnknownNamedParameters",
      typeof probe.isTransaction === "boolean" ? null : "DatabaseSync.isTransaction",
    ].filter((name) => name !== null);
    if (missing.length > 0) {
      return {
        error: `the node:sqlite of Node ${process.version} lacks ${missing.join(", ")} (it needs Node 22.16 or later, or 24)`,
      };
    }
  } finally {
    probe.close();
  }
  return { ok: mod };
}

let bunSqlite: { ok: BunSqliteModule } | { error: string } | undefined;

/** bun:sqlite when this process runs on Bun, else why not (cached). Never loaded on Node. */
function loadBunSqlite(): { ok: BunSqliteModule } | { error: string } {
  if (bunSqlite === undefined) {
    const bun = process.versions.bun;
    if (bun === undefined) {
      bunSqlite = { error: `bun:sqlite is built into Bun only, and this is Node ${process.version}` };
    } else {
      try {
        // Through the runtime's loader at run time: a static import would fail on Node.
        bunSqlite = { ok: require("bun:sqlite") as BunSqliteModule };
      } catch (error) {
        bunSqlite = {
          error: `Bun ${bun} does not load bun:sqlite (${(error as Error)?.message ?? String(error)})`,
        };
      }
    }
  }
  return bunSqlite;
}

/** Each driver, and why this process cannot load it (null: it loads). For the benchmark. */
export function driverStatus(): Array<{ driver: DriverName; reason: string | null }> {
  const b = loadBetter();
  const n = loadNodeSqlite();
  const s = loadBunSqlite();
  return [
    {
      driver: "better-sqlite3",
      reason: "ok" in b ? null : (((b.error as Error)?.message ?? String(b.error)).split("\n")[0] ?? ""),
    },
    { driver: "node:sqlite", reason: "ok" in n ? null : n.error },
    { driver: "bun:sqlite", reason: "ok" in s ? null : s.error },
  ];
}

/** Checks a `driver` value (Spool.open's option, or SPOOL_SQLITE_DRIVER). */
export function checkDriver(value: unknown, what: string): DriverName {
  if (!DRIVERS.includes(value as DriverName)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `${what} must be "better-sqlite3", "node:sqlite" or "bun:sqlite", got ${show(value)}`,
    );
  }
  return value as DriverName;
}

type Chosen = { better: BetterConstructor } | { node: NodeSqliteModule } | { bun: BunSqliteModule };

/**
 * The driver to open with: the one asked for (the option, else the SPOOL_SQLITE_DRIVER
 * environment variable), else on Bun bun:sqlite (better-sqlite3 cannot load there), else
 * better-sqlite3 where it loads, else node:sqlite.
 */
function choose(asked: DriverName | undefined): Chosen {
  const env = process.env.SPOOL_SQLITE_DRIVER;
  const wanted =
    asked ?? (env === undefined || env === "" ? undefined : checkDriver(env, "SPOOL_SQLITE_DRIVER"));
  if (wanted === "better-sqlite3") {
    const b = loadBetter();
    if ("ok" in b) return { better: b.ok };
    const why = ((b.error as Error)?.message ?? String(b.error)).split("\n")[0];
    throw new SpoolError(
      "STORAGE",
      process.versions.bun === undefined
        ? `the better-sqlite3 driver does not load (${why}): install or rebuild it for this Node (npm install better-sqlite3), or use driver "node:sqlite"`
        : `the better-sqlite3 driver cannot run on Bun (${why}): it is built for Node's V8 API; use driver "bun:sqlite"`,
      { cause: b.error },
    );
  }
  if (wanted === "node:sqlite") {
    const n = loadNodeSqlite();
    if ("ok" in n) return { node: n.ok };
    throw new SpoolError("STORAGE", `driver "node:sqlite" is not available: ${n.error}`);
  }
  if (wanted === "bun:sqlite") {
    const s = loadBunSqlite();
    if ("ok" in s) return { bun: s.ok };
    throw new SpoolError(
      "STORAGE",
      `driver "bun:sqlite" is not available: ${s.error}. On Node use "better-sqlite3" or "node:sqlite"`,
    );
  }
  if (process.versions.bun !== undefined) {
    const s = loadBunSqlite();
    if ("ok" in s) return { bun: s.ok };
  }
  const b = loadBetter();
  if ("ok" in b) return { better: b.ok };
  const n = loadNodeSqlite();
  if ("ok" in n) return { node: n.ok };
  throw new SpoolError(
    "STORAGE",
    `no SQLite driver loads: better-sqlite3 does not (${(b.error as Error)?.message?.split("\n")[0] ?? String(b.error)}), and ${n.error}. Install better-sqlite3 (npm install better-sqlite3), or run on Node 24`,
    { cause: b.error },
  );
}

/**
 * Opens `path` with the chosen driver, with no driver busy wait (the backend retries busy
 * steps asynchronously, so the event loop never blocks on a lock).
 */
export function openConnection(path: string, asked: DriverName | undefined, readOnly = false): Connection {
  const chosen = choose(asked);
  const driver: DriverName =
    "better" in chosen ? "better-sqlite3" : "node" in chosen ? "node:sqlite" : "bun:sqlite";
  const release = claimFile(path, driver);
  let connection: Connection;
  try {
    connection =
      "better" in chosen
        ? new BetterSqliteConnection(new chosen.better(path, { timeout: 0, readonly: readOnly }))
        : "node" in chosen
          ? new NodeSqliteConnection(new chosen.node.DatabaseSync(path, { timeout: 0, readOnly }))
          : openBun(chosen.bun, path, readOnly);
  } catch (error) {
    release();
    throw error;
  }
  const close = connection.close.bind(connection);
  connection.close = () => {
    close();
    release();
  };
  return connection;
}

/** bun:sqlite has no timeout option: its busy timeout is SQLite's default, 0, set again here. */
function openBun(mod: BunSqliteModule, path: string, readOnly: boolean): Connection {
  const db = new mod.Database(
    path,
    readOnly ? { strict: true, readonly: true } : { strict: true, readwrite: true, create: true },
  );
  try {
    db.exec("PRAGMA busy_timeout = 0");
  } catch (error) {
    db.close(true);
    throw error;
  }
  return new BunSqliteConnection(db);
}

/**
 * The files this process has open, by identity (device and inode), with the driver whose SQLite
 * opened them and how many connections. Each driver carries its own copy of the SQLite library,
 * and SQLite's locks are per process: a copy never sees the other's connections, so when the
 * last connection of one copy closes it checkpoints and deletes the -wal file under the other,
 * whose later commits are then lost (sqlite.org/howtocorrupt.html, "multiple copies of SQLite
 * in the same application"). So one process opens a given file through one library only. On
 * Bun, node:sqlite and bun:sqlite are one library (Bun's own SQLite: a write lock taken through
 * one makes the other BUSY, checked on Bun 1.4.5), so they may share a file.
 */
const openFiles = new Map<string, { driver: DriverName; connections: number }>();

/** The SQLite library a driver runs on in this process. */
function library(driver: DriverName): string {
  if (driver === "better-sqlite3") return driver;
  return process.versions.bun === undefined ? driver : "bun";
}

/** Records a connection to `path` through `driver`; STORAGE when another library has it open. */
function claimFile(path: string, driver: DriverName): () => void {
  if (path === ":memory:" || path === "") return () => {};
  let key: string;
  try {
    const { dev, ino } = statSync(path);
    key = `${dev}:${ino}`;
  } catch {
    key = resolvePath(path);
  }
  const held = openFiles.get(key);
  if (held !== undefined && library(held.driver) !== library(driver)) {
    throw new SpoolError(
      "STORAGE",
      `${path} is open in this process through ${held.driver}: a second SQLite library (${driver}) on the same file in one process loses commits. Use one driver per file in a process (other processes may use either)`,
    );
  }
  const entry = held ?? { driver, connections: 0 };
  entry.connections++;
  openFiles.set(key, entry);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--entry.connections === 0) openFiles.delete(key);
  };
}

/** The connection of an application's own better-sqlite3 Database (Spool.open(db)). */
export function wrapBetterDatabase(db: BetterDatabase): Connection {
  return new BetterSqliteConnection(db);
}

// ---------------------------------------------------------------------------------------------
// Errors: better-sqlite3 names the SQLite code (`code: "SQLITE_BUSY_SNAPSHOT"`); node:sqlite
// gives `code: "ERR_SQLITE_ERROR"` and the extended code as a number (`errcode: 517`).

const PRIMARY: readonly string[] = [
  "OK",
  "ERROR",
  "INTERNAL",
  "PERM",
  "ABORT",
  "BUSY",
  "LOCKED",
  "NOMEM",
  "READONLY",
  "INTERRUPT",
  "IOERR",
  "CORRUPT",
  "NOTFOUND",
  "FULL",
  "CANTOPEN",
  "PROTOCOL",
  "EMPTY",
  "SCHEMA",
  "TOOBIG",
  "CONSTRAINT",
  "MISMATCH",
  "MISUSE",
  "NOLFS",
  "AUTH",
  "FORMAT",
  "RANGE",
  "NOTADB",
];

/** The extended codes the backend tells apart (sqlite3.h). */
const EXTENDED: Readonly<Record<number, string>> = {
  261: "BUSY_RECOVERY",
  517: "BUSY_SNAPSHOT",
  773: "BUSY_TIMEOUT",
  262: "LOCKED_SHAREDCACHE",
  518: "LOCKED_VTAB",
  1299: "CONSTRAINT_NOTNULL",
};

/** The SQLite result code of a driver error as better-sqlite3 names it ("SQLITE_BUSY"), or undefined. */
export function sqliteCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errcode?: unknown } | null | undefined;
  const code = e?.code;
  if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  const errcode = e?.errcode;
  if (code !== "ERR_SQLITE_ERROR" || typeof errcode !== "number") return undefined;
  const name = EXTENDED[errcode] ?? PRIMARY[errcode & 0xff];
  return name === undefined ? `SQLITE_ERROR_${errcode}` : `SQLITE_${name}`;
}

/*
 * Opening the `<db>` argument: a SQLite file path or a postgres URL. Commands that only read or
 * repair a database must never create one, and no command may touch a file that is not Spool's,
 * so file targets are checked here before Spool.open sees them (Spool.open also refuses foreign
 * databases, with STORAGE; this check keeps plain-text files from ever reaching SQLite).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Command } from "commander";
import { Spool } from "../index.js";
import { isPostgresTarget, splitSchemaParam } from "../open.js";
import { redactTarget } from "../redact.js";
import type { Durability } from "../types.js";
import { checkName } from "../validate.js";
import { CliError, describeError, UsageError } from "./errors.js";
import { escapeControls } from "./terminal.js";

export interface OpenOptions {
  /** Whether a missing SQLite file may be created (commands that add jobs). */
  create: boolean;
  /** PostgreSQL schema; overrides a `?schema=` in the URL. */
  schema?: string | undefined;
  durability?: Durability;
}

const SQLITE_HEADER = "SQLite format 3\u0000";

/** The target as it may be shown to the user: a URL's password replaced by ***. */
export function showTarget(target: string): string {
  return escapeControls(redactTarget(target));
}

/**
 * A queue name from the command line, checked before any database is opened or created: a
 * typo is bad usage (exit 2) and leaves no file behind.
 */
export function queueArg(name: string): string {
  try {
    return checkName(name);
  } catch (error) {
    throw new UsageError(describeError(error));
  }
}

/** Adds the option every database command shares. */
export function withSchemaOption(command: Command): Command {
  return command.option(
    "--schema <name>",
    "PostgreSQL schema holding Spool's tables (or ?schema= in the URL)",
  );
}

/** Splits `?schema=name` off a postgres URL, since the driver would not understand it. */
function postgresTarget(target: string, schema: string | undefined): { url: string; schema?: string } {
  const split = splitSchemaParam(target);
  if (split === null) {
    throw new UsageError(
      `${showTarget(target)} is not a valid postgres URL; use postgres://user@host:5432/dbname (the password in the URL, or in PGPASSWORD)`,
    );
  }
  // Spool.open checks the name; its INVALID_ARGUMENT becomes a usage error in openTarget.
  const chosen = schema ?? split.schema ?? undefined;
  return chosen === undefined ? { url: split.url } : { url: split.url, schema: chosen };
}

/**
 * Refuses a missing file (unless creating), a directory, and any file that is not SQLite, with
 * words for a terminal. Returns whether the file exists: even commands that add jobs only
 * create new files; installing Spool's tables into an application's existing database is a
 * choice to make in code, not by a mistyped path (Spool.open's `create: false` refuses it).
 */
function checkFile(path: string, create: boolean): boolean {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new CliError(`${path} is a directory, not a Spool database file.`);
    size = stat.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new CliError(`cannot read ${path}: ${describeError(error)}`);
    if (create) return false;
    throw new CliError(
      `no database at ${path}: the file does not exist. Check the path (a postgres URL starts with postgres://); ` +
        "`spool add` or `spool import` create a new database.",
    );
  }
  if (size === 0) {
    if (create) return false;
    throw new CliError(`${path} is an empty file, not a Spool database; it was left untouched.`);
  }
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== SQLITE_HEADER) {
    throw new CliError(`${path} is not a Spool database (it is not an SQLite file); it was left untouched.`);
  }
  return true;
}

export async function openTarget(target: string, options: OpenOptions): Promise<Spool> {
  let where = target;
  // A command line tool never upgrades a store an application runs on (the application, still
  // on the older version, would then refuse to open it): an older store is refused with words.
  const spoolOptions: { durability?: Durability; schema?: string; create: boolean; migrate: boolean } = {
    create: options.create,
    migrate: false,
  };
  if (options.durability !== undefined) spoolOptions.durability = options.durability;
  if (isPostgresTarget(target)) {
    const pg = postgresTarget(target, options.schema);
    where = pg.url;
    if (pg.schema !== undefined) spoolOptions.schema = pg.schema;
  } else {
    if (options.schema !== undefined) throw new UsageError("--schema applies to postgres:// targets only.");
    if (target === "")
      throw new UsageError("the database argument is empty; give a file path or a postgres URL.");
    if (target !== ":memory:" && checkFile(target, options.create)) spoolOptions.create = false;
  }
  try {
    return await Spool.open(where, spoolOptions);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // A malformed option (a schema, a URL the driver refuses to read) is the command line's fault.
    const Kind = code === "INVALID_ARGUMENT" ? UsageError : CliError;
    throw new Kind(`cannot open ${showTarget(target)}: ${describeError(error)}`);
  }
}

/** Opens the target, runs `fn`, and closes it whatever happens. */
export async function withSpool<R>(
  target: string,
  options: OpenOptions,
  fn: (spool: Spool) => Promise<R>,
): Promise<R> {
  const spool = await openTarget(target, options);
  try {
    return await fn(spool);
  } finally {
    await spool.close();
  }
}
